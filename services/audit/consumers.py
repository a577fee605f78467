"""Audit's bus handlers: every event on the bus becomes one leaf, exactly once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from services.audit import service
from services.audit.adapters import tables
from shared.bus import BatchHandler
from shared.contracts import Envelope
from shared.db import Database
from shared.outbox import once

EVENTS_QUEUE = "audit.events"  # bound to `#` in shared/topology.py: every event type


def handlers(db: Database, after_append: Callable[[], Awaitable[None]] | None = None) -> dict[str, BatchHandler]:
    record = once(db, tables.inbox, EVENTS_QUEUE, service.record_event)
    if after_append is None:
        return {EVENTS_QUEUE: record}

    async def record_then_count(envelopes: list[Envelope]) -> None:
        await record(envelopes)
        # After the commit: a checkpoint signed here already covers this leaf.
        await after_append()

    return {EVENTS_QUEUE: record_then_count}
