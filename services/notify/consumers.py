"""Notify's bus handler: one queue for every event it learns from or tells people about, so that a letter's
letter.sent comes before its deliveries and an account before its address. A batch is applied in one
transaction with its inbox rows."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import service
from services.notify.adapters import tables
from shared.bus import BatchHandler
from shared.contracts import Envelope
from shared.db import Database
from shared.outbox import once_batch

EVENTS_QUEUE = "notify.events"  # its bindings are in shared/topology.py


def handlers(db: Database, ctx: service.Context) -> dict[str, BatchHandler]:
    async def apply(session: AsyncSession, fresh: list[Envelope]) -> None:
        await service.apply_events(session, ctx, fresh)

    return {EVENTS_QUEUE: once_batch(db, tables.inbox, EVENTS_QUEUE, apply)}
