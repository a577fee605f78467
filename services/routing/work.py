"""The work a unit does on a letter it registered, one transaction per use case: เสนอ (propose to a head),
สั่งการ (order: decision, deadline, divisions and people assigned, people given it for information), พักเรื่อง
and ดำเนินการต่อ (suspend, resume: the deadline clock pauses), ปิดเรื่อง (close with a result, per unit), เปิด
เรื่องใหม่ (reopen), รับทราบ (acknowledge, once); each step stages its `delivery.*` event in the same
transaction. Then what each person has to do (the worklist) and the follow-up per division and person.

The gateway has checked the roles, and that the people named exist, are active and belong to the caller's
unit; routing checks everything it owns: the delivery in the caller's unit (404 otherwise), the state (409),
who may act on it (403), the units assigned within the agency (422)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError

from services.routing.adapters import tables
from services.routing.adapters.repository import DeliveryRepository, DirectoryRepository, WorkRepository
from services.routing.domain.deliveries import WorkConflict, next_work
from services.routing.domain.work import (
    OPEN,
    Refusal,
    Tally,
    agency_of,
    check_order,
    check_text,
    in_agency,
    may_act,
    month_start,
    overdue,
    paused_seconds,
    resumed_due,
)
from services.routing.service import _annotations_readable, _envelope, hand_on
from shared import thai
from shared.contracts import (
    DeliveryAcknowledged,
    DeliveryClosed,
    DeliveryOrdered,
    DeliveryProposed,
    DeliveryRef,
    DeliveryReopened,
    DeliveryResumed,
    DeliverySuspended,
)
from shared.db import Database
from shared.outbox import stage
from shared.principal import CLEARANCE_ORDER, Principal
from shared.problems import Problem, not_found

HEAD_ROLE = "executive"
YOURS = "หนังสือที่ส่งถึงหน่วยงานท่าน"


class OrderRequest(BaseModel):
    """What routing takes for an order; the gateway has checked the people it names."""

    model_config = ConfigDict(extra="forbid")
    decision: str
    decision_text: str = ""
    note: str = ""
    deadline: datetime | None = None
    assignee_org_ids: list[uuid.UUID] = []
    assignee_usernames: list[str] = []
    for_information: list[str] = []
    # The unit and clearance of each person named, as the gateway knows them.
    people_org_ids: dict[str, uuid.UUID | None] = {}
    people_clearances: dict[str, str] = {}


def _check_people(
    delivery: dict, units: dict[str, uuid.UUID | None], clearances: dict[str, str], field_of: dict[str, str]
) -> None:
    """People named on a delivery belong to its unit (they read it and act on it there; a division is assigned
    as a unit, and gets its own delivery), and are cleared for the letter's level."""
    errors = []
    for name, field in field_of.items():
        if units.get(name) != delivery["recipient_org_id"]:
            errors.append({"field": field, "message": f"{name} ไม่ได้อยู่ในหน่วยงานของท่าน (not a person of your unit)"})
        elif not cleared(clearances.get(name, "normal"), delivery["secrecy"]):
            message = f"{name} ไม่มีสิทธิ์เข้าถึงหนังสือชั้นความลับนี้ (not cleared for this letter's secrecy level)"
            errors.append({"field": field, "message": message})
    if errors:
        raise Problem(422, errors[0]["message"], errors=errors)


def cleared(clearance: str, secrecy: str) -> bool:
    levels = CLEARANCE_ORDER
    return clearance in levels and secrecy in levels and levels.index(clearance) >= levels.index(secrecy)


def _refuse(refusals: list[Refusal]) -> None:
    if refusals:
        raise Problem(
            422,
            refusals[0].message,
            errors=[{"field": r.field, "message": r.message} for r in refusals],
        )


def _next(delivery: dict, action: str) -> tuple[str, str | None]:
    try:
        return next_work(action, delivery["status"], delivery["stage"])
    except WorkConflict as conflict:
        raise Problem(409, str(conflict)) from None


async def _locked(session, delivery_id: uuid.UUID, who: Principal) -> dict:
    delivery = await DeliveryRepository(session).for_recipient(delivery_id, who.org_id, lock=True)
    if delivery is None:
        raise not_found(YOURS)
    return delivery


def _event(cls, delivery: dict, now: datetime, **extra):
    return cls(
        delivery_id=delivery["id"],
        letter_id=delivery["letter_id"],
        org_id=delivery["recipient_org_id"],
        sender_org_id=delivery["sender_org_id"],
        occurred_at=now,
        **extra,
    )


async def _stage(session, event, who: Principal) -> None:
    await stage(session, tables.outbox, _envelope(event, event.delivery_id, None, actor=who.user))


# ── เสนอ and สั่งการ ────────────────────────────────────────────────────────────────────────────────────────


async def propose(
    db: Database,
    delivery_id: uuid.UUID,
    to_username: str,
    to_org_id: uuid.UUID | None,
    summary: str,
    who: Principal,
    to_clearance: str = "normal",
) -> dict:
    """เสนอ: the clerk puts the registered letter before a head of the unit (`to_org_id`: his unit, as the
    gateway knows it) with a summary; proposing again (to another head) replaces the proposal; both are kept."""
    _refuse([r for r in (check_text("summary", summary),) if r])
    async with db.transaction() as session:
        delivery = await _locked(session, delivery_id, who)
        status, stage_ = _next(delivery, "propose")
        _check_people(delivery, {to_username: to_org_id}, {to_username: to_clearance}, {to_username: "to_username"})
        now = thai.now()
        row = {
            "id": uuid.uuid4(),
            "delivery_id": delivery_id,
            "to_username": to_username,
            "summary": summary,
            "proposed_by": who.user,
            "proposed_at": now,
        }
        await WorkRepository(session).add_proposal(row)
        await DeliveryRepository(session).update(delivery_id, status=status, stage=stage_, proposed_to=to_username)
        await _stage(session, _event(DeliveryProposed, delivery, now, to_username=to_username), who)
    return await work_of(db, delivery_id, who)


async def order(db: Database, delivery_id: uuid.UUID, request: OrderRequest, who: Principal) -> dict:
    """สั่งการ by a head of the unit. Locked once given: a new order supersedes the one in force (both stay in
    the history) and starts the deadline clock again. Each division assigned gets a delivery of the letter of
    its own, as by ส่งต่อ, which it registers in its own receive register; a division already holding the
    letter keeps the one it has."""
    if HEAD_ROLE not in who.roles:
        raise Problem(403, "ผู้สั่งการต้องเป็นผู้บริหารของหน่วยงานนี้ (only a head of this unit may order)")
    now = thai.now()
    people = {
        "assignee": list(dict.fromkeys(request.assignee_usernames)),
        "information": list(dict.fromkeys(request.for_information)),
    }
    targets = list(dict.fromkeys(request.assignee_org_ids))
    _refuse(
        check_order(request.decision, request.decision_text, request.deadline, now, targets, *people.values())
        + [r for r in (check_text("note", request.note, required=False),) if r]
    )
    async with db.transaction() as session:
        delivery = await _locked(session, delivery_id, who)
        status, stage_ = _next(delivery, "order")
        named = {name: "for_information" for name in people["information"]}
        named |= {name: "assignee_usernames" for name in people["assignee"]}
        _check_people(delivery, request.people_org_ids, request.people_clearances, named)
        await _check_assignable(DirectoryRepository(session), who.org_id, targets)
        units, refs = await _assigned_units(session, delivery, targets)
        work = WorkRepository(session)
        previous = delivery["order_id"]
        if previous:
            await work.supersede(previous, now)
        row = {
            "id": uuid.uuid4(),
            "delivery_id": delivery_id,
            "org_id": who.org_id,
            "decision": request.decision,
            "decision_text": request.decision_text or None,
            "note": request.note or None,
            "deadline": request.deadline,
            "ordered_by": who.user,
            "ordered_at": now,
            "supersedes": previous,
        }
        await work.add_order(row, people, units)
        await DeliveryRepository(session).update(
            delivery_id,
            status=status,
            stage=stage_,
            order_id=row["id"],
            proposed_to=None,
            due_at=request.deadline,
            suspended_at=None,
            paused_seconds=0,
        )
        if refs:
            await _forward_to_assigned(session, delivery, refs, request.note, who, now)
        ordered = _event(
            DeliveryOrdered,
            delivery,
            now,
            order_id=row["id"],
            decision=request.decision,
            deadline=request.deadline,
            assignee_org_ids=list(units),
            assignee_usernames=people["assignee"],
            for_information=people["information"],
            supersedes=previous,
        )
        await _stage(session, ordered, who)
    return await work_of(db, delivery_id, who)


async def _chain(directory: DirectoryRepository, org_id: uuid.UUID) -> list[dict]:
    """The unit and its parents up to the top of the directory."""
    chain: list[dict] = []
    current = await directory.get(org_id)
    while current is not None and current["id"] not in {unit["id"] for unit in chain}:
        chain.append(current)
        current = await directory.get(current["parent_id"]) if current["parent_id"] else None
    return chain


async def _check_assignable(directory: DirectoryRepository, own: uuid.UUID, targets: list[uuid.UUID]) -> None:
    """Units assigned are in force, not the ordering unit itself, and within its agency (the department, or
    OPS, it belongs to): 422 naming each one that is not."""
    if not targets:
        return
    agency = agency_of(await _chain(directory, own))
    in_force = await directory.existing(targets)
    errors = []
    for target in targets:
        if target == own:
            errors.append("มอบหมายให้หน่วยงานของตนเองไม่ได้ มอบหมายเป็นรายบุคคลแทน (cannot assign to own unit)")
        elif target not in in_force:
            errors.append(f"ไม่พบหน่วยงาน {target} ในทะเบียนหน่วยงาน (unknown or retired unit)")
        elif not in_agency(await _chain(directory, target), agency):
            errors.append(f"หน่วยงาน {target} อยู่นอกส่วนราชการของท่าน มอบหมายไม่ได้ (unit outside the agency)")
    if errors:
        raise Problem(422, errors[0], errors=[{"field": "assignee_org_ids", "message": m} for m in errors])


async def _assigned_units(session, delivery: dict, targets: list[uuid.UUID]):
    """{unit: its delivery} for the units assigned, and the refs of the deliveries to make for those that do
    not hold the letter yet. The unit that sent the letter holds no delivery of it and cannot be assigned."""
    repo = DeliveryRepository(session)
    if delivery["sender_org_id"] in targets:
        message = "หน่วยงานที่ส่งหนังสือนี้มา มอบหมายไม่ได้ (the sending unit cannot be assigned its own letter)"
        raise Problem(422, message, errors=[{"field": "assignee_org_ids", "message": message}])
    held = await repo.held_by(delivery["letter_id"], targets) if targets else {}
    refs = [DeliveryRef(delivery_id=uuid.uuid4(), recipient_org_id=t) for t in targets if t not in held]
    units = {t: held.get(t) or next(r.delivery_id for r in refs if r.recipient_org_id == t) for t in targets}
    return units, refs


async def _forward_to_assigned(session, delivery: dict, refs: list[DeliveryRef], note: str, who, now) -> None:
    """Divisions assigned get their deliveries through the forward machinery; the order's note stays in
    routing. The ordering unit keeps its own delivery open: it closes it when the work is done."""
    await hand_on(session, delivery, refs, who, now, note, announced=False)


# ── พักเรื่อง, ดำเนินการต่อ, ปิดเรื่อง, เปิดเรื่องใหม่ ─────────────────────────────────────────────────────────────


async def _may_act(session, delivery: dict, who: Principal, action: str) -> None:
    """Only a person the order in force assigns, or the head who gave it (403 for anyone else in the unit)."""
    work = WorkRepository(session)
    current = await work.order(delivery["order_id"])
    people = (await work.people_of([current["id"]])).get(current["id"], {}) if current else {}
    if not may_act(who.user, current, people.get("assignee", [])):
        raise Problem(
            403,
            f"เรื่องนี้ไม่ได้มอบหมายให้ท่าน จึง{action}ไม่ได้ (only an assignee of this letter, or the head who "
            "ordered it, may do this)",
        )


async def suspend(db: Database, delivery_id: uuid.UUID, reason: str, who: Principal) -> dict:
    """พักเรื่อง with a reason: until resumed, the deadline clock stands still."""
    _refuse([r for r in (check_text("reason", reason),) if r])
    async with db.transaction() as session:
        delivery = await _locked(session, delivery_id, who)
        status, stage_ = _next(delivery, "suspend")
        await _may_act(session, delivery, who, "พักเรื่อง")
        now = thai.now()
        await DeliveryRepository(session).update(delivery_id, status=status, stage=stage_, suspended_at=now)
        await _step(session, delivery_id, "suspend", who, now, reason)
        await _stage(session, _event(DeliverySuspended, delivery, now), who)
    return await work_of(db, delivery_id, who)


async def resume(db: Database, delivery_id: uuid.UUID, who: Principal) -> dict:
    """ดำเนินการต่อ: the due moment moves by the time the matter stood suspended."""
    async with db.transaction() as session:
        delivery = await _locked(session, delivery_id, who)
        status, stage_ = _next(delivery, "resume")
        await _may_act(session, delivery, who, "ดำเนินการต่อ")
        now = thai.now()
        await DeliveryRepository(session).update(delivery_id, status=status, stage=stage_, **_unpaused(delivery, now))
        await _step(session, delivery_id, "resume", who, now, None)
        await _stage(session, _event(DeliveryResumed, delivery, now), who)
    return await work_of(db, delivery_id, who)


def _unpaused(delivery: dict, now: datetime) -> dict:
    suspended_at = delivery["suspended_at"]
    if suspended_at is None:
        return {}
    return {
        "due_at": resumed_due(delivery["due_at"], suspended_at, now),
        "paused_seconds": delivery["paused_seconds"] + paused_seconds(suspended_at, now),
        "suspended_at": None,
    }


async def close(db: Database, delivery_id: uuid.UUID, result: str, who: Principal) -> dict:
    """ปิดเรื่อง (เรื่องเสร็จ) for this unit, with the result; the sender sees when each unit closed it."""
    _refuse([r for r in (check_text("result", result),) if r])
    async with db.transaction() as session:
        delivery = await _locked(session, delivery_id, who)
        status, _ = _next(delivery, "close")
        await _may_act(session, delivery, who, "ปิดเรื่อง")
        now = thai.now()
        changes = {
            **_unpaused(delivery, now),
            "status": status,
            "stage": "ordered",  # a reopened matter is back under its order, suspended or not before
            "status_changed_at": now,
            "closed_at": now,
            "closed_by": who.user,
            "result": result,
        }
        await DeliveryRepository(session).update(delivery_id, **changes)
        await _step(session, delivery_id, "close", who, now, result)
        await _stage(session, _event(DeliveryClosed, delivery, now), who)
    return await work_of(db, delivery_id, who)


async def reopen(db: Database, delivery_id: uuid.UUID, who: Principal) -> dict:
    """เปิดเรื่องใหม่ by a head of the unit: the order in force stands again, its assignees act again."""
    if HEAD_ROLE not in who.roles:
        raise Problem(403, "ผู้บริหารของหน่วยงานเท่านั้นเปิดเรื่องใหม่ได้ (only a head of this unit may reopen)")
    async with db.transaction() as session:
        delivery = await _locked(session, delivery_id, who)
        status, stage_ = _next(delivery, "reopen")
        now = thai.now()
        changes = {
            "status": status,
            "stage": stage_,
            "status_changed_at": now,
            "closed_at": None,
            "closed_by": None,
            "result": None,
        }
        await DeliveryRepository(session).update(delivery_id, **changes)
        await _step(session, delivery_id, "reopen", who, now, None)
        await _stage(session, _event(DeliveryReopened, delivery, now), who)
    return await work_of(db, delivery_id, who)


async def _step(session, delivery_id: uuid.UUID, action: str, who: Principal, now, text: str | None) -> None:
    row = {"delivery_id": delivery_id, "action": action, "actor": who.user, "at": now, "text": text}
    await WorkRepository(session).add_step(row)


# ── รับทราบ ──────────────────────────────────────────────────────────────────────────────────────────────────


async def acknowledge(db: Database, delivery_id: uuid.UUID, who: Principal) -> dict:
    """รับทราบ by a person an order gave the letter for information: once, never undone (409 the second time)."""
    try:
        async with db.transaction() as session:
            delivery = await _locked(session, delivery_id, who)
            _next(delivery, "acknowledge")
            work = WorkRepository(session)
            order_id = await work.informed(delivery_id, who.user)
            if order_id is None:
                raise Problem(403, "ท่านไม่ได้รับหนังสือนี้เพื่อทราบ (this letter was not given to you for information)")
            if done := await work.acknowledged(delivery_id, who.user):
                raise _twice(done)
            now = thai.now()
            row = {"delivery_id": delivery_id, "username": who.user, "order_id": order_id, "acknowledged_at": now}
            await work.acknowledge(row)
            await _stage(session, _event(DeliveryAcknowledged, delivery, now, username=who.user), who)
    except IntegrityError:  # the same person pressing twice at once: the other press recorded it
        async with db.read() as session:
            raise _twice(await WorkRepository(session).acknowledged(delivery_id, who.user) or {}) from None
    return await work_of(db, delivery_id, who)


def _twice(done: dict) -> Problem:
    when = f" เมื่อ {thai.date_th(done['acknowledged_at'])}" if done.get("acknowledged_at") else ""
    return Problem(409, f"ท่านรับทราบหนังสือนี้แล้ว{when} รับทราบได้ครั้งเดียว (already acknowledged)")


# ── What the unit sees of the work; what each person has to do ─────────────────────────────────────────────


async def work_of(db: Database, delivery_id: uuid.UUID, who: Principal) -> dict:
    """The delivery's work as its unit sees it: status and stage, when it is due, every proposal and order
    (superseded ones too) with whom each named and who has acknowledged, and the other steps. The summaries,
    notes and results speak of the letter, so they are as secret as it is (404 without clearance)."""
    await _annotations_readable(db, delivery_id, who)
    async with db.read() as session:
        delivery = await DeliveryRepository(session).for_recipient(delivery_id, who.org_id)
        if delivery is None:
            raise not_found(YOURS)
        work = WorkRepository(session)
        history = await work.history(delivery_id)
        order_ids = [o["id"] for o in history["orders"]]
        people = await work.people_of(order_ids)
        units = await work.units_of(order_ids)
    acknowledged = {a["username"]: a["acknowledged_at"] for a in history["acknowledgements"]}
    now = thai.now()
    return {
        "delivery_id": delivery["id"],
        "letter_id": delivery["letter_id"],
        "org_id": delivery["recipient_org_id"],
        "status": delivery["status"],
        "stage": delivery["stage"],
        "proposed_to": delivery["proposed_to"],
        "order_id": delivery["order_id"],
        "due_at": _due(delivery, now),
        "overdue": overdue(delivery["due_at"], delivery["stage"], delivery["status"], now),
        "suspended_at": delivery["suspended_at"],
        "paused_seconds": delivery["paused_seconds"],
        "closed_at": delivery["closed_at"],
        "closed_by": delivery["closed_by"],
        "result": delivery["result"],
        "proposals": [
            {k: p[k] for k in ("id", "to_username", "summary", "proposed_by", "proposed_at")}
            for p in history["proposals"]
        ],
        "orders": [_order(o, people.get(o["id"], {}), units.get(o["id"], []), acknowledged) for o in history["orders"]],
        "steps": [{k: s[k] for k in ("action", "actor", "at", "text")} for s in history["steps"]],
    }


def _due(delivery: dict, now: datetime) -> datetime | None:
    """When it is due; while suspended, as it would be if resumed now (the clock stands still)."""
    if delivery["suspended_at"] is not None and delivery["status"] == "received":
        return resumed_due(delivery["due_at"], delivery["suspended_at"], now)
    return delivery["due_at"]


def _order(row: dict, people: dict[str, list[str]], units: list[dict], acknowledged: dict) -> dict:
    return {
        "id": row["id"],
        "decision": row["decision"],
        "decision_text": row["decision_text"],
        "note": row["note"],
        "deadline": row["deadline"],
        "ordered_by": row["ordered_by"],
        "ordered_at": row["ordered_at"],
        "supersedes": row["supersedes"],
        "superseded_at": row["superseded_at"],
        "in_force": row["superseded_at"] is None,
        "assignee_units": units,
        "assignee_usernames": people.get("assignee", []),
        # Read proof: who has acknowledged and when; None for those who have not yet.
        "for_information": [
            {"username": name, "acknowledged_at": acknowledged.get(name)} for name in people.get("information", [])
        ],
    }


async def worklist(db: Database, who: Principal) -> list[dict]:
    """งานของฉัน: letters of the person's unit proposed to him, assigned to him, and given to him for
    information that he has not acknowledged; overdue first, then by due moment, then the newest."""
    now = thai.now()
    async with db.read() as session:
        work = WorkRepository(session)
        found = [
            *(_item("proposed", row, now) for row in await work.proposed_to(who.user, who.org_id)),
            *(_item("assigned", row, now) for row in await work.assigned_to(who.user, who.org_id)),
            *(_item("for_information", row, now) for row in await work.to_acknowledge(who.user, who.org_id)),
        ]
    return sorted(found, key=_urgency_of_work)


def _item(kind: str, row: dict, now: datetime) -> dict:
    due = _due(row, now) if row["status"] == "received" else None
    return {
        "kind": kind,
        "delivery_id": row["id"],
        "letter_id": row["letter_id"],
        "doc_no": row["doc_no"],
        "subject": row["subject"],
        "secrecy": row["secrecy"],
        "urgency": row["urgency"],
        "sender_org_id": row["sender_org_id"],
        "org_id": row["recipient_org_id"],
        "status": row["status"],
        "stage": row["stage"],
        "decision": row.get("decision"),
        "due_at": due,
        "overdue": kind != "for_information" and overdue(row["due_at"], row["stage"], row["status"], now),
        "arrived_at": row["arrived_at"],  # when it came to the person
    }


def _urgency_of_work(item: dict):
    due = item["due_at"]
    return (not item["overdue"], due is None, due.timestamp() if due else 0, -item["arrived_at"].timestamp())


# ── การติดตาม per division and per person ─────────────────────────────────────────────────────────────────


async def follow_up(db: Database, who: Principal) -> dict:
    """For the caller's unit and every unit under it, and for each person an order in force assigns there:
    open, overdue, closed this month, and the median time to close of what was closed this month (a unit:
    from registration; a person: from the order)."""
    now = thai.now()
    since = month_start(now.astimezone(thai.BANGKOK))
    async with db.read() as session:
        units = _below(await DirectoryRepository(session).everything(), who.org_id)
        rows = await WorkRepository(session).tallied(list(units), OPEN, since) if units else []
    by_unit = {org: Tally() for org in units}
    by_person: dict[str, Tally] = {}
    counted: set[uuid.UUID] = set()
    for row in rows:
        if row["id"] not in counted:  # one row per assignee: a delivery counts once for its unit
            counted.add(row["id"])
            by_unit[row["recipient_org_id"]].add(
                row["status"], row["stage"], row["due_at"], row["started_at"], row["closed_at"], now, since
            )
        if row["assignee"]:
            by_person.setdefault(row["assignee"], Tally()).add(
                row["status"], row["stage"], row["due_at"], row["ordered_at"], row["closed_at"], now, since
            )
    return {
        "units": [{"org_id": org, **by_unit[org].as_dict()} for org in units],
        "people": [{"username": name, **tally.as_dict()} for name, tally in sorted(by_person.items())],
    }


def _below(rows: list[dict], root: uuid.UUID) -> list[uuid.UUID]:
    """The unit and every unit under it, the unit first, then in directory order."""
    children: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in rows:
        if row["parent_id"]:
            children.setdefault(row["parent_id"], []).append(row["id"])
    if root not in {row["id"] for row in rows}:
        return []
    found, queue = [root], [root]
    while queue:
        for child in children.get(queue.pop(0), []):
            if child not in found:
                found.append(child)
                queue.append(child)
    return found
