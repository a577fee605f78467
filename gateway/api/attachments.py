"""Attachments: the upload is streamed through to storage unparsed; the download streamed back."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from gateway import policy
from gateway.auth import CurrentUser
from gateway.deps import ServicesDep
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
    policy.require(who, "attachment.read")
    upstream = await services.open_stream("storage", f"/objects/{attachment_id}/content", who)
    headers = {k: v for k, v in upstream.headers.items() if k.lower() in PASSED_HEADERS}
    return StreamingResponse(upstream.aiter_raw(), headers=headers, background=BackgroundTask(upstream.aclose))


@router.get(
    "/deliveries/{delivery_id}/stamped",
    response_class=StreamingResponse,
    responses=problem_responses(401, 403, 404, 422, *UPSTREAM),
)
async def stamped(delivery_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    """The received letter's PDF with the receiving unit's receipt stamp (ตรารับ), for that unit only."""
    policy.require(who, "attachment.read")
    upstream = await services.open_stream("storage", f"/stamped/{delivery_id}", who)
    headers = {k: v for k, v in upstream.headers.items() if k.lower() in PASSED_HEADERS}
    return StreamingResponse(upstream.aiter_raw(), headers=headers, background=BackgroundTask(upstream.aclose))
