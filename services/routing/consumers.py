"""Routing reacts to `letter.sent`: each recipient gets its delivery, exactly once."""

from services.routing import service
from services.routing.adapters import tables
from shared.db import Database
from shared.outbox import once


def consumers(db: Database) -> dict:
    return {"routing.letter-sent": once(db, tables.inbox, "routing.letter-sent", service.deliver)}
