"""Intake reacts to `delivery.forwarded`: the units a letter was forwarded to may read it."""

from services.intake import service
from services.intake.adapters import tables
from shared.db import Database
from shared.outbox import once


def consumers(db: Database) -> dict:
    queue = "intake.delivery-forwarded"
    return {queue: once(db, tables.inbox, queue, service.add_forwarded_recipients)}
