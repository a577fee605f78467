"""Storage's internal HTTP routes (called by the gateway only, with a principal token)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import ClientDisconnect

from services.storage import service
from services.storage.domain import layout
from services.storage.domain.attachments import DOWNLOAD_HEADERS, PDF, content_disposition, stamped_filename
from services.storage.domain.signing import Appearance
from shared import thai
from shared.contracts import LetterType, Secrecy, Urgency
from shared.principal import CurrentPrincipal
from shared.problems import Problem
from shared.schemas import Contact, Moment, Reference, Text

router = APIRouter()


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # As many as a letter may carry (shared.schemas.SendLetterRequest.attachment_ids).
    ids: Annotated[list[uuid.UUID], Field(max_length=100)]


class RenderFields(BaseModel):
    """The parts of a letter that show on its page, named as in a letter or draft (shared.schemas). The letter's
    other fields (recipients, attachments, the proposal line, ...) may come along and are left out."""

    model_config = ConfigDict(extra="ignore")

    type: LetterType = "external"
    subject: Annotated[Text, Field(max_length=1000)] = ""
    body: Annotated[Text, Field(max_length=100_000)] = ""
    salutation: Annotated[Text, Field(max_length=500)] = ""
    to_text: Annotated[Text, Field(max_length=500)] = ""
    references: Annotated[list[Reference], Field(max_length=20)] = []
    enclosures: Annotated[list[Annotated[Text, Field(max_length=500)]], Field(max_length=50)] = []
    closing: Annotated[Text, Field(max_length=200)] = ""
    signer_name: Annotated[Text, Field(max_length=300)] = ""
    signer_position: Annotated[Text, Field(max_length=300)] = ""
    org_name: Annotated[Text, Field(max_length=300)] = ""  # a draft keeps its unit's name with its fields
    owning_unit: Annotated[Text, Field(max_length=300)] = ""
    contact: Contact = Contact()
    urgency: Urgency = "normal"
    secrecy: Secrecy = "normal"
    deliver_by: Moment | None = None


class SignatureBlock(BaseModel):
    """Who signs, as printed under the signature: name, position, and for whom (ปฏิบัติราชการแทน ...)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text, Field(max_length=300)] = ""
    position: Annotated[Text, Field(max_length=300)] = ""
    on_behalf_text: Annotated[Text, Field(max_length=300)] = ""


class RenderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: RenderFields
    org_name: Annotated[Text, Field(max_length=300)] = ""  # ส่วนราชการเจ้าของหนังสือ
    doc_no: Annotated[Text, Field(max_length=100)] | None = None  # none on a draft: ที่ is left blank
    doc_date: date | None = None
    signature: SignatureBlock = SignatureBlock()

    def letter(self) -> layout.Letter:
        fields = self.fields
        return layout.Letter(
            letter_type=fields.type,
            org_name=self.org_name or fields.org_name,
            subject=fields.subject,
            body=fields.body,
            salutation=fields.salutation,
            to_text=fields.to_text,
            references=tuple(layout.Reference(r.doc_no, r.doc_date, r.subject) for r in fields.references),
            enclosures=tuple(e for e in fields.enclosures if e),
            closing=fields.closing,
            signer_name=self.signature.name or fields.signer_name,
            signer_position=self.signature.position or fields.signer_position,
            on_behalf_text=self.signature.on_behalf_text,
            owning_unit=fields.owning_unit,
            phone=fields.contact.phone,
            email=fields.contact.email,
            urgency=fields.urgency,
            secrecy=fields.secrecy,
            deliver_by=fields.deliver_by,
            doc_no=self.doc_no or None,
            doc_date=self.doc_date,
            created_at=thai.now(),
        )


class SignedPdfRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    render: RenderRequest
    owner_org_id: uuid.UUID  # the unit the signed PDF belongs to: the letter's sender
    # Units that may read it before it is sent besides the owner and the signer's own: its registry.
    reader_org_ids: list[uuid.UUID] = Field(default_factory=list, max_length=10)


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


@router.post("/render", response_class=Response, responses={200: {"content": {PDF: {}}}})
async def render(body: RenderRequest, request: Request, who: CurrentPrincipal):
    """The letter in its official layout as a PDF, not stored (a draft's preview)."""
    pdf = await service.render(request.app.state.signing, body.letter())
    # Shown in the drafting page's preview, so not sandboxed as downloads are; never cached, drafts change.
    return Response(pdf, media_type=PDF, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.post("/drafts/{draft_id}/signed-pdf")
async def signed_pdf(draft_id: uuid.UUID, body: SignedPdfRequest, request: Request, who: CurrentPrincipal):
    """Signs the draft's letter with the caller's key and keeps it as an attachment of `owner_org_id`."""
    letter = body.render.letter()
    appearance = Appearance(
        name=letter.signer_name,
        position=letter.signer_position,
        on_behalf_text=letter.on_behalf_text,
        signed_at=letter.created_at or thai.now(),
    )
    return await service.sign_draft(
        _db(request),
        _store(request),
        request.app.state.signing,
        draft_id,
        letter,
        appearance,
        (body.owner_org_id, *body.reader_org_ids),
        who,
    )


@router.get("/letters/{letter_id}/signatures")
async def signatures(letter_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    """What verification found, when the letter was sent, about each signature in its PDFs."""
    return await service.letter_signatures(_db(request), letter_id, who)
