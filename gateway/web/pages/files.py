"""Downloads and the few API calls the pages' scripts make. The token stays in its HttpOnly cookie: these
routes add it on the way to the public API and pass the answer back unchanged (status, body, file name).
Attachments and stamped copies are streamed by the API's own download code instead, chunk by chunk."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway import denials
from gateway.api.attachments import attachment_content, stamped_content
from gateway.auth import read_token
from gateway.clients import Services
from gateway.policy import Denied
from gateway.web import session
from gateway.web.client import ApiError, SignInNeeded
from gateway.web.render import CsrfRefused, WebRoute, api
from shared import thai
from shared.contracts import RequestDenied
from shared.principal import Principal
from shared.problems import Problem

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PASSED = ("content-type", "content-disposition", "content-length")


def _passed(upstream) -> Response:
    headers = {k: v for k, v in upstream.headers.items() if k.lower() in PASSED and k.lower() != "content-length"}
    return Response(upstream.content, status_code=upstream.status_code, headers=headers)


async def _relay(request: Request, method: str, path: str, **kwargs) -> Response:
    """The API's answer as it is, errors included, for a script that reads problem+json itself."""
    client = api(request)
    headers = {"Authorization": f"Bearer {client.token}"} if client.token else None
    if headers is None:
        raise SignInNeeded()
    headers |= kwargs.pop("headers", {})
    upstream = await client.http.request(method, "/api/v1" + path, headers=headers, **kwargs)
    if upstream.status_code == 401:
        raise SignInNeeded()
    return _passed(upstream)


@router.get("/files/attachments/{attachment_id}")
async def attachment(request: Request, attachment_id: uuid.UUID) -> Response:
    return await _streamed(request, lambda services, who: attachment_content(services, who, attachment_id))


@router.get("/files/stamped/{delivery_id}")
async def stamped(request: Request, delivery_id: uuid.UUID) -> Response:
    return await _streamed(request, lambda services, who: stamped_content(services, who, delivery_id))


async def _streamed(request: Request, download: Callable[[Services, Principal], Awaitable[Response]]) -> Response:
    """A file streamed from storage by the API's own download code (same checks, same headers). The in-process
    API client would hold the whole body before passing it on, so files do not take that way."""
    who = _signed_in(request)
    try:
        return await download(request.app.state.services, who)
    except Denied as denied:
        await _record_denial(request, denied)
        raise ApiError(denied.status, denied.body()) from None
    except Problem as problem:
        raise ApiError(problem.status, problem.body()) from None


def _signed_in(request: Request) -> Principal:
    """The session's user, checked as the API checks a bearer token."""
    token = session.token(request)
    if not token:
        raise SignInNeeded()
    try:
        return read_token(token, request.app.state.settings.jwt_secret)
    except Problem:
        raise SignInNeeded() from None


async def _record_denial(request: Request, denied: Denied) -> None:
    # What gateway/denials.py does for the API's refusals by role, so the audit log sees this one too.
    event = RequestDenied(action=denied.action, org_id=denied.who.org_id, denied_at=thai.now())
    async with request.app.state.db.transaction() as unit:
        await denials.record(unit, event, actor=denied.who.user)


@router.get("/files/registers/{register}.csv")
async def register_csv(
    request: Request, register: Literal["send", "receive"], year: int | None = None, org_id: uuid.UUID | None = None
) -> Response:
    params = {k: v for k, v in {"year": year, "org_id": org_id, "format": "csv"}.items() if v is not None}
    return _passed(await api(request).request("GET", f"/registers/{register}", params=params))


@router.get("/files/audit/letters/{letter_id}.csv")
async def history_csv(
    request: Request, letter_id: uuid.UUID, table: Literal["events", "recipients"] = "events"
) -> Response:
    params = {"format": "csv", "table": table}
    return _passed(await api(request).request("GET", f"/audit/letters/{letter_id}/history", params=params))


@router.post("/relay/attachments")
async def upload(request: Request) -> Response:
    """The compose page's upload, streamed through to the API so its progress is the real one."""
    await _csrf_header(request)
    headers = {k: request.headers[k] for k in ("content-type", "content-length") if k in request.headers}
    return await _relay(request, "POST", "/attachments", content=request.stream(), headers=headers)


async def _csrf_header(request: Request) -> None:
    # Only the header is read: the body is the upload itself and is not parsed here.
    if not session.csrf_valid(request, request.headers.get(session.CSRF_HEADER)):
        raise CsrfRefused()


AUDIT_PATHS = {"checkpoint", "public-key", "entries", "proofs/inclusion"}


@router.get("/relay/audit/{what:path}")
async def audit(request: Request, what: str) -> Response:
    """What the verifier in the auditor's browser needs: the signed checkpoint, the key, entries and proofs."""
    if what not in AUDIT_PATHS and not _history_path(what):
        return Response(status_code=404)
    params = {k: v for k, v in request.query_params.items() if k in ("start", "end", "index", "tree_size")}
    return await _relay(request, "GET", f"/audit/{what}", params=params)


def _history_path(what: str) -> bool:
    parts = what.split("/")
    if len(parts) != 3 or parts[0] != "letters" or parts[2] != "history":
        return False
    try:
        uuid.UUID(parts[1])
    except ValueError:
        return False
    return True
