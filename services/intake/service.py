"""Intake's use cases, each one unit of work: send a letter, read letters."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import asdict, dataclass

from sqlalchemy.exc import IntegrityError

from services.intake.adapters import tables
from services.intake.adapters.repository import DirectoryReadModel, LetterRepository, SendRegisterRepository
from services.intake.domain.directory import INTERNAL, KnownUnit, check_recipients
from services.intake.domain.letters import (
    LetterRefused,
    NewLetter,
    check_clearance,
    check_deadline,
    check_sendable,
    doc_no,
    register_for,
    unique_recipients,
)
from shared import thai
from shared.contracts import (
    AccessDenied,
    ClassifiedViewed,
    DeliveryForwarded,
    DeliveryRef,
    DirectoryUnitEvent,
    LetterCancelled,
    LetterSent,
    parse,
)
from shared.counters import next_number
from shared.db import Database
from shared.outbox import stage
from shared.principal import CLEARANCE_ORDER, Principal
from shared.problems import Problem, not_found
from shared.registers import (
    NextNumberRequest,
    check_admin,
    check_scope,
    check_settable_year,
    move_next_number,
    register_subject,
)
from shared.schemas import SendLetterRequest
from shared.web import correlation_id

SOURCE = "sarabun/intake"


# The parts of an external letter kept as given, beside the columns every letter has.
DETAILS = {"sub_kind", "to_text", "closing", "references", "enclosures", "cc_org_ids", "owning_unit", "contact"}


def new_letter(body: SendLetterRequest) -> NewLetter:
    """The letter a request describes (a letter sent at once, or a draft's fields)."""
    return NewLetter(
        letter_type=body.type,
        subject=body.subject,
        body=body.body,
        recipient_org_ids=tuple(body.recipient_org_ids),
        circular=body.circular,
        urgency=body.urgency,
        secrecy=body.secrecy,
        attachment_ids=tuple(body.attachment_ids),
        reference_letter_ids=tuple(body.reference_letter_ids),
        salutation=body.salutation,
        signer_name=body.signer_name,
        signer_position=body.signer_position,
        doc_date=body.doc_date,
        deliver_by=body.deliver_by,
        details=body.model_dump(mode="json", include=DETAILS),
    )


def _request_hash(letter: NewLetter) -> str:
    return hashlib.sha256(json.dumps(asdict(letter), default=str, sort_keys=True).encode()).hexdigest()


async def send_letter(db: Database, letter: NewLetter, who: Principal, idempotency_key: str | None) -> dict:
    """Numbers the letter in the send register the sender is numbered in (its own, or its central registry's
    when it keeps none) and stages `letter.sent`, in one transaction."""
    letter = NewLetter(**{**asdict(letter), "recipient_org_ids": unique_recipients(letter.recipient_org_ids)})
    try:
        check_sendable(letter, who.org_id)
        check_clearance(letter, who.clearance)
        check_deadline(letter, thai.now())
    except LetterRefused as refused:
        raise _refusal(refused) from None
    try:
        async with db.transaction() as session:
            return await _send(session, letter, who, idempotency_key)
    except IntegrityError:
        # Another request with the same Idempotency-Key won the race; answer with its letter.
        letter_id = await _replayed(db, letter, who, idempotency_key)
    return await get_letter(db, letter_id, who)


def _refusal(refused: LetterRefused) -> Problem:
    return Problem(422, refused.message, errors=refused.errors)


async def _send(session, letter: NewLetter, who: Principal, idempotency_key: str | None) -> dict:
    """The letter as the sender reads it: the one just numbered, or the one this request already sent."""
    repo = LetterRepository(session)
    if idempotency_key:
        replay = await repo.find_idempotent(who.org_id, idempotency_key)
        if replay:
            return await repo.get_readable(_same_request_or_conflict(replay, letter), who.org_id)
    await check_directory(session, letter, who.org_id)
    await check_references(repo, letter, who.org_id)
    sent_at = thai.now()
    numbered = await take_number(session, who.register_org_id, who.letter_code, letter.circular, sent_at)
    row = letter_row(letter, numbered, sender_org_id=who.org_id, sent_by=who.user, sent_at=sent_at)
    stored = await repo.add(row)
    if idempotency_key:
        await repo.remember_idempotent(who.org_id, idempotency_key, _request_hash(letter), row["id"])
    # What was just written is the answer (the sender sees every recipient, in order): no read back.
    return {**stored, "deliveries": await deliver(session, stored, letter.recipient_org_ids, who)}


async def check_directory(session, letter: NewLetter, sender_org_id: uuid.UUID) -> None:
    """The recipients against intake's own copy of the directory, with no call to routing. Asked after the
    Idempotency-Key replay, so a repeated request still gets the letter accepted the first time even if a
    recipient has been retired since."""
    directory = DirectoryReadModel(session)
    if letter.letter_type == INTERNAL:
        units = await directory.units_and_parents([*letter.recipient_org_ids, sender_org_id])
    else:
        units = await directory.units(letter.recipient_org_ids)
    try:
        check_recipients(letter.letter_type, sender_org_id, letter.recipient_org_ids, units, thai.today())
    except LetterRefused as refused:
        raise _refusal(refused) from None


async def check_references(repo: LetterRepository, letter: NewLetter, org_id: uuid.UUID) -> None:
    """อ้างถึง: only letters the unit can read itself."""
    wanted = set(letter.reference_letter_ids)
    if wanted and await repo.count_readable(list(wanted), org_id) != len(wanted):
        raise Problem(422, "หนังสืออ้างถึงไม่พบ (unknown reference_letter_ids)")


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


@dataclass(frozen=True)
class Numbered:
    """A place in a send register: whose register, which series and year, the running number, and the ที่ it
    makes."""

    register_org_id: uuid.UUID
    register: str
    year: int  # Buddhist era
    number: int
    doc_no: str


async def take_number(session, register_org_id: uuid.UUID, letter_code: str, circular: bool, when) -> Numbered:
    """The next number of the register (ordinary or ว series) for the Buddhist year of `when`, in the caller's
    transaction: a rollback gives it back, so numbers stay gap-free."""
    year = thai.buddhist_year(when)
    register = register_for(circular)
    number = await next_number(session, tables.counters, register_org_id, register, year)
    return Numbered(register_org_id, register, year, number, doc_no(letter_code, number, circular))


def letter_row(
    letter: NewLetter,
    numbered: Numbered,
    *,
    sender_org_id: uuid.UUID,
    sent_by: str,
    sent_at,
    status: str = "sent",
    doc_date=None,
) -> dict:
    """A letter's row in the send register. A letter sent at once is `sent`; one written as a draft is `signed`
    first (numbered, not yet delivered) and its `doc_date` is the day it was signed."""
    return {
        "id": uuid.uuid4(),
        "doc_no": numbered.doc_no,
        "register": numbered.register,
        "register_org_id": numbered.register_org_id,
        "register_no": numbered.number,
        "register_year": numbered.year,
        "sender_org_id": sender_org_id,
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
        "status": status,
        "sent_at": sent_at,
        "doc_date": doc_date or letter.doc_date or sent_at.astimezone(thai.BANGKOK).date(),
        "deliver_by": letter.deliver_by,
        "details": letter.details,
        "sent_by": sent_by,
    }


async def deliver(session, row: dict, recipient_org_ids, who: Principal) -> list[dict]:
    """Sends a numbered letter: one delivery per recipient, in the order given, and `letter.sent` staged in the
    caller's transaction. Every letter leaves through here, sent at once or dispatched after signing."""
    deliveries = [(uuid.uuid4(), org) for org in recipient_org_ids]
    await LetterRepository(session).address(row["id"], deliveries)
    await stage(session, tables.outbox, _letter_sent(row, deliveries, who))
    return [{"id": d, "recipient_org_id": org} for d, org in deliveries]


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
        deliver_by=row["deliver_by"],
    )
    return event.envelope(source=SOURCE, subject=str(row["id"]), actor=who.user, correlation_id=correlation_id.get())


async def get_letter(db: Database, letter_id: uuid.UUID, who: Principal) -> dict:
    async with db.read() as session:
        letter = await LetterRepository(session).get_readable(letter_id, who.org_id)
    if letter is None:
        raise not_found("หนังสือ")
    return letter


async def view_letter(db: Database, letter_id: uuid.UUID, who: Principal) -> dict:
    """Reading a letter's content. A classified one needs clearance: without it the answer is 404, as if it
    did not exist; with it, the view is logged. Either way the audit log hears of it."""
    letter = await get_letter(db, letter_id, who)
    if letter["secrecy"] == "normal":
        return letter
    cleared = who.cleared_for(letter["secrecy"])
    now = thai.now()
    if cleared:
        event = ClassifiedViewed(letter_id=letter_id, org_id=who.org_id, secrecy=letter["secrecy"], viewed_at=now)
    else:
        event = AccessDenied(
            resource="letter",
            resource_id=letter_id,
            letter_id=letter_id,
            org_id=who.org_id,
            secrecy=letter["secrecy"],
            denied_at=now,
        )
    async with db.transaction() as session:
        envelope = event.envelope(
            source=SOURCE, subject=str(letter_id), actor=who.user, correlation_id=correlation_id.get()
        )
        await stage(session, tables.outbox, envelope)
    if not cleared:
        raise not_found("หนังสือ")
    return letter


async def sent_letters(db: Database, who: Principal, after, limit: int, q: str | None = None) -> list[dict]:
    async with db.read() as session:
        cleared = [level for level in CLEARANCE_ORDER if who.cleared_for(level)]
        return await LetterRepository(session).sent_by(who.org_id, after, limit, q, cleared)


async def cancel_letter(db: Database, letter_id: uuid.UUID, reason: str, who: Principal) -> dict:
    """ยกเลิก: the letter keeps its number and register row, marked cancelled. The caller has recalled every
    delivery first (routing refuses if any was registered)."""
    async with db.transaction() as session:
        repo = LetterRepository(session)
        letter = await repo.sent_by_for_update(letter_id, who.org_id)
        if letter is None:
            raise not_found("หนังสือของหน่วยงานท่าน")
        if letter["status"] != "cancelled":
            now = thai.now()
            await repo.mark_cancelled(letter_id, now, reason)
            event = LetterCancelled(letter_id=letter_id, sender_org_id=who.org_id, reason=reason, cancelled_at=now)
            envelope = event.envelope(
                source=SOURCE, subject=str(letter_id), actor=who.user, correlation_id=correlation_id.get()
            )
            await stage(session, tables.outbox, envelope)
    return await get_letter(db, letter_id, who)


async def add_forwarded_recipients(session, envelope) -> None:
    """`delivery.forwarded`: the new units may now read the letter (each sees only its own delivery)."""
    event = DeliveryForwarded.model_validate(envelope.data)
    await LetterRepository(session).add_recipients(
        event.letter_id, [(d.delivery_id, d.recipient_org_id) for d in event.deliveries]
    )


async def learn_unit(session, envelope) -> None:
    """`directory.unit.added/changed/retired`: each carries the whole unit as routing has it after the change,
    so all three are kept the same way; an older one arriving after a newer one changes nothing."""
    event = parse(envelope)
    if not isinstance(event, DirectoryUnitEvent):
        raise ValueError(f"not a directory event: {envelope.type}")
    unit = KnownUnit(
        org_id=event.org_id,
        parent_org_id=event.parent_org_id,
        kind=event.unit.kind,
        valid_from=event.unit.valid_from,
        valid_to=event.unit.valid_to,
        as_of=event.occurred_at,
    )
    await DirectoryReadModel(session).learn(unit)


async def knows_units(db: Database, ids: list[uuid.UUID]) -> bool:
    """Whether every one of these units has reached intake's copy of the directory."""
    async with db.read() as session:
        return await DirectoryReadModel(session).count_known(ids) == len(set(ids))


# ทะเบียนหนังสือส่ง (the send register). Imported here, beside the use cases that need them.


log = logging.getLogger("sarabun.intake")


async def send_register(
    db: Database, who: Principal, org_id: uuid.UUID, year: int, after: tuple[int, str] | None, limit: int
) -> list[dict]:
    """A unit's send register for one Buddhist-era year, both series (ordinary and ว), by number: its own
    letters and those of the units that use it as their central registry."""
    check_scope(who, org_id)
    async with db.read() as session:
        rows = await SendRegisterRepository(session).rows(
            org_id, (register_for(False), register_for(True)), year, after, limit
        )
    return [
        {
            "register": row["register"],
            "register_no": row["register_no"],
            "year": row["register_year"],
            "doc_no": row["doc_no"],
            "circular": row["circular"],
            "sender_org_id": row["sender_org_id"],
            "register_org_id": row["register_org_id"],
            "recipient_org_ids": row["recipient_org_ids"],
            "subject": register_subject(who, row["subject"], row["secrecy"]),
            "status": row["status"],
            "sent_at": row["sent_at"],
            "doc_date": row["doc_date"],
        }
        for row in rows
    ]


async def set_send_next_number(db: Database, who: Principal, request: NextNumberRequest) -> dict:
    """Where a unit's send register (or its ว series) continues this year; never below an issued number."""
    check_admin(who)
    check_settable_year(request.year)
    org_id = request.org_id or who.register_org_id
    register = register_for(request.series == "circular")
    await move_next_number(
        db, tables.counters, tables.outbox, SOURCE, who, org_id, register, request.year, request.next_number
    )
    return {
        "register": "send",
        "series": request.series,
        "org_id": org_id,
        "year": request.year,
        "next_number": request.next_number,
    }
