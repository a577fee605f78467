"""Storage's bus handlers: when a letter is sent, its recipients may read the attachments it carried."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.storage import service
from services.storage.adapters import tables
from shared.bus import MessageHandler
from shared.contracts import Envelope, LetterSent
from shared.db import Database
from shared.outbox import once

LETTER_SENT_QUEUE = "storage.letter-sent"


async def letter_sent(session: AsyncSession, envelope: Envelope) -> None:
    # Invalid data raises: the bus retries, then dead-letters the message, and the inbox row rolls back with it.
    await service.grant_to_recipients(session, LetterSent.model_validate(envelope.data))


def handlers(db: Database) -> dict[str, MessageHandler]:
    return {LETTER_SENT_QUEUE: once(db, tables.inbox, LETTER_SENT_QUEUE, letter_sent)}
