"""Audit's bus handlers: every event on the bus becomes one leaf, exactly once."""

from __future__ import annotations

from services.audit import service
from services.audit.adapters import tables
from shared.bus import MessageHandler
from shared.db import Database
from shared.outbox import once

EVENTS_QUEUE = "audit.events"  # bound to `#` in shared/topology.py: every event type


def handlers(db: Database) -> dict[str, MessageHandler]:
    return {EVENTS_QUEUE: once(db, tables.inbox, EVENTS_QUEUE, service.record_event)}
