"""Intake reacts to `delivery.forwarded` (the units a letter was forwarded to may read it) and to routing's
`directory.unit.*` (its own copy of the directory, which every letter's recipients are checked against)."""

from services.intake import service
from services.intake.adapters import tables
from shared.db import Database
from shared.outbox import once

FORWARDED = "intake.delivery-forwarded"
DIRECTORY = "intake.directory"


def consumers(db: Database) -> dict:
    return {
        FORWARDED: once(db, tables.inbox, FORWARDED, service.add_forwarded_recipients),
        DIRECTORY: once(db, tables.inbox, DIRECTORY, service.learn_unit),
    }
