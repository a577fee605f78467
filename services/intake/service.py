"""Intake's use cases, each one unit of work: send a letter, read letters."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict

from sqlalchemy.exc import IntegrityError

from services.intake.adapters import tables
from services.intake.adapters.repository import LetterRepository
from services.intake.domain.letters import (
    LetterRefused,
    NewLetter,
    check_sendable,
    doc_no,
    register_for,
    unique_recipients,
)
from shared import thai
from shared.contracts import DeliveryRef, LetterSent
from shared.counters import next_number
from shared.db import Database
from shared.outbox import stage
from shared.principal import Principal
from shared.problems import Problem, not_found
from shared.web import correlation_id

SOURCE = "sarabun/intake"


def _request_hash(letter: NewLetter) -> str:
    return hashlib.sha256(json.dumps(asdict(letter), default=str, sort_keys=True).encode()).hexdigest()


async def send_letter(db: Database, letter: NewLetter, who: Principal, idempotency_key: str | None) -> dict:
    """Numbers the letter in the sender's send register and stages `letter.sent`, in one transaction."""
    letter = NewLetter(**{**asdict(letter), "recipient_org_ids": unique_recipients(letter.recipient_org_ids)})
    try:
        check_sendable(letter, who.org_id)
    except LetterRefused as refused:
        raise Problem(422, refused.message, errors=[{"field": refused.field, "message": refused.message}]) from None
    try:
        async with db.transaction() as session:
            letter_id = await _send(session, letter, who, idempotency_key)
    except IntegrityError:
        # Another request with the same Idempotency-Key won the race; answer with its letter.
        letter_id = await _replayed(db, letter, who, idempotency_key)
    return await get_letter(db, letter_id, who)


async def _send(session, letter: NewLetter, who: Principal, idempotency_key: str | None) -> uuid.UUID:
    repo = LetterRepository(session)
    if idempotency_key:
        replay = await repo.find_idempotent(who.org_id, idempotency_key)
        if replay:
            return _same_request_or_conflict(replay, letter)
    if letter.reference_letter_ids and await repo.count_readable(list(letter.reference_letter_ids), who.org_id) != len(
        set(letter.reference_letter_ids)
    ):
        raise Problem(422, "หนังสืออ้างถึงไม่พบ (unknown reference_letter_ids)")
    sent_at = thai.now()
    year = thai.buddhist_year(sent_at)
    register = register_for(letter.circular)
    number = await next_number(session, tables.counters, who.org_id, register, year)
    row = _letter_row(letter, who, register, number, year, sent_at)
    deliveries = [(uuid.uuid4(), org) for org in letter.recipient_org_ids]
    await repo.add(row, deliveries)
    if idempotency_key:
        await repo.remember_idempotent(who.org_id, idempotency_key, _request_hash(letter), row["id"])
    await stage(session, tables.outbox, _letter_sent(row, deliveries, who))
    return row["id"]


def _same_request_or_conflict(replay: tuple[str, uuid.UUID], letter: NewLetter) -> uuid.UUID:
    request_hash, letter_id = replay
    if request_hash != _request_hash(letter):
        raise Problem(409, "Idempotency-Key นี้ใช้กับหนังสือฉบับอื่นแล้ว (key reused with a different request)")
    return letter_id


async def _replayed(db: Database, letter: NewLetter, who: Principal, key: str | None) -> uuid.UUID:
    if not key:
        raise Problem(409, "บันทึกหนังสือไม่สำเร็จเพราะข้อมูลชนกัน โปรดลองใหม่ (conflict, retry)")
    async with db.read() as session:
        replay = await LetterRepository(session).find_idempotent(who.org_id, key)
    if replay is None:
        raise Problem(409, "บันทึกหนังสือไม่สำเร็จเพราะข้อมูลชนกัน โปรดลองใหม่ (conflict, retry)")
    return _same_request_or_conflict(replay, letter)


def _letter_row(letter: NewLetter, who: Principal, register: str, number: int, year: int, sent_at) -> dict:
    return {
        "id": uuid.uuid4(),
        "doc_no": doc_no(who.org_code, number, letter.circular),
        "register": register,
        "register_no": number,
        "register_year": year,
        "sender_org_id": who.org_id,
        "letter_type": letter.letter_type,
        "subject": letter.subject,
        "body": letter.body,
        "urgency": letter.urgency,
        "secrecy": letter.secrecy,
        "circular": letter.circular,
        "salutation": letter.salutation,
        "signer_name": letter.signer_name,
        "signer_position": letter.signer_position,
        "attachment_ids": [str(a) for a in letter.attachment_ids],
        "reference_letter_ids": [str(r) for r in letter.reference_letter_ids],
        "status": "sent",
        "sent_at": sent_at,
        "sent_by": who.user,
    }


def _letter_sent(row: dict, deliveries, who: Principal):
    event = LetterSent(
        letter_id=row["id"],
        doc_no=row["doc_no"],
        sender_org_id=row["sender_org_id"],
        letter_type=row["letter_type"],
        subject=row["subject"],
        urgency=row["urgency"],
        secrecy=row["secrecy"],
        circular=row["circular"],
        sent_at=row["sent_at"],
        attachment_ids=row["attachment_ids"],
        deliveries=[DeliveryRef(delivery_id=d, recipient_org_id=org) for d, org in deliveries],
    )
    return event.envelope(source=SOURCE, subject=str(row["id"]), actor=who.user, correlation_id=correlation_id.get())


async def get_letter(db: Database, letter_id: uuid.UUID, who: Principal) -> dict:
    async with db.read() as session:
        letter = await LetterRepository(session).get_readable(letter_id, who.org_id)
    if letter is None:
        raise not_found("หนังสือ")
    return letter


async def sent_letters(db: Database, who: Principal, after, limit: int) -> list[dict]:
    async with db.read() as session:
        return await LetterRepository(session).sent_by(who.org_id, after, limit)
