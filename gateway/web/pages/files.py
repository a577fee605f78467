"""Downloads and the few API calls the pages' scripts make. The token stays in its HttpOnly cookie: these
routes add it on the way to the public API and pass the answer back unchanged (status, body, file name)."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.web import session
from gateway.web.client import SignInNeeded
from gateway.web.render import CsrfRefused, WebRoute, api

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
    return _passed(await api(request).request("GET", f"/attachments/{attachment_id}/content"))


@router.get("/files/stamped/{delivery_id}")
async def stamped(request: Request, delivery_id: uuid.UUID) -> Response:
    return _passed(await api(request).request("GET", f"/deliveries/{delivery_id}/stamped"))


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
