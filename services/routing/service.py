"""Routing's use cases: the directory, delivering a sent letter, the inbox, receiving (ลงรับ)."""

from __future__ import annotations

import uuid

from services.routing.adapters import tables
from services.routing.adapters.repository import DeliveryRepository, DirectoryRepository
from services.routing.domain.deliveries import (
    RECEIVE_REGISTER,
    URGENCY_RANK,
    DeliveryConflict,
    already_received,
    can_receive,
)
from shared import thai
from shared.contracts import DeliveryDelivered, DeliveryReceived, Envelope, LetterSent
from shared.counters import next_number
from shared.db import Database
from shared.outbox import stage
from shared.principal import Principal
from shared.problems import Problem, not_found
from shared.seed import MOF
from shared.web import correlation_id

SOURCE = "sarabun/routing"


async def seed_directory(db: Database) -> None:
    """Loads the Ministry of Finance sample directory; rows already there are left as they are."""
    async with db.transaction() as session:
        repo = DirectoryRepository(session)
        for org in MOF:
            parent = next((p.id for p in MOF if p.key == org.parent), None)
            await repo.add_if_missing(
                {
                    "id": org.id,
                    "key": org.key,
                    "code": org.code,
                    "name": org.name,
                    "kind": org.kind,
                    "parent_id": parent,
                }
            )


async def list_orgs(db: Database) -> list[dict]:
    async with db.read() as session:
        return await DirectoryRepository(session).all()


async def get_org(db: Database, org_id: uuid.UUID) -> dict:
    async with db.read() as session:
        org = await DirectoryRepository(session).get(org_id)
    if org is None:
        raise not_found("หน่วยงาน")
    return org


async def unknown_orgs(db: Database, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    async with db.read() as session:
        known = await DirectoryRepository(session).existing(ids)
    return [i for i in ids if i not in known]


async def deliver(session, envelope: Envelope) -> None:
    """`letter.sent` → one delivery per recipient, straight into its inbox (`delivery.delivered`)."""
    letter = LetterSent.model_validate(envelope.data)
    repo = DeliveryRepository(session)
    now = thai.now()
    for ref in letter.deliveries:
        row = _delivery_row(letter, ref.delivery_id, ref.recipient_org_id, now)
        if await repo.add_if_missing(row):
            event = DeliveryDelivered(
                delivery_id=ref.delivery_id,
                letter_id=letter.letter_id,
                sender_org_id=letter.sender_org_id,
                recipient_org_id=ref.recipient_org_id,
                delivered_at=now,
            )
            await stage(session, tables.outbox, _envelope(event, ref.delivery_id, envelope, actor="system"))


def _delivery_row(letter: LetterSent, delivery_id, recipient_org_id, now) -> dict:
    return {
        "id": delivery_id,
        "letter_id": letter.letter_id,
        "sender_org_id": letter.sender_org_id,
        "recipient_org_id": recipient_org_id,
        "doc_no": letter.doc_no,
        "subject": letter.subject,
        "letter_type": letter.letter_type,
        "urgency": letter.urgency,
        "urgency_rank": URGENCY_RANK[letter.urgency],
        "secrecy": letter.secrecy,
        "circular": letter.circular,
        "status": "delivered",
        "sent_at": letter.sent_at,
        "delivered_at": now,
    }


def _envelope(event, delivery_id, cause: Envelope | None, actor: str) -> Envelope:
    envelope = event.envelope(
        source=SOURCE,
        subject=str(delivery_id),
        actor=actor,
        correlation_id=cause.correlation_id if cause else correlation_id.get(),
    )
    return envelope.model_copy(update={"causation_id": str(cause.id)}) if cause else envelope


async def receive(db: Database, delivery_id: uuid.UUID, who: Principal) -> dict:
    """ลงรับ: the next number of the recipient's receive register; repeating it returns the same number."""
    async with db.transaction() as session:
        repo = DeliveryRepository(session)
        delivery = await repo.for_recipient(delivery_id, who.org_id, lock=True)
        if delivery is None:
            raise not_found("หนังสือที่ส่งถึงหน่วยงานท่าน")
        try:
            can_receive(delivery["status"])
        except DeliveryConflict as conflict:
            raise Problem(409, str(conflict)) from None
        if already_received(delivery["status"]):
            return delivery
        received_at = thai.now()
        year = thai.buddhist_year(received_at)
        number = await next_number(session, tables.counters, who.org_id, RECEIVE_REGISTER, year)
        changes = {
            "status": "received",
            "received_at": received_at,
            "receive_no": number,
            "receive_year": year,
            "received_by": who.user,
        }
        await repo.update(delivery_id, **changes)
        unit = await DirectoryRepository(session).get(who.org_id)
        event = DeliveryReceived(
            recipient_org_name=unit["name"] if unit else "",
            delivery_id=delivery_id,
            letter_id=delivery["letter_id"],
            sender_org_id=delivery["sender_org_id"],
            recipient_org_id=who.org_id,
            receive_no=number,
            register_year=year,
            received_at=received_at,
        )
        await stage(session, tables.outbox, _envelope(event, delivery_id, None, actor=who.user))
    return {**delivery, **changes}


async def deliveries_of_letters(db: Database, letter_ids: list[uuid.UUID], who: Principal) -> list[dict]:
    async with db.read() as session:
        return await DeliveryRepository(session).of_letters(letter_ids, who.org_id)


async def inbox(db: Database, who: Principal, status: str | None, q: str | None, after, limit: int) -> list[dict]:
    async with db.read() as session:
        return await DeliveryRepository(session).inbox(who.org_id, status, q, after, limit)
