"""Audit's use cases, each one unit of work: record an event as a leaf, read a letter's history, read leaves."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.adapters.repository import LogRepository
from services.audit.domain.entries import leaf_for
from shared.contracts import EVENTS, Envelope
from shared.db import Database
from shared.principal import Principal
from shared.problems import not_found

log = logging.getLogger("sarabun.audit")

AUDITOR = "auditor"


async def record_event(session: AsyncSession, envelope: Envelope) -> None:
    """Appends the event's leaf. Runs inside the consumer's unit of work (the inbox transaction of `once`),
    so the leaf, the log size and the inbox mark commit together or not at all."""
    leaf = leaf_for(envelope)
    repo = LogRepository(session)
    # The inbox already drops redeliveries to this consumer; this also covers the same event arriving under
    # another consumer name (a replay). A race between two such copies ends on the unique event_id and the
    # loser is retried, then finds the leaf here.
    if await repo.has_event(leaf.event_id):
        return
    if envelope.type not in EVENTS:
        log.warning("event type %s is unknown here; logged with its envelope facts only", envelope.type)
    index = await repo.next_index()
    await repo.append(index, leaf)
    if leaf.letter_id is not None:
        await repo.add_parties(leaf.letter_id, leaf.parties)


async def letter_history(db: Database, letter_id: uuid.UUID, who: Principal) -> list:
    """The letter's leaves the principal may see, in log order; none visible reads as not found."""
    async with db.read() as session:
        rows = await LogRepository(session).history(letter_id, who.org_id, everything=who.has(AUDITOR))
    if not rows:
        raise not_found("ประวัติของหนังสือ")
    return rows


async def leaves(db: Database, who: Principal, start: int, limit: int) -> list:
    """The raw log, for auditors only; anyone else is told it does not exist."""
    if not who.has(AUDITOR):
        raise not_found("บันทึกการตรวจสอบ")
    async with db.read() as session:
        return await LogRepository(session).leaves_from(start, limit)
