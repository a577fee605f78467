"""Attachments: the upload is streamed through to storage unparsed; the download streamed back."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask

from gateway import policy
from gateway.auth import CurrentUser
from gateway.clients import Services
from gateway.deps import ServicesDep
from shared.principal import Principal
from shared.problems import UPSTREAM, Problem, problem_responses

router = APIRouter(tags=["attachments"])

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


class AttachmentMeta(BaseModel):
    id: uuid.UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    flags: list[str]  # risky PDF features found on upload: encrypted, script, ...
    pages: int | None  # a PDF's page count; None for other files and PDFs that could not be read


PASSED_HEADERS = (
    "content-type",
    "content-length",
    "content-disposition",
    "etag",
    "x-content-type-options",
    "content-security-policy",
)


@router.post(
    "/attachments",
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    responses=problem_responses(400, 401, 403, 413, 415, 422, *UPSTREAM),
)
async def upload(request: Request, who: CurrentUser, services: ServicesDep):
    policy.require(who, "attachment.upload")
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise Problem(422, "ต้องส่งไฟล์แบบ multipart/form-data ในช่อง file (send the file as multipart field 'file')")
    limit = request.app.state.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:  # room for multipart framing
        raise Problem(413, f"ไฟล์ใหญ่เกิน {limit // (1024 * 1024)} MB (file too large)")
    return await services.json(
        "storage", "POST", "/objects", who, content=request.stream(), headers={"content-type": content_type}
    )


@router.get(
    "/attachments/{attachment_id}/content",
    response_class=StreamingResponse,
    responses=problem_responses(401, 403, 404, 422, *UPSTREAM),
)
async def download(attachment_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    return await attachment_content(services, who, attachment_id)


async def attachment_content(services: Services, who: Principal, attachment_id: uuid.UUID) -> StreamingResponse:
    """The attachment's bytes as storage streams them; the web pages' download uses this too, so both make the
    same checks and send the same headers."""
    policy.require(who, "attachment.read")
    return await object_content(services, who, attachment_id)


async def object_content(services: Services, who: Principal, object_id: uuid.UUID) -> StreamingResponse:
    """A stored object's bytes for a caller whose action was allowed already (a signed letter's PDF, read by
    those on its draft's line); storage still checks that the caller's unit may read it."""
    return await _streamed(services, who, f"/objects/{object_id}/content")


async def stamped_content(services: Services, who: Principal, delivery_id: uuid.UUID) -> StreamingResponse:
    policy.require(who, "attachment.read")
    return await _streamed(services, who, f"/stamped/{delivery_id}")


async def _streamed(services: Services, who: Principal, path: str) -> StreamingResponse:
    # Chunk by chunk from storage to the client: a large file is never held whole in the gateway.
    upstream = await services.open_stream("storage", path, who)
    headers = {k: v for k, v in upstream.headers.items() if k.lower() in PASSED_HEADERS}
    return StreamingResponse(upstream.aiter_raw(), headers=headers, background=BackgroundTask(upstream.aclose))


@router.get(
    "/attachments/{attachment_id}/meta",
    response_model=AttachmentMeta,
    responses=problem_responses(401, 403, 404, 422, *UPSTREAM),
)
async def metadata(attachment_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    """Name, size, type, SHA-256, risky PDF features and page count, without the bytes; visible to exactly
    those who may download the file (the uploader's unit, the letter's recipients, cleared users)."""
    policy.require(who, "attachment.read")
    return await services.json("storage", "GET", f"/objects/{attachment_id}", who)


@router.get(
    "/deliveries/{delivery_id}/stamped",
    response_class=StreamingResponse,
    responses=problem_responses(401, 403, 404, 422, *UPSTREAM),
)
async def stamped(delivery_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    """The received letter's PDF with the receiving unit's receipt stamp (ตรารับ), for that unit only."""
    return await stamped_content(services, who, delivery_id)
