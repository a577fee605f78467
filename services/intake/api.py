"""Intake's internal HTTP routes (called by the gateway only, with a principal token)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request

from services.intake import service
from shared import thai
from shared.paging import decode_cursor, encode_cursor
from shared.principal import CurrentPrincipal, Principal, visible_subject
from shared.problems import Problem
from shared.registers import PAGE_MAX, NextNumberRequest, check_year, decode_register_cursor
from shared.schemas import IDEMPOTENCY_KEY, ReasonRequest, SendLetterRequest
from shared.thai import clean

router = APIRouter()


def _db(request: Request):
    return request.app.state.db


def _listed(letter: dict, who: Principal) -> dict:
    """In a list, a classified letter shows its level and number; subject and body only to cleared users."""
    if who.cleared_for(letter["secrecy"]):
        return letter_view(letter)
    return {**letter_view(letter), "subject": visible_subject(who, letter["subject"], letter["secrecy"]), "body": ""}


def letter_view(letter: dict) -> dict:
    """A letter as intake answers it: as sent, and as dispatched after signing."""
    return {
        "id": letter["id"],
        "doc_no": letter["doc_no"],
        "register_no": letter["register_no"],
        "register_year": letter["register_year"],
        "type": letter["letter_type"],
        "subject": letter["subject"],
        "body": letter["body"],
        "sender_org_id": letter["sender_org_id"],
        "circular": letter["circular"],
        "urgency": letter["urgency"],
        "secrecy": letter["secrecy"],
        "attachment_ids": letter["attachment_ids"],
        "reference_letter_ids": letter["reference_letter_ids"],
        "salutation": letter["salutation"],
        "signer_name": letter["signer_name"],
        "signer_position": letter["signer_position"],
        "status": letter["status"],
        "sent_at": letter["sent_at"],
        "sent_by": letter["sent_by"],
        "doc_date": letter["doc_date"],
        "date_th": thai.date_th(letter["doc_date"]) if letter["doc_date"] else None,
        "deliver_by": letter["deliver_by"],
        **(letter["details"] or {}),
        "cancelled_at": letter["cancelled_at"],
        "cancel_reason": letter["cancel_reason"],
        "deliveries": letter["deliveries"],
    }


@router.post("/letters", status_code=201)
async def send_letter(
    body: SendLetterRequest,
    request: Request,
    who: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(pattern=IDEMPOTENCY_KEY)] = None,
):
    letter = service.new_letter(body)
    return letter_view(await service.send_letter(_db(request), letter, who, idempotency_key))


@router.get("/letters/{letter_id}")
async def get_letter(letter_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    return letter_view(await service.view_letter(_db(request), letter_id, who))


@router.get("/letters")
async def sent_letters(
    request: Request,
    who: CurrentPrincipal,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    q: Annotated[str | None, Query(max_length=200)] = None,
):
    after = decode_cursor(cursor, 2)
    if after:
        try:
            after = (datetime.fromisoformat(after[0]), uuid.UUID(after[1]))
        except (TypeError, ValueError) as exc:
            raise Problem(422, "cursor ไม่ถูกต้อง ใช้ค่า next_cursor จากหน้าก่อน (invalid cursor)") from exc
    rows = await service.sent_letters(_db(request), who, after, limit, clean(q) if q else None)
    next_cursor = encode_cursor(rows[-1]["sent_at"].isoformat(), rows[-1]["id"]) if len(rows) == limit else None
    return {"items": [_listed(r, who) for r in rows], "next_cursor": next_cursor}


@router.post("/letters/{letter_id}/cancel")
async def cancel_letter(letter_id: uuid.UUID, body: ReasonRequest, request: Request, who: CurrentPrincipal):
    return letter_view(await service.cancel_letter(_db(request), letter_id, body.reason, who))


# ทะเบียนหนังสือส่ง: the send register, read per unit and year; where its numbering continues.


@router.get("/registers/send")
async def send_register(
    request: Request,
    who: CurrentPrincipal,
    org_id: uuid.UUID,
    year: int,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
):
    check_year(year)
    after = decode_register_cursor(cursor, int, str)
    rows = await service.send_register(_db(request), who, org_id, year, tuple(after) if after else None, limit)
    next_cursor = encode_cursor(rows[-1]["register_no"], rows[-1]["register"]) if len(rows) == limit else None
    return {"items": rows, "next_cursor": next_cursor}


@router.put("/registers/send/next-number")
async def set_send_next_number(body: NextNumberRequest, request: Request, who: CurrentPrincipal):
    return await service.set_send_next_number(_db(request), who, body)
