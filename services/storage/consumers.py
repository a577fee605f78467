"""Storage's bus handlers: when a letter is sent, its recipients may read the attachments it carried and the
signatures in its PDFs are verified; when a recipient registers it (ลงรับ), its PDF attachments get that unit's
receipt stamp (ตรารับ) on a copy."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.storage import service
from services.storage.adapters import tables
from services.storage.adapters.keys import SigningKeys
from shared.bus import BatchHandler
from shared.contracts import DeliveryForwarded, DeliveryReceived, Envelope, LetterSent
from shared.db import Database
from shared.objectstore import ObjectStore
from shared.outbox import once, once_batch

LETTER_SENT_QUEUE = "storage.letter-sent"
DELIVERY_RECEIVED_QUEUE = "storage.delivery-received"
DELIVERY_FORWARDED_QUEUE = "storage.delivery-forwarded"


def letters_sent(db: Database, store: ObjectStore, keys: SigningKeys) -> BatchHandler:
    """Verifies the signatures first, outside any transaction (files are read, signatures checked), then grants
    the recipients and records the findings together with the inbox rows. A redelivered message is acknowledged
    as a duplicate; a letter checked before is not checked again, so a failure is staged once."""

    async def handle(envelopes: list[Envelope]) -> None:
        # Invalid data raises before anything is done: the bus retries each message alone, then dead-letters the
        # invalid one.
        events = {envelope.id: LetterSent.model_validate(envelope.data) for envelope in envelopes}
        found = await service.verify_letters(db, store, keys, list(events.values()))

        async def record(session: AsyncSession, fresh: list[Envelope]) -> None:
            await service.grant_to_recipients(session, [events[e.id] for e in fresh])
            await service.record_signature_checks(session, [(e, events[e.id]) for e in fresh], found)

        await once_batch(db, tables.inbox, LETTER_SENT_QUEUE, record)(envelopes)

    return handle


async def delivery_forwarded(session: AsyncSession, envelope: Envelope) -> None:
    await service.grant_to_forwarded(session, DeliveryForwarded.model_validate(envelope.data))


def delivery_received(db: Database, store: ObjectStore) -> BatchHandler:
    """Renders the stamped copies first, outside any transaction, then records them together with the inbox
    rows. A redelivered message finds its copies recorded, renders nothing and is acknowledged as a duplicate;
    a receipt that comes before its letter's `letter.sent` raises, and the bus tries it again later."""

    async def handle(envelopes: list[Envelope]) -> None:
        rendered: dict[uuid.UUID, list[dict]] = {}
        for envelope in envelopes:
            event = DeliveryReceived.model_validate(envelope.data)
            rendered[envelope.id] = await service.render_stamped_copies(db, store, event)

        async def record(session: AsyncSession, fresh: list[Envelope]) -> None:
            await service.record_stamped_copies(session, [row for e in fresh for row in rendered[e.id]])

        await once_batch(db, tables.inbox, DELIVERY_RECEIVED_QUEUE, record)(envelopes)

    return handle


def handlers(db: Database, store: ObjectStore, keys: SigningKeys) -> dict[str, BatchHandler]:
    return {
        LETTER_SENT_QUEUE: letters_sent(db, store, keys),
        DELIVERY_RECEIVED_QUEUE: delivery_received(db, store),
        DELIVERY_FORWARDED_QUEUE: once(db, tables.inbox, DELIVERY_FORWARDED_QUEUE, delivery_forwarded),
    }
