"""Reminders and digests by the clock: a deadline tomorrow and a deadline passed, once each per order and
person, none for a closed, superseded or suspended matter; one digest per person and day at the set time.
The rules alone, then the service with a clock the test moves."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from services.notify import service
from services.notify.adapters import tables
from services.notify.consumers import EVENTS_QUEUE
from services.notify.domain import schedule
from services.notify.tests.support import contact, eventually, letter_sent, ordered, person, proposed, work_step
from shared.contracts import DeliveryClosed, DeliveryReopened, DeliveryResumed, DeliverySuspended
from shared.principal import Principal
from shared.seed import org_id
from shared.thai import BANGKOK


def bangkok(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BANGKOK)


DEADLINE = bangkok(3, 16, 30)


def test_a_deadline_is_tomorrow_on_the_bangkok_day_before_and_passed_from_its_minute():
    order = schedule.Order(uuid.uuid4(), DEADLINE)
    assert schedule.due_reminders(order, bangkok(1, 23, 59)) == []
    assert schedule.due_reminders(order, bangkok(2, 0, 0)) == ["deadline_tomorrow"]
    assert schedule.due_reminders(order, bangkok(3, 0, 0)) == []  # the day itself: neither
    assert schedule.due_reminders(order, bangkok(3, 16, 29)) == []
    assert schedule.due_reminders(order, bangkok(3, 16, 30)) == ["deadline_passed"]
    assert schedule.due_reminders(order, bangkok(9, 8)) == ["deadline_passed"]
    suspended = schedule.Order(order.order_id, DEADLINE, suspended=True)
    assert schedule.due_reminders(suspended, bangkok(9, 8)) == []


def test_a_day_s_digest_is_due_from_its_time():
    at = time(7, 0)
    assert schedule.digest_day(bangkok(2, 6, 59), at) is None
    assert schedule.digest_day(bangkok(2, 7, 0), at) == bangkok(2, 0).date()
    # 00:30 UTC is 07:30 in Bangkok: the day is Bangkok's.
    assert schedule.digest_day(datetime(2026, 12, 2, 0, 30, tzinfo=UTC), at) == bangkok(2, 0).date()


async def notified(db) -> list[tuple[str, str]]:
    async with db.read() as session:
        query = select(tables.notifications).order_by(tables.notifications.c.created_at)
        return [(r["username"], r["kind"]) for r in (await session.execute(query)).mappings()]


async def test_deadline_reminders_once_each_and_none_for_closed_or_suspended_matters(start, clock):
    clock.set(bangkok(1, 9))
    runtime = await start(None)
    consume, db, ctx = runtime.consumers[EVENTS_QUEUE], runtime.db, runtime.app.state.notify
    letter = letter_sent(urgency="normal")
    kept, closed, replaced, paused = (uuid.uuid4() for _ in range(4))
    superseded = ordered(letter, deadline=DEADLINE, assignees=["cgd.a"], delivery_id=replaced)
    events = [
        letter,
        ordered(letter, deadline=DEADLINE, assignees=["cgd.officer"], delivery_id=kept),
        ordered(letter, deadline=DEADLINE, assignees=["cgd.b"], delivery_id=closed),
        work_step(DeliveryClosed, letter, closed, "cgd.b", bangkok(1, 10)),
        superseded,
        # A later order of the same delivery supersedes the first and gives a week more.
        ordered(
            letter,
            deadline=DEADLINE + timedelta(days=7),
            assignees=["cgd.c"],
            delivery_id=replaced,
            supersedes=uuid.UUID(superseded.data["order_id"]),
        ),
        ordered(letter, deadline=DEADLINE, assignees=["cgd.d"], delivery_id=paused),
        work_step(DeliverySuspended, letter, paused, "cgd.d", bangkok(1, 10)),
    ]
    await consume(events)
    told_at_order = await notified(db)
    assignees = ("cgd.a", "cgd.b", "cgd.c", "cgd.d", "cgd.officer")
    assert sorted(told_at_order) == [(name, "assigned_to_you") for name in assignees]

    assert await service.remind_deadlines(db, ctx) == 0  # two days before
    clock.set(bangkok(2, 9))
    assert await service.remind_deadlines(db, ctx) == 1
    assert await service.remind_deadlines(db, ctx) == 0  # the next round: already told
    clock.set(bangkok(3, 17))
    assert await service.remind_deadlines(db, ctx) == 2
    assert await service.remind_deadlines(db, ctx) == 0
    reminders = (await notified(db))[len(told_at_order) :]
    assert reminders[0] == ("cgd.officer", "deadline_tomorrow")
    # When it has passed, the head who ordered it is told as well.
    assert sorted(reminders[1:]) == [("cgd.dg", "deadline_passed"), ("cgd.officer", "deadline_passed")]

    # The suspended matter resumes after two days: its deadline moves on by two days.
    await consume([work_step(DeliveryResumed, letter, paused, "cgd.d", bangkok(3, 10))])
    clock.set(bangkok(4, 9))
    assert await service.remind_deadlines(db, ctx) == 1
    assert (await notified(db))[-1] == ("cgd.d", "deadline_tomorrow")
    # The closed matter reopened: its order counts again, and its deadline has passed.
    await consume([work_step(DeliveryReopened, letter, closed, "cgd.dg", bangkok(4, 10))])
    assert await service.remind_deadlines(db, ctx) == 2
    assert sorted((await notified(db))[-2:]) == [("cgd.b", "deadline_passed"), ("cgd.dg", "deadline_passed")]


async def test_one_digest_per_person_and_day_at_the_set_time(start, clock, smtp):
    clock.set(bangkok(1, 10))
    runtime = await start(smtp.port, notify_digest_time="07:00")
    consume, db, ctx = runtime.consumers[EVENTS_QUEUE], runtime.db, runtime.app.state.notify
    me = Principal(user="cgd.deputy", org_id=org_id("cgd"), roles=("executive",))
    await consume([person("cgd.deputy", roles=("executive",)), contact("cgd.deputy", "deputy@cgd.example")])
    await service.choose(db, ctx, me, {"proposed_to_you": "digest"})
    for n in (1, 2):
        letter = letter_sent(doc_no=f"กค 0200/{n}", urgency="normal")
        await consume([letter, proposed(letter, "cgd.deputy")])
    assert await service.make_digests(db, ctx) == 0  # made after today's digest time: tomorrow's
    clock.set(bangkok(2, 6, 59))
    assert await service.make_digests(db, ctx) == 0
    clock.set(bangkok(2, 7, 5))
    assert await service.make_digests(db, ctx) == 1
    assert await service.make_digests(db, ctx) == 0

    clock.set(bangkok(2, 8))
    letter = letter_sent(doc_no="กค 0200/3", urgency="normal")
    await consume([letter, proposed(letter, "cgd.deputy")])
    clock.set(bangkok(2, 9))
    assert await service.make_digests(db, ctx) == 0  # today's is made: this one waits for tomorrow's
    clock.set(bangkok(3, 7))
    assert await service.make_digests(db, ctx) == 1

    digests = await eventually(lambda: _received(smtp, 2))
    first, second = sorted(digests, key=lambda m: m["Subject"])
    assert "สรุปการแจ้งเตือนประจำวันที่ 2 ธันวาคม 2569 (2 รายการ)" in first["Subject"]
    body = first.get_content()
    assert "กค 0200/1" in body and "กค 0200/2" in body and "กค 0200/3" not in body
    assert body.index("1. มีหนังสือ") < body.index("Your notifications of 2 December 2026")
    assert "กค 0200/3" in second.get_content() and "3 ธันวาคม 2569 (1 รายการ)" in second["Subject"]


async def _received(smtp, n: int):
    return smtp.inbox.messages if len(smtp.inbox.messages) >= n else None
