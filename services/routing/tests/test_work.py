"""The work on a registered letter, through routing's use cases on a real (SQLite) database: proposing,
ordering (locked, superseded, divisions assigned through the forward machinery), acknowledging once, the
deadline clock pausing, closing and reopening, the worklist and the follow-up; each step's event staged."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.routing import service, work
from services.routing.adapters import tables
from services.routing.tests.test_service import CGD, OPS, deliver, letter_sent
from services.routing.work import OrderRequest
from shared import thai
from shared.contracts import Envelope
from shared.principal import Principal
from shared.problems import Problem
from shared.seed import org_id


def person(user: str, unit: str, *roles: str) -> Principal:
    return Principal(user=user, org_id=org_id(unit), roles=roles, clearance="secret")


CLERK = person("cgd.clerk", "cgd", "clerk")
DG = person("cgd.dg", "cgd", "executive")
DEPUTY = person("cgd.deputy", "cgd", "executive")
STAFF = person("cgd.staff", "cgd", "staff")
BUDGET_CLERK = person("budget.clerk", "cgd.budget", "clerk")
HEAD = person("cgd.head", "cgd.budget", "executive")
OFFICER = person("cgd.officer", "cgd.budget", "staff")
RD_CHIEF = person("rd.chief", "rd", "executive")


async def registered(routing, urgency: str = "urgent") -> tuple[uuid.UUID, uuid.UUID]:
    """A letter from OPS to กรมบัญชีกลาง, registered by its clerk: (letter, delivery)."""
    runtime, _ = routing
    event = letter_sent(urgency=urgency, recipients=(CGD,))
    await deliver(routing, event)
    delivery_id = event.deliveries[0].delivery_id
    await service.receive(runtime.db, delivery_id, CLERK)
    return event.letter_id, delivery_id


def an_order(**changes) -> OrderRequest:
    """An order naming people of กรมบัญชีกลาง (cgd.officer, named by a test, is of its division)."""
    fields = {"decision": "act", "deadline": thai.now() + timedelta(days=7)} | changes
    named = [*fields.get("assignee_usernames", []), *fields.get("for_information", [])]
    units = {name: org_id("cgd.budget" if name == "cgd.officer" else "cgd") for name in named}
    return OrderRequest(**fields, people_org_ids=units, people_clearances=dict.fromkeys(named, "secret"))


async def staged(runtime, kind: str) -> list[dict]:
    async with runtime.db.read() as session:
        bodies = (await session.execute(select(tables.outbox.c.body))).scalars()
        envelopes = [Envelope.decode(body.encode()) for body in bodies]
    return [e.data | {"actor": e.actor} for e in envelopes if e.type == f"delivery.{kind}.v1"]


async def refused(status: int, call) -> Problem:
    with pytest.raises(Problem) as problem:
        await call
    assert problem.value.status == status, problem.value.detail
    return problem.value


async def test_a_proposal_reaches_the_head_and_his_order_supersedes_only_by_a_new_one(routing):
    runtime, _ = routing
    db = runtime.db
    _, delivery = await registered(routing)
    summary = "สรุปเรื่อง: ขอข้อมูลเบิกจ่าย"
    await refused(422, work.propose(db, delivery, "cgd.head", HEAD.org_id, summary, CLERK))  # not of the unit
    proposed = await work.propose(db, delivery, "cgd.dg", DG.org_id, summary, CLERK)
    assert (proposed["stage"], proposed["proposed_to"]) == ("proposed", "cgd.dg")
    assert [i["kind"] for i in await work.worklist(db, DG)] == ["proposed"]
    assert await work.worklist(db, DEPUTY) == []
    assert [e["to_username"] for e in await staged(runtime, "proposed")] == ["cgd.dg"]

    first = await work.order(db, delivery, an_order(assignee_usernames=["cgd.staff"], note="เร่งด่วน"), DG)
    assert first["stage"] == "ordered" and first["proposed_to"] is None
    assert await work.worklist(db, DG) == []  # his order is given: nothing left for him
    assert [i["kind"] for i in await work.worklist(db, STAFF)] == ["assigned"]
    first_order = first["orders"][0]

    # A second order does not change the first: it supersedes it, and both stay.
    second = await work.order(db, delivery, an_order(decision="other", decision_text="ให้รอผลประชุม"), DEPUTY)
    old, new = second["orders"]
    assert {k: old[k] for k in ("id", "decision", "note", "ordered_by", "deadline")} == {
        k: first_order[k] for k in ("id", "decision", "note", "ordered_by", "deadline")
    }
    assert old["superseded_at"] is not None and not old["in_force"]
    assert new["in_force"] and new["supersedes"] == old["id"] and second["order_id"] == new["id"]
    assert await work.worklist(db, STAFF) == []  # the order in force assigns nobody
    events = await staged(runtime, "ordered")
    assert [(e["decision"], e["supersedes"]) for e in events] == [("act", None), ("other", str(old["id"]))]
    assert "note" not in events[0] and "เร่งด่วน" not in str(events)  # free text stays in routing


async def test_an_order_refused_changes_nothing(routing):
    runtime, _ = routing
    db = runtime.db
    _, delivery = await registered(routing)
    before = await work.work_of(db, delivery, CLERK)
    past = an_order(deadline=thai.now() - timedelta(minutes=1))
    assert (await refused(422, work.order(db, delivery, past, DG))).errors[0]["field"] == "deadline"
    outside = an_order(assignee_org_ids=[org_id("rd")])
    assert "outside the agency" in (await refused(422, work.order(db, delivery, outside, DG))).detail
    own = an_order(assignee_org_ids=[org_id("cgd")])
    await refused(422, work.order(db, delivery, own, DG))
    sender = an_order(assignee_org_ids=[org_id("ops")])
    await refused(422, work.order(db, delivery, sender, DG))
    other_unit = await refused(422, work.order(db, delivery, an_order(for_information=["cgd.officer"]), DG))
    assert other_unit.errors == [{"field": "for_information", "message": other_unit.detail}]
    await refused(403, work.order(db, delivery, an_order(), CLERK))  # not a head
    await refused(404, work.order(db, delivery, an_order(), RD_CHIEF))  # a head of another unit
    assert await work.work_of(db, delivery, CLERK) == before
    assert await staged(runtime, "ordered") == [] and await staged(runtime, "forwarded") == []


async def test_a_division_assigned_gets_its_own_delivery_to_register_in_its_own_register(routing):
    runtime, _ = routing
    db = runtime.db
    letter, delivery = await registered(routing)
    budget = org_id("cgd.budget")
    ordered = await work.order(db, delivery, an_order(assignee_org_ids=[budget], for_information=["cgd.deputy"]), DG)
    [unit] = ordered["orders"][0]["assignee_units"]
    assert unit["org_id"] == budget
    theirs = await service.deliveries_of_letters(db, [letter], BUDGET_CLERK)
    assert [(d["id"], d["status"], d["forwarded_from"]) for d in theirs] == [
        (unit["delivery_id"], "delivered", delivery)
    ]
    got = await service.receive(db, unit["delivery_id"], BUDGET_CLERK)
    assert got["register_org_id"] == budget and got["receive_no"] == 1  # the division's own register
    mine = await work.work_of(db, delivery, CLERK)
    assert mine["status"] == "received"  # the ordering unit keeps its delivery open
    [forwarded] = await staged(runtime, "forwarded")
    assert forwarded["deliveries"] == [{"delivery_id": str(unit["delivery_id"]), "recipient_org_id": str(budget)}]
    # A later order assigning the division again keeps the delivery it has.
    again = await work.order(db, delivery, an_order(assignee_org_ids=[budget]), DG)
    assert again["orders"][1]["assignee_units"] == [unit]
    assert len(await staged(runtime, "forwarded")) == 1


async def test_acknowledged_once_and_never_undone(routing):
    runtime, _ = routing
    db = runtime.db
    _, delivery = await registered(routing)
    await work.order(db, delivery, an_order(decision="acknowledged", deadline=None, for_information=["cgd.deputy"]), DG)
    assert [i["kind"] for i in await work.worklist(db, DEPUTY)] == ["for_information"]
    await refused(403, work.acknowledge(db, delivery, STAFF))  # not given it for information
    done = await work.acknowledge(db, delivery, DEPUTY)
    [read] = done["orders"][0]["for_information"]
    assert read["username"] == "cgd.deputy" and read["acknowledged_at"] is not None
    assert "already acknowledged" in (await refused(409, work.acknowledge(db, delivery, DEPUTY))).detail
    assert (await work.work_of(db, delivery, CLERK))["orders"][0]["for_information"] == [read]
    assert await work.worklist(db, DEPUTY) == []
    assert [e["username"] for e in await staged(runtime, "acknowledged")] == ["cgd.deputy"]


async def test_suspending_pauses_the_deadline_clock(routing, monkeypatch):
    runtime, _ = routing
    db = runtime.db
    clock = [datetime.now(UTC)]
    monkeypatch.setattr(thai, "now", lambda: clock[0])
    _, delivery = await registered(routing)
    deadline = clock[0] + timedelta(days=2)
    await work.order(db, delivery, an_order(deadline=deadline, assignee_usernames=["cgd.staff"]), DG)
    await refused(422, work.suspend(db, delivery, "  ", DG))
    await refused(403, work.suspend(db, delivery, "รอเอกสาร", DEPUTY))
    await work.suspend(db, delivery, "รอเอกสารจากกองกฎหมาย", DG)
    clock[0] += timedelta(days=3)
    waiting = await work.work_of(db, delivery, CLERK)
    assert waiting["stage"] == "suspended" and not waiting["overdue"]  # past the deadline, but paused
    await refused(409, work.suspend(db, delivery, "อีกครั้ง", DG))
    resumed = await work.resume(db, delivery, DG)
    assert resumed["due_at"] == deadline + timedelta(days=3)
    assert resumed["paused_seconds"] == 3 * 86400 and not resumed["overdue"]
    clock[0] += timedelta(days=2, minutes=1)
    assert (await work.work_of(db, delivery, CLERK))["overdue"]
    assert [s["action"] for s in resumed["steps"]] == ["suspend", "resume"]
    assert len(await staged(runtime, "suspended")) == len(await staged(runtime, "resumed")) == 1


async def test_only_an_assignee_or_the_head_who_ordered_closes_and_a_head_reopens(routing):
    runtime, _ = routing
    db = runtime.db
    letter, delivery = await registered(routing)
    await refused(409, work.close(db, delivery, "เสร็จ", DG))  # nothing ordered yet
    await work.order(db, delivery, an_order(assignee_usernames=["cgd.staff"]), DG)
    for outsider in (DEPUTY, CLERK):
        assert "only an assignee" in (await refused(403, work.close(db, delivery, "เสร็จ", outsider))).detail
    await refused(404, work.close(db, delivery, "เสร็จ", RD_CHIEF))
    await refused(422, work.close(db, delivery, "", STAFF))
    closed = await work.close(db, delivery, "จัดส่งข้อมูลแล้วตามหนังสือที่ กค 0400/99", STAFF)
    assert (closed["status"], closed["closed_by"]) == ("closed", "cgd.staff") and closed["closed_at"]
    await refused(409, work.close(db, delivery, "อีกครั้ง", STAFF))
    await refused(409, work.order(db, delivery, an_order(), DG))  # reopen first
    # The sender sees when the recipient closed it, not what it wrote.
    [seen] = await service.deliveries_of_letters(db, [letter], OPS)
    assert seen["status"] == "closed" and seen["closed_at"] == closed["closed_at"]
    assert await work.worklist(db, STAFF) == []

    await refused(403, work.reopen(db, delivery, STAFF))
    reopened = await work.reopen(db, delivery, DEPUTY)
    assert (reopened["status"], reopened["stage"], reopened["closed_at"]) == ("received", "ordered", None)
    assert [i["kind"] for i in await work.worklist(db, STAFF)] == ["assigned"]
    assert [s["action"] for s in reopened["steps"]] == ["close", "reopen"]
    closing = await staged(runtime, "closed")
    assert len(closing) == 1 and closing[0]["org_id"] == str(CGD.org_id) and closing[0]["actor"] == "cgd.staff"


async def test_the_worklist_puts_overdue_first_then_by_deadline_then_newest(routing, monkeypatch):
    runtime, _ = routing
    db = runtime.db
    clock = [datetime.now(UTC)]
    monkeypatch.setattr(thai, "now", lambda: clock[0])
    later, sooner, none_old, none_new, late = [(await registered(routing))[1] for _ in range(5)]
    give = {"assignee_usernames": ["cgd.staff"]}
    await work.order(db, late, an_order(deadline=clock[0] + timedelta(hours=1), **give), DG)
    await work.order(db, later, an_order(deadline=clock[0] + timedelta(days=9), **give), DG)
    await work.order(db, sooner, an_order(deadline=clock[0] + timedelta(days=3), **give), DG)
    await work.order(db, none_old, an_order(deadline=None, **give), DG)
    clock[0] += timedelta(minutes=5)
    await work.order(db, none_new, an_order(deadline=None, **give), DG)
    clock[0] += timedelta(hours=2)
    items = await work.worklist(db, STAFF)
    assert [i["delivery_id"] for i in items] == [late, sooner, later, none_new, none_old]
    assert [i["overdue"] for i in items] == [True, False, False, False, False]


async def test_the_follow_up_counts_per_division_and_per_person(routing):
    runtime, _ = routing
    db = runtime.db
    _, first = await registered(routing)
    _, second = await registered(routing)
    await work.order(db, first, an_order(assignee_usernames=["cgd.staff"], assignee_org_ids=[org_id("cgd.budget")]), DG)
    await work.order(db, second, an_order(assignee_usernames=["cgd.staff"]), DG)
    await work.close(db, second, "เสร็จแล้ว", STAFF)
    found = await work.follow_up(db, DG)
    units = {u["org_id"]: u for u in found["units"]}
    assert found["units"][0]["org_id"] == CGD.org_id and org_id("cgd.budget.control") in units
    assert {k: units[CGD.org_id][k] for k in ("open", "overdue", "closed_this_month")} == {
        "open": 1,
        "overdue": 0,
        "closed_this_month": 1,
    }
    assert units[CGD.org_id]["median_hours_to_close"] is not None
    assert units[org_id("cgd.budget")]["open"] == 1  # its delivery, delivered and not registered yet
    assert org_id("rd") not in units
    [staff] = found["people"]
    assert (staff["username"], staff["open"], staff["closed_this_month"]) == ("cgd.staff", 1, 1)
    # A division sees itself and what is under it, not its department.
    assert CGD.org_id not in {u["org_id"] for u in (await work.follow_up(db, HEAD))["units"]}


async def test_a_classified_letter_is_given_only_to_people_cleared_for_it(routing):
    runtime, _ = routing
    db = runtime.db
    event = letter_sent(recipients=(CGD,)).model_copy(update={"secrecy": "secret"})
    await deliver(routing, event)
    delivery = event.deliveries[0].delivery_id
    await service.receive(db, delivery, CLERK)
    summary = "สรุปเรื่องลับมาก"
    uncleared = await refused(422, work.propose(db, delivery, "cgd.dg", DG.org_id, summary, CLERK, "confidential"))
    assert "not cleared" in uncleared.detail
    await work.propose(db, delivery, "cgd.dg", DG.org_id, summary, CLERK, "secret")
    informed = an_order(for_information=["cgd.deputy"])
    low = informed.model_copy(update={"people_clearances": {"cgd.deputy": "normal"}})
    assert (await refused(422, work.order(db, delivery, low, DG))).errors[0]["field"] == "for_information"
    assert (await work.order(db, delivery, informed, DG))["orders"][0]["for_information"][0]["username"] == "cgd.deputy"
