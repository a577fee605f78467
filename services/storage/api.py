"""Storage's internal HTTP routes (called by the gateway only, with a principal token)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import ClientDisconnect

from services.storage import service
from services.storage.domain.attachments import DOWNLOAD_HEADERS, PDF, content_disposition, stamped_filename
from shared.principal import CurrentPrincipal
from shared.problems import Problem

router = APIRouter()


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # As many as a letter may carry (shared.schemas.SendLetterRequest.attachment_ids).
    ids: Annotated[list[uuid.UUID], Field(max_length=100)]


def _db(request: Request):
    return request.app.state.db


def _store(request: Request):
    return request.app.state.store


def _view(attachment: dict) -> dict:
    return {
        "id": attachment["id"],
        "filename": attachment["filename"],
        "content_type": attachment["content_type"],
        "size": attachment["size"],
        "sha256": attachment["sha256"],
        "flags": attachment.get("flags") or [],
        "pages": attachment.get("pages"),
    }


@router.post("/objects", status_code=201)
async def upload(request: Request, who: CurrentPrincipal):
    # The body is read here as a stream, not as a FastAPI form: a form would be parsed whole before the
    # size limit could be applied.
    try:
        attachment = await service.store_attachment(
            _db(request),
            _store(request),
            request.stream(),
            request.headers.get("content-type", ""),
            who,
            request.app.state.upload_policy,
        )
    except ClientDisconnect:
        raise Problem(400, "การอัปโหลดถูกตัดกลางทาง (upload interrupted)") from None
    return _view(attachment)


@router.post("/objects/check")
async def check(body: CheckRequest, request: Request, who: CurrentPrincipal):
    await service.check_owned(_db(request), body.ids, who)
    return {"ok": True}


@router.get("/objects/{attachment_id}")
async def metadata(attachment_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    return _view(await service.get_attachment(_db(request), attachment_id, who))


@router.get("/objects/{attachment_id}/content")
async def content(attachment_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    attachment, chunks = await service.open_content(_db(request), _store(request), attachment_id, who)
    return StreamingResponse(
        chunks,
        media_type=attachment["content_type"],
        headers={
            "Content-Disposition": content_disposition(attachment["filename"]),
            "Content-Length": str(attachment["size"]),
            "ETag": f'"{attachment["sha256"]}"',  # the content never changes under an id
            # The type was checked on the way in; browsers must not guess another one, nor run anything.
            **DOWNLOAD_HEADERS,
        },
    )


@router.get("/stamped/{delivery_id}")
async def stamped(delivery_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    """The copy of a received delivery's first PDF with the receipt stamp (ตรารับ), for the receiving unit."""
    copy, chunks = await service.open_stamped(_db(request), _store(request), delivery_id, who)
    return StreamingResponse(
        chunks,
        media_type=PDF,
        headers={
            "Content-Disposition": content_disposition(stamped_filename(copy["filename"])),
            "Content-Length": str(copy["size"]),
            "ETag": f'"{copy["sha256"]}"',  # rendered once per delivery and attachment, never changed after
            **DOWNLOAD_HEADERS,
        },
    )
