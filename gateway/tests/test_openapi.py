"""The published OpenAPI describes the error answers as well as the successes: every error status a route
declares is application/problem+json with the Problem schema, so clients and the schemathesis fuzz
(tests/fuzz) check error bodies too."""

import pytest
from jsonschema import Draft202012Validator

from services.launcher import embedded
from shared.problems import PROBLEM_JSON, PROBLEM_REF, PROBLEM_SCHEMA, Problem
from shared.settings import Settings


@pytest.fixture
def description(tmp_path) -> dict:
    return embedded(Settings(demo=True, data_dir=tmp_path)).app.openapi()


def _operations(description: dict):
    for path, item in description["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation["responses"]


def test_every_error_a_route_declares_is_problem_json(description):
    assert description["components"]["schemas"]["Problem"] == PROBLEM_SCHEMA
    for label, responses in _operations(description):
        assert "401" in responses, f"{label} does not declare 401"  # every route can refuse a missing token
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert response["content"] == {PROBLEM_JSON: {"schema": PROBLEM_REF}}, f"{label} {status}"


def test_nothing_refers_to_the_frameworks_own_validation_error(description):
    assert "HTTPValidationError" not in description["components"]["schemas"]


@pytest.mark.parametrize(
    "problem",
    [
        Problem(404, "ไม่พบหนังสือ (not found)"),
        Problem(422, "ข้อมูลไม่ถูกต้อง (invalid input)", errors=[{"field": None, "message": "JSON ไม่ถูกต้อง"}]),
        Problem(429, "โปรดลองใหม่ (too many failed sign-ins)", headers={"Retry-After": "60"}),
    ],
)
def test_the_schema_describes_the_bodies_the_app_answers_with(problem):
    Draft202012Validator(PROBLEM_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(problem.body())
