"""When reminders fall due: a deadline tomorrow, a deadline passed, the daily digest. Days are Bangkok days.
Pure rules over a given time, so they are tested with any clock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from services.notify.domain.kinds import DEADLINE_PASSED, DEADLINE_TOMORROW
from shared.thai import BANGKOK

# Reminders are made from an order and a kind, so the same reminder has the same id whoever makes it and
# however often: the notification's unique (event, person) key makes it once.
REMINDERS = uuid.UUID("5f0d7c1e-8a54-4d2b-9a4c-6d1f0e2b7a31")


def reminder_id(order_id: uuid.UUID, kind: str) -> uuid.UUID:
    return uuid.uuid5(REMINDERS, f"{order_id}:{kind}")


@dataclass(frozen=True)
class Order:
    """An order with a deadline that notify has seen and that is still open (not superseded, not closed)."""

    order_id: uuid.UUID
    deadline: datetime
    suspended: bool = False


def due_reminders(order: Order, now: datetime) -> list[str]:
    """The reminders an open order has due at `now`: `deadline_tomorrow` on the Bangkok day before the deadline,
    `deadline_passed` once it has passed. None while the matter is suspended (the deadline clock pauses). An
    order given on its deadline's day gets no "tomorrow"; one found late gets only what is still true."""
    if order.suspended:
        return []
    if now >= order.deadline:
        return [DEADLINE_PASSED]
    if _day(now) == _day(order.deadline) - timedelta(days=1):
        return [DEADLINE_TOMORROW]
    return []


def _day(moment: datetime) -> date:
    return moment.astimezone(BANGKOK).date()


def parse_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def digest_day(now: datetime, at: time) -> date | None:
    """The Bangkok day whose digest is due at `now`: today's once its time has come, else None."""
    local = now.astimezone(BANGKOK)
    return local.date() if local.time() >= at else None


def digest_moment(day: date, at: time) -> datetime:
    """The instant a day's digest is made: notifications before it are in it, later ones in the next day's."""
    return datetime.combine(day, at, tzinfo=BANGKOK)
