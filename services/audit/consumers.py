"""Audit's bus handlers: every event on the bus becomes one leaf, exactly once; a batch of events is appended
in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import service
from services.audit.adapters import tables
from shared.bus import BatchHandler
from shared.contracts import Envelope
from shared.db import Database
from shared.outbox import once_batch

EVENTS_QUEUE = "audit.events"  # bound to `#` in shared/topology.py: every event type


def handlers(db: Database, after_append: Callable[[int], Awaitable[None]] | None = None) -> dict[str, BatchHandler]:
    """`after_append(count)` is told, after each commit, how many leaves the batch appended."""

    async def record(envelopes: list[Envelope]) -> None:
        appended = 0

        async def append(session: AsyncSession, fresh: list[Envelope]) -> None:
            nonlocal appended
            # Assigned, not added: should the batch be applied again, only the committed attempt counts.
            appended = await service.record_events(session, fresh)

        await once_batch(db, tables.inbox, EVENTS_QUEUE, append)(envelopes)
        if after_append is not None and appended:
            # After the commit: a checkpoint signed here already covers these leaves.
            await after_append(appended)

    return {EVENTS_QUEUE: record}
