"""Schemathesis over the gateway's published OpenAPI: every operation, valid and invalid input, as each role.
No answer may be a 5xx; every status and content type must be one the operation declares, and the body must
match its schema, error answers (application/problem+json, the Problem schema) as well as successes.

Each test gets a fresh embedded deployment (SQLite in a temporary folder, demo users) run by the app's lifespan,
which schemathesis starts on its own event loop with the test's first request and ends with the test. The lifespan
signs in the roles and leaves real objects (an upload, a received and an unreceived letter) whose ids the
generated paths and bodies use some of the time. SARABUN_FUZZ_EXAMPLES=200 searches longer."""

from __future__ import annotations

import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.launcher import embedded
from shared import thai
from shared.settings import Settings
from tests.e2e.helpers import PDF, eventually, inbox_item, login, org_ids

ROLES = ("ops.clerk", "cgd.clerk", "auditor", "admin")
# Per operation and role; CI keeps the default so the suite stays within a few minutes on two cores.
EXAMPLES = int(os.environ.get("SARABUN_FUZZ_EXAMPLES", "25"))
# The declared statuses and content types are checked too, so that a route answering an error its OpenAPI
# does not declare (and whose body would then go unchecked) fails here.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


class Sarabun:
    """The gateway of an embedded deployment as an ASGI app. Each lifespan builds a fresh deployment in its own
    folder, starts it, signs in the roles and leaves some real objects; shutdown stops it. (Schemathesis starts
    the lifespan on its own event loop with the first request of a test and ends it when the test ends.)"""

    def __init__(self, folders):
        self.folders = folders
        self.deployment = None
        self.headers: dict[str, dict] = {}
        self.ids: dict[str, list[str]] = {}
        self.lists: dict[str, list[str]] = {}

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self.deployment.app(scope, receive, send)

    async def _lifespan(self, receive, send) -> None:
        await receive()  # lifespan.startup
        self.headers, self.ids, self.lists = {}, {}, {}
        try:
            settings = Settings(demo=True, data_dir=self.folders.mktemp("fuzz"), consumer_retry_seconds=0.05)
            self.deployment = embedded(settings)
            await self.deployment.start()
            transport = httpx.ASGITransport(app=self.deployment.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://sarabun") as client:
                await self._seed(client)
        except Exception as exc:
            await send({"type": "lifespan.startup.failed", "message": repr(exc)})
            raise
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        await self.deployment.stop()
        await send({"type": "lifespan.shutdown.complete"})

    async def _seed(self, client: httpx.AsyncClient) -> None:
        for role in ROLES:
            self.headers[role] = await login(client, role)
        ops, cgd = self.headers["ops.clerk"], self.headers["cgd.clerk"]
        orgs = await org_ids(client, ops)
        upload = await client.post(
            "/api/v1/attachments", headers=ops, files={"file": ("หนังสือ.pdf", PDF, "application/pdf")}
        )
        assert upload.status_code == 201, upload.text
        letters = []
        for subject in ("หนังสือที่ลงรับแล้ว", "หนังสือที่ยังไม่ลงรับ"):
            body = {
                "type": "external",
                "subject": subject,
                "recipient_org_ids": [orgs["cgd"]],
                "attachment_ids": [upload.json()["id"]],
            }
            sent = await client.post("/api/v1/letters", headers=ops, json=body)
            assert sent.status_code == 201, sent.text
            letters.append(sent.json()["id"])
        items = [await eventually(lambda letter=letter: inbox_item(client, cgd, letter)) for letter in letters]
        received = await client.post(f"/api/v1/deliveries/{items[0]['delivery_id']}/receive", headers=cgd)
        assert received.status_code == 200, received.text
        groups = (await client.get("/api/v1/groups", headers=ops)).json()
        draft = await client.post(
            "/api/v1/drafts",
            headers=ops,
            json={"type": "external", "subject": "ร่างหนังสือ", "body": "ข้อความ", "recipient_org_ids": [orgs["cgd"]],
                  "signer": "cgd.dg"},
        )  # fmt: skip
        assert draft.status_code == 201, draft.text
        today = thai.today().isoformat()
        delegation = await client.post(
            "/api/v1/delegations",
            headers=self.headers["admin"],
            json={"from_username": "cgd.dg", "to_username": "cgd.deputy", "org_key": "cgd", "kind": "delegated",
                  "valid_from": today, "valid_to": today},
        )  # fmt: skip
        assert delegation.status_code == 201, delegation.text
        self.ids = dict(
            letter_id=letters,
            delivery_id=[item["delivery_id"] for item in items],
            attachment_id=[upload.json()["id"]],
            register=["send", "receive"],
            draft_id=[draft.json()["id"]],
            version=[1],
            delegation_id=[delegation.json()["id"]],
        )
        # Lists in request bodies that name real things: recipients, copies, groups, attachments, references.
        self.lists = {
            "recipient_org_ids": [orgs["cgd"], orgs["rd"]],
            "cc_org_ids": [orgs["td"]],
            "recipient_group_ids": [groups[0]["id"]],
            "attachment_ids": [upload.json()["id"]],
            "reference_letter_ids": letters[:1],
        }


@pytest.fixture(scope="module")
def sarabun(tmp_path_factory):
    return Sarabun(tmp_path_factory)


@pytest.fixture(scope="module")
def api_schema(sarabun):
    loaded = schemathesis.openapi.from_asgi("/openapi.json", sarabun)

    @loaded.hook
    def flatmap_path_parameters(context, path_parameters):
        # Half of the time an id the fuzzer made up, half of the time one that exists.
        if not isinstance(path_parameters, dict):
            return st.just(path_parameters)
        return st.fixed_dictionaries(
            {name: st.sampled_from([value, *sarabun.ids.get(name, ())]) for name, value in path_parameters.items()}
        )

    @loaded.hook
    def flatmap_body(context, body):
        # Lists of ids as generated, empty, or naming things that exist, so that some letters are really sent.
        if not isinstance(body, dict):
            return st.just(body)
        real = sarabun.lists
        present = {
            name: st.sampled_from([value, [], real[name]]) if name in real else st.just(value)
            for name, value in body.items()
        }
        # A letter's optional lists, when the generator left them out.
        missing = {name: st.just(ids) for name, ids in real.items() if "subject" in body and name not in body}
        return st.fixed_dictionaries(present, optional=missing)

    yield loaded
    shutdown_lifespans()


@pytest.mark.parametrize("role", ROLES)
def test_no_server_errors_and_answers_match_the_schema(api_schema, sarabun, role, subtests):
    # The first request starts this test's deployment; the fuzzing then knows its tokens and ids.
    assert api_schema["/api/v1/orgs"]["GET"].Case().call().status_code == 401
    assert set(sarabun.ids) == {
        "letter_id",
        "delivery_id",
        "attachment_id",
        "register",
        "draft_id",
        "version",
        "delegation_id",
    }
    headers = sarabun.headers[role]
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20, "the gateway publishes fewer operations than expected"
    for operation in operations:
        with subtests.test(msg=operation.label):
            strategy = st.one_of(
                operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
            )

            @given(case=strategy)
            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
            )
            def fuzz(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            fuzz()
