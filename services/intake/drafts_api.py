"""Intake's internal HTTP routes for drafts (called by the gateway only, with a principal token). Every answer
about a draft is a DraftView (see `draft_view`); dispatch answers the letter, as POST /letters does."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Request
from pydantic import StringConstraints

from services.intake import drafting
from services.intake.api import letter_view
from services.intake.domain.drafts import RETURNED, line_states
from shared.paging import decode_cursor, encode_cursor
from shared.principal import CurrentPrincipal
from shared.problems import Problem
from shared.schemas import IDEMPOTENCY_KEY, DraftRequest, ReasonRequest, SignedRequest, SignRequest

router = APIRouter()

Box = Literal["mine", "to_review", "to_sign", "to_dispatch"]
Username = Annotated[str, StringConstraints(min_length=1, max_length=100)]
# The signers the caller may sign for today, from delegations the gateway has checked (`?for=a&for=b`).
SignsFor = Annotated[list[Username], Query(alias="for", max_length=50)]


def _db(request: Request):
    return request.app.state.db


def draft_view(draft: dict) -> dict:
    """A draft as its readers see it: the current version's fields, the line with each person's state
    (waiting | current | endorsed | returned | signed), its versions and its history."""
    history = draft["history"]
    returned_by = None
    if draft["status"] == RETURNED:
        returned_by = next((step["actor"] for step in reversed(history) if step["type"] == "returned"), None)
    reviewer_states, signer_state = line_states(drafting.state_of(draft), returned_by)
    return {
        **_summary(draft),
        "fields": draft["fields"],
        "reviewers": [{**r, "state": s} for r, s in zip(draft["reviewers"], reviewer_states, strict=True)],
        "signer": {**draft["signer"], "state": signer_state},
        "versions": draft["versions"],
        "history": [_step(step) for step in history],
    }


def _summary(draft: dict) -> dict:
    fields = draft["fields"]
    return {
        "id": draft["id"],
        "org_id": draft["org_id"],
        "org_name": draft["org_name"],
        "register_org_id": draft["register_org_id"],
        "author": draft["author"],
        "status": draft["status"],
        "version": draft["version"],
        "current": draft["current_username"],
        "type": fields["type"],
        "subject": fields["subject"],
        "urgency": fields["urgency"],
        "secrecy": fields["secrecy"],
        "circular": fields["circular"],
        "signer": draft["signer"],
        "doc_no": draft["doc_no"],
        "doc_date": draft["doc_date"],
        "signed_by": draft["signed_by"],
        "signed_at": draft["signed_at"],
        "on_behalf_of": draft["on_behalf_of"],
        "delegation_kind": draft["delegation_kind"],
        "delegation_id": draft["delegation_id"],
        "letter_id": draft["letter_id"],
        "letter_status": draft["letter_status"],
        "signed_pdf_id": draft["signed_pdf_id"],
        "signed_pdf_sha256": draft["signed_pdf_sha256"],
        "created_at": draft["created_at"],
        "updated_at": draft["updated_at"],
    }


def _step(step: dict) -> dict:
    shown = {"type": step["type"], "actor": step["actor"], "at": step["at"], "version": step["version"]}
    return shown | ({"reason": step["reason"]} if step["reason"] else {})


@router.post("/drafts", status_code=201)
async def create_draft(
    body: DraftRequest,
    request: Request,
    who: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(pattern=IDEMPOTENCY_KEY)] = None,
):
    return draft_view(await drafting.create_draft(_db(request), body, who, idempotency_key))


@router.get("/drafts")
async def drafts_in_box(
    request: Request,
    who: CurrentPrincipal,
    box: Box,
    signs_for: SignsFor = [],  # noqa: B006 - FastAPI copies a query default; it is never mutated
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
):
    after = decode_cursor(cursor, 2)
    if after:
        try:
            after = (datetime.fromisoformat(after[0]), uuid.UUID(after[1]))
        except (TypeError, ValueError) as exc:
            raise Problem(422, "cursor ไม่ถูกต้อง ใช้ค่า next_cursor จากหน้าก่อน (invalid cursor)") from exc
    rows = await drafting.drafts_in_box(_db(request), who, box, signs_for, after, limit)
    last = rows[-1] if len(rows) == limit else None
    next_cursor = encode_cursor(last["updated_at"].isoformat(), last["id"]) if last else None
    return {"items": [_summary(row) for row in rows], "next_cursor": next_cursor}


@router.get("/drafts/{draft_id}")
async def get_draft(draft_id: uuid.UUID, request: Request, who: CurrentPrincipal, signs_for: SignsFor = []):  # noqa: B006
    return draft_view(await drafting.get_draft(_db(request), draft_id, who, signs_for))


@router.put("/drafts/{draft_id}")
async def edit_draft(draft_id: uuid.UUID, body: DraftRequest, request: Request, who: CurrentPrincipal):
    return draft_view(await drafting.edit_draft(_db(request), draft_id, body, who))


@router.get("/drafts/{draft_id}/versions/{version}")
async def get_version(
    draft_id: uuid.UUID,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    request: Request,
    who: CurrentPrincipal,
    signs_for: SignsFor = [],  # noqa: B006
):
    found = await drafting.get_version(_db(request), draft_id, version, who, signs_for)
    return {k: found[k] for k in ("version", "fields", "created_by", "created_at")}


@router.post("/drafts/{draft_id}/propose")
async def propose(draft_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    return draft_view(await drafting.move(_db(request), draft_id, "propose", who))


@router.post("/drafts/{draft_id}/endorse")
async def endorse(draft_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    return draft_view(await drafting.move(_db(request), draft_id, "endorse", who))


@router.post("/drafts/{draft_id}/return")
async def return_draft(draft_id: uuid.UUID, body: ReasonRequest, request: Request, who: CurrentPrincipal):
    return draft_view(await drafting.move(_db(request), draft_id, "return", who, body.reason))


@router.post("/drafts/{draft_id}/recall")
async def recall(draft_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    return draft_view(await drafting.move(_db(request), draft_id, "recall", who))


@router.post("/drafts/{draft_id}/sign")
async def sign(draft_id: uuid.UUID, request: Request, who: CurrentPrincipal, body: SignRequest | None = None):
    return draft_view(await drafting.sign(_db(request), draft_id, body or SignRequest(), who))


@router.post("/drafts/{draft_id}/signed")
async def signed(draft_id: uuid.UUID, body: SignedRequest, request: Request, who: CurrentPrincipal):
    draft = await drafting.record_signed(_db(request), draft_id, body, who)
    if request.app.state.dispatch_on_signing and draft["status"] == "signed":
        draft = await drafting.dispatch_on_signing(_db(request), draft_id, who)
    return draft_view(draft)


@router.post("/drafts/{draft_id}/dispatch")
async def dispatch(draft_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    return letter_view(await drafting.dispatch(_db(request), draft_id, who))
