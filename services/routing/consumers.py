"""Routing reacts to `letter.sent`: each recipient gets its delivery, exactly once; a batch of letters is
delivered in one transaction."""

from services.routing import service
from services.routing.adapters import tables
from shared.db import Database
from shared.outbox import once_batch

LETTER_SENT_QUEUE = "routing.letter-sent"


def consumers(db: Database) -> dict:
    return {LETTER_SENT_QUEUE: once_batch(db, tables.inbox, LETTER_SENT_QUEUE, service.deliver_letters)}
