"""RFC 9457 problem details: the one shape of every error answer, Thai first."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("sarabun.problems")

PROBLEM_JSON = "application/problem+json"

TITLES = {
    400: "คำขอไม่ถูกต้อง (Bad request)",
    401: "ต้องเข้าสู่ระบบ (Unauthorized)",
    403: "ไม่มีสิทธิ์ (Forbidden)",
    404: "ไม่พบ (Not found)",
    405: "ไม่รองรับวิธีนี้ (Method not allowed)",
    409: "สถานะขัดแย้ง (Conflict)",
    413: "ไฟล์ใหญ่เกินไป (Payload too large)",
    415: "ไม่รับไฟล์ชนิดนี้ (Unsupported media type)",
    422: "ข้อมูลไม่ถูกต้อง (Invalid input)",
    429: "ส่งคำขอถี่เกินไป (Too many requests)",
    500: "ระบบขัดข้อง (Internal error)",
    502: "บริการปลายทางขัดข้อง (Bad gateway)",
    503: "บริการไม่พร้อม (Service unavailable)",
}


# The framework's own English details, said Thai first like every other answer.
FRAMEWORK_DETAILS = {
    "There was an error parsing the body": "อ่านเนื้อหาคำขอไม่ได้ (There was an error parsing the body)",
}


class Problem(Exception):
    """An error answer a caller can act on. Raise it anywhere; the app turns it into problem+json."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list | None = None,
        headers: dict | None = None,
        type: str = "about:blank",
    ):
        super().__init__(detail)
        self.type = type  # a URI naming this kind of problem, when a client must tell it from others
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers

    def body(self) -> dict:
        body = {
            "type": self.type,
            "title": TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = self.errors
        return body


# The shape of every error answer in the OpenAPI description (RFC 9457; `errors` only on refused input).
PROBLEM_SCHEMA = {
    "title": "Problem",
    "description": "RFC 9457 problem details; title and detail in Thai first, English in brackets",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference", "examples": ["about:blank"]},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "what is wrong with the input, one item per field",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": ["string", "null"]}, "message": {"type": "string"}},
            },
        },
    },
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# The gateway answers these when a service it calls fails (502) or cannot be reached (503).
UPSTREAM = (502, 503)


def problem_responses(*statuses: int) -> dict[int, dict]:
    """The `responses=` of a route that can answer these error statuses, each as application/problem+json,
    so that the OpenAPI description (and whatever checks answers against it) knows the error bodies too."""
    responses = {}
    for status in sorted(set(statuses)):
        response = {"description": TITLES[status], "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}
        if status == 429:
            retry = {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}
            response["headers"] = {"Retry-After": retry}
        responses[status] = response
    return responses


def not_found(what: str = "รายการ") -> Problem:
    return Problem(404, f"ไม่พบ{what} หรือไม่อยู่ในขอบเขตของหน่วยงานท่าน (not found)")


def problem_response(problem: Problem) -> JSONResponse:
    return JSONResponse(problem.body(), status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers)


def _validation_errors(exc: RequestValidationError) -> list[dict]:
    errors = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            errors.append({"field": None, "message": "JSON ไม่ถูกต้อง (malformed JSON body)"})
            continue
        # The first part says where the value was (the body, the query, ...); a field may be called `body` too.
        loc = list(err.get("loc", ()))
        if loc and loc[0] in ("body", "query", "path", "form"):
            loc = loc[1:]
        loc = [str(part) for part in loc]
        errors.append({"field": ".".join(loc) or None, "message": err.get("msg", "invalid")})
    return errors


def _publish_problem_schema(app: FastAPI) -> None:
    """Routes refer to the Problem schema (see problem_responses); the app's OpenAPI components carry it."""
    generate = app.openapi

    def openapi() -> dict:
        description = generate()
        description.setdefault("components", {}).setdefault("schemas", {}).setdefault("Problem", PROBLEM_SCHEMA)
        return description

    app.openapi = openapi


def install(app: FastAPI) -> None:
    _publish_problem_schema(app)

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem):
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError):
        errors = _validation_errors(exc)
        fields = ", ".join(e["field"] for e in errors if e["field"]) or "คำขอ"
        return problem_response(Problem(422, f"ข้อมูลไม่ถูกต้อง: {fields} (invalid input)", errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
        detail = FRAMEWORK_DETAILS.get(detail, detail)
        return problem_response(Problem(exc.status_code, detail, headers=getattr(exc, "headers", None)))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(Problem(500, "ระบบขัดข้อง โปรดลองใหม่ภายหลัง (internal error)"))
