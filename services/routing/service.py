"""Routing's use cases: the directory, delivering a sent letter, the inbox, receiving (ลงรับ)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime
from pathlib import Path

from services.routing.adapters import tables
from services.routing.adapters.repository import (
    AnnotationRepository,
    DeliveryRepository,
    DirectoryRepository,
    GroupRepository,
    ReceiveRegisterRepository,
)
from services.routing.domain.deliveries import (
    RECEIVE_REGISTER,
    TRANSITIONS,
    URGENCY_RANK,
    DeliveryConflict,
    check_reason,
    next_status,
    receive_repeated,
)
from services.routing.domain.directory import (
    DirectoryDiff,
    Unit,
    changed_fields,
    check_directory,
    diff,
    parse_file,
    registry_of,
    with_registry,
)
from shared import thai
from shared.contracts import (
    AccessDenied,
    DeliveryAnnotated,
    DeliveryDelivered,
    DeliveryForwarded,
    DeliveryRecalled,
    DeliveryReceived,
    DeliveryRef,
    DeliveryRejected,
    DeliveryReportedInvalid,
    DeliveryReturned,
    DirectoryUnit,
    DirectoryUnitAdded,
    DirectoryUnitChanged,
    DirectoryUnitRetired,
    Envelope,
    LetterSent,
)
from shared.counters import next_number
from shared.db import Database
from shared.outbox import stage, stage_many
from shared.principal import CLEARANCE_ORDER, Principal
from shared.problems import Problem, not_found
from shared.registers import (
    NextNumberRequest,
    check_admin,
    check_scope,
    check_settable_year,
    move_next_number,
    register_subject,
)
from shared.seed import SAMPLE_DIRECTORY, group_id, org_id
from shared.web import correlation_id

SOURCE = "sarabun/routing"
log = logging.getLogger("sarabun.routing")


# ── The directory: import, export, the sample, groups ────────────────────────────────────────────────────

# Not registered yet: a unit holding such a letter may not be retired (its clerk must act on it first).
UNREGISTERED = ("pending", "delivered")
NAMING_FIELDS = ("name", "name_en", "code", "national_code")
MAX_ERRORS = 500  # a file wrong on every row names the first ones, enough to see the pattern


def _unit(row: dict, keys: dict[uuid.UUID, str]) -> Unit:
    return Unit(
        key=row["key"],
        name=row["name"],
        name_en=row["name_en"],
        code=row["code"],
        national_code=row["national_code"],
        kind=row["kind"],
        parent_key=keys.get(row["parent_id"]) if row["parent_id"] else None,
        own_registers=row["own_registers"],
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
    )


def _row(unit: Unit) -> dict:
    return {
        "id": unit.id,
        "key": unit.key,
        "name": unit.name,
        "name_en": unit.name_en,
        "code": unit.code,
        "national_code": unit.national_code,
        "kind": unit.kind,
        "parent_id": org_id(unit.parent_key) if unit.parent_key else None,
        "own_registers": unit.own_registers,
        "valid_from": unit.valid_from,
        "valid_to": unit.valid_to,
    }


def _units(rows: list[dict]) -> list[Unit]:
    keys = {row["id"]: row["key"] for row in rows}
    return [_unit(row, keys) for row in rows]


def refuse_file(errors: list[dict]) -> Problem:
    return Problem(
        422,
        f"ไฟล์ทะเบียนหน่วยงานมีข้อผิดพลาด {len(errors)} แห่ง ไม่ได้นำเข้าสิ่งใด "
        f"(the directory file has {len(errors)} errors; nothing was imported)",
        errors=errors[:MAX_ERRORS],
    )


async def import_directory(db: Database, units: list[Unit], dry_run: bool, actor: str) -> dict:
    """The file is the whole directory. All or nothing, in one transaction; a dry run only says what would
    change. Each added, changed or retired unit stages its `directory.unit.*` event with the change."""
    today = thai.today()
    if errors := check_directory(units, today):
        raise refuse_file(errors)
    async with db.read() if dry_run else db.transaction() as session:
        repo = DirectoryRepository(session)
        if not dry_run:
            await repo.lock()
        before = await repo.everything()
        changes = diff(_units(before), units, today)
        await _check_retirable(session, changes.retired)
        if not dry_run:
            await _apply(session, repo, {row["key"]: row for row in before}, changes, actor)
    if not dry_run and not changes.empty:
        log.info(
            "%s imported the directory: %d added, %d changed, %d retired",
            actor,
            len(changes.added),
            len(changes.changed),
            len(changes.retired),
        )
    return {
        "applied": not dry_run,
        "added": [unit.key for unit in changes.added],
        "changed": [unit.key for unit, _ in changes.changed],
        "retired": [unit.key for unit in changes.retired],
        "changed_fields": {unit.key: list(names) for unit, names in changes.changed},
    }


async def _check_retirable(session, retiring: tuple[Unit, ...]) -> None:
    """A unit still holding letters it has not registered cannot go: they would be stranded in an inbox
    nobody can open any more."""
    held = await DeliveryRepository(session).unregistered_counts([unit.id for unit in retiring], UNREGISTERED)
    errors = [
        {
            "row": unit.row,
            "field": "valid_to",
            "message": f"หน่วยงาน {unit.key} ({unit.name}) ยังมีหนังสือที่ยังไม่ได้ลงรับ {held[unit.id]} ฉบับ "
            f"จึงยุติไม่ได้ (unit {unit.key} holds {held[unit.id]} letters not yet registered; it cannot be retired)",
        }
        for unit in retiring
        if held.get(unit.id)
    ]
    if errors:
        raise Problem(
            422,
            "ยุติหน่วยงานที่ยังมีหนังสือค้างลงรับไม่ได้ ไม่ได้นำเข้าสิ่งใด "
            "(a unit holding letters not yet registered cannot be retired; nothing was imported)",
            errors=errors,
        )


async def _apply(session, repo: DirectoryRepository, before: dict[str, dict], changes: DirectoryDiff, actor: str):
    now = thai.now()
    events = []
    for unit in changes.added:
        await repo.add(_row(unit))
        events.append(_unit_event(DirectoryUnitAdded, unit, now))
    for unit, names in changes.changed:
        await _rewrite(repo, before[unit.key], unit, names, now)
        events.append(_unit_event(DirectoryUnitChanged, unit, now, changed_fields=list(names)))
    for unit in changes.retired:
        old = before[unit.key]
        await _rewrite(repo, old, unit, changed_fields(_units([old])[0], unit), now)
        events.append(_unit_event(DirectoryUnitRetired, unit, now))
    cid = correlation_id.get()
    envelopes = [e.envelope(source=SOURCE, subject=str(e.org_id), actor=actor, correlation_id=cid) for e in events]
    await stage_many(session, tables.outbox, envelopes)


async def _rewrite(repo: DirectoryRepository, old: dict, unit: Unit, names, now) -> None:
    """A rename keeps the earlier name and codes, so a letter sent before it still shows them."""
    if any(name in NAMING_FIELDS for name in names):
        await repo.keep_earlier_name(old, now)
    row = _row(unit)
    await repo.update(unit.id, {k: v for k, v in row.items() if k not in ("id", "key")})


def _unit_event(cls, unit: Unit, now, **extra):
    fields = unit.as_dict()
    return cls(
        org_id=unit.id,
        parent_org_id=org_id(unit.parent_key) if unit.parent_key else None,
        unit=DirectoryUnit(**fields),
        occurred_at=now,
        **extra,
    )


async def export_directory(db: Database) -> list[Unit]:
    """Every unit, retired ones too with their last day, so that importing the export changes nothing."""
    async with db.read() as session:
        return _units(await DirectoryRepository(session).everything())


async def seed_directory(db: Database, path: Path = SAMPLE_DIRECTORY) -> dict:
    """Demo mode and `sarabun seed`: the sample directory's units that are not there yet, through the same
    import, so they are checked like any file and announced like any change (`directory.unit.added`, by
    "system"): the services keeping a copy of the directory learn them so, and the audit log records when
    they came. Units already there, or added by an administrator, are left as they are; nothing is retired;
    an unchanged file changes nothing."""
    units, errors = parse_file(await asyncio.to_thread(path.read_bytes), path.name)
    if errors:
        raise RuntimeError(f"{path}: {errors[:5]}")
    async with db.read() as session:
        existing = _units(await DirectoryRepository(session).everything())
    have = {unit.key for unit in existing}
    missing = [unit for unit in units if unit.key not in have]
    if not missing:
        return {"applied": True, "added": [], "changed": [], "retired": [], "changed_fields": {}}
    return await import_directory(db, existing + missing, dry_run=False, actor="system")


# The sample's recipient groups, by a rule over the directory rather than a list, so they follow it.
SAMPLE_GROUPS = (
    ("mof-departments", "ทุกกรมในสังกัดกระทรวงการคลัง", lambda unit: unit.kind == "department"),
    # ส่วนราชการ: OPS and the departments. Divisions are reached through their department's registry.
    ("mof-all", "ทุกส่วนราชการในสังกัดกระทรวงการคลัง", lambda unit: True),
)


async def seed_groups(db: Database) -> None:
    today = thai.today()
    async with db.transaction() as session:
        units = _units(await DirectoryRepository(session).everything())
        under_mof = [u for u in units if u.parent_key == "mof" and u.current(today)]
        repo = GroupRepository(session)
        for key, name, member in SAMPLE_GROUPS:
            members = [unit.id for unit in under_mof if member(unit)]
            await repo.add_if_missing({"id": group_id(key), "key": key, "name": name}, members)


async def list_groups(db: Database) -> list[dict]:
    async with db.read() as session:
        return await GroupRepository(session).all()


async def expand_groups(db: Database, group_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """The member units of the groups, each once, in directory order; 422 naming unknown groups."""
    wanted = list(dict.fromkeys(group_ids))
    async with db.read() as session:
        repo = GroupRepository(session)
        unknown = [str(g) for g in wanted if g not in await repo.existing(wanted)]
        if unknown:
            raise Problem(
                422,
                "ไม่พบกลุ่มผู้รับ (unknown recipient_group_ids)",
                errors=[{"field": "recipient_group_ids", "message": f"unknown: {g}"} for g in unknown],
            )
        members = await repo.members(wanted)
    return list(dict.fromkeys(org for g in wanted for org in members.get(g, [])))


async def list_orgs(db: Database, retired: bool = False, at: datetime | None = None) -> list[dict]:
    """The units in force (with `retired`, the retired ones too, which old letters name), each with its registry
    (`registry_id`, `registry_code`); with `at`, under the names and codes they had at that moment."""
    async with db.read() as session:
        repo = DirectoryRepository(session)
        rows = await (repo.everything() if retired else repo.all())
        if at is not None:
            earlier = await repo.names_at(_bangkok(at))
            rows = [_renamed(row, earlier.get(row["id"])) for row in rows]
    by_id = {row["id"]: row for row in rows}
    return [with_registry(row, by_id) for row in rows]


async def _ancestry(repo: DirectoryRepository, org: dict) -> dict[uuid.UUID, dict]:
    """The unit and its parents up to the first that keeps its own registers: all `registry_of` needs."""
    chain: dict[uuid.UUID, dict] = {}
    current: dict | None = org
    while current is not None and current["id"] not in chain:
        chain[current["id"]] = current
        if current["own_registers"] or current["parent_id"] is None:
            break
        current = await repo.get(current["parent_id"])
    return chain


async def registry_unit(repo: DirectoryRepository, org_id: uuid.UUID) -> dict | None:
    """The unit whose registers number `org_id`'s letters (itself, or its central registry); None if unknown."""
    org = await repo.get(org_id)
    if org is None:
        return None
    chain = await _ancestry(repo, org)
    return chain[registry_of(org_id, chain)]


async def get_org(db: Database, unit_id: uuid.UUID, at: datetime | None = None) -> dict:
    """A unit, retired ones too (old letters name them); with `at`, under the name and codes it had then."""
    at = _bangkok(at) if at else None
    async with db.read() as session:
        repo = DirectoryRepository(session)
        org = await repo.get(unit_id)
        if org is None:
            raise not_found("หน่วยงาน")
        chain = await _ancestry(repo, org)
        if at:
            chain = {key: await _named_at(repo, row, at) for key, row in chain.items()}
    return with_registry(chain[unit_id], chain)


async def _named_at(repo: DirectoryRepository, org: dict, at: datetime) -> dict:
    return _renamed(org, await repo.name_at(org["id"], at))


def _renamed(org: dict, earlier: dict | None) -> dict:
    return {**org, **{name: earlier[name] for name in NAMING_FIELDS}} if earlier else org


def _bangkok(at: datetime) -> datetime:
    """A moment without an offset is Bangkok time, as people mean it."""
    return at.replace(tzinfo=thai.BANGKOK) if at.tzinfo is None else at


async def deliver_letters(session, envelopes: list[Envelope]) -> None:
    """A batch of `letter.sent` → one delivery per recipient of each letter, straight into its inbox
    (`delivery.delivered`), in a few statements for the whole batch, however many letters and recipients.
    A delivery that exists already (a letter sent again, or twice in the batch) is neither added nor
    announced again."""
    now = thai.now()
    rows: dict[uuid.UUID, dict] = {}
    causes: dict[uuid.UUID, Envelope] = {}
    for envelope in envelopes:
        letter = LetterSent.model_validate(envelope.data)
        for ref in letter.deliveries:
            if ref.delivery_id not in rows:
                rows[ref.delivery_id] = _delivery_row(letter, ref.delivery_id, ref.recipient_org_id, now)
                causes[ref.delivery_id] = envelope
    added = await DeliveryRepository(session).add_missing(list(rows.values()))
    await stage_many(session, tables.outbox, [_delivered(row, causes[row["id"]]) for row in added])


def _delivered(row: dict, cause: Envelope) -> Envelope:
    event = DeliveryDelivered(
        delivery_id=row["id"],
        letter_id=row["letter_id"],
        sender_org_id=row["sender_org_id"],
        recipient_org_id=row["recipient_org_id"],
        delivered_at=row["delivered_at"],
    )
    return _envelope(event, row["id"], cause, actor="system")


def _delivery_row(letter: LetterSent, delivery_id, recipient_org_id, now) -> dict:
    return {
        "id": delivery_id,
        "letter_id": letter.letter_id,
        "sender_org_id": letter.sender_org_id,
        "recipient_org_id": recipient_org_id,
        "doc_no": letter.doc_no,
        "subject": letter.subject,
        "letter_type": letter.letter_type,
        "urgency": letter.urgency,
        "urgency_rank": URGENCY_RANK[letter.urgency],
        "secrecy": letter.secrecy,
        "circular": letter.circular,
        "status": "delivered",
        "sent_at": letter.sent_at,
        "deliver_by": letter.deliver_by,
        "delivered_at": now,
    }


def _envelope(event, delivery_id, cause: Envelope | None, actor: str) -> Envelope:
    envelope = event.envelope(
        source=SOURCE,
        subject=str(delivery_id),
        actor=actor,
        correlation_id=cause.correlation_id if cause else correlation_id.get(),
    )
    return envelope.model_copy(update={"causation_id": str(cause.id)}) if cause else envelope


async def receive(db: Database, delivery_id: uuid.UUID, who: Principal) -> dict:
    """ลงรับ: the next number of the receive register the recipient is numbered in (its own, or its central
    registry's when it keeps none); repeating it returns the same number."""
    async with db.transaction() as session:
        repo = DeliveryRepository(session)
        delivery = await repo.for_recipient(delivery_id, who.org_id, lock=True)
        if delivery is None:
            raise not_found("หนังสือที่ส่งถึงหน่วยงานท่าน")
        if receive_repeated(delivery["receive_no"]):
            return delivery
        _move(delivery, "receive")
        # The directory as it is now, in this transaction: routing keeps it, so no principal can be staler.
        registry = await registry_unit(DirectoryRepository(session), who.org_id)
        register_org_id = registry["id"] if registry else who.org_id
        received_at = thai.now()
        year = thai.buddhist_year(received_at)
        number = await next_number(session, tables.counters, register_org_id, RECEIVE_REGISTER, year)
        changes = {
            "status": "received",
            "status_changed_at": received_at,
            "received_at": received_at,
            "receive_no": number,
            "receive_year": year,
            "received_by": who.user,
            "register_org_id": register_org_id,
        }
        await repo.update(delivery_id, **changes)
        event = DeliveryReceived(
            # The receipt stamp names the unit whose register the number belongs to.
            recipient_org_name=registry["name"] if registry else "",
            delivery_id=delivery_id,
            letter_id=delivery["letter_id"],
            sender_org_id=delivery["sender_org_id"],
            recipient_org_id=who.org_id,
            receive_no=number,
            register_year=year,
            received_at=received_at,
            register_org_id=register_org_id,
        )
        await stage(session, tables.outbox, _envelope(event, delivery_id, None, actor=who.user))
    return {**delivery, **changes}


async def deliveries_of_letters(db: Database, letter_ids: list[uuid.UUID], who: Principal) -> list[dict]:
    async with db.read() as session:
        return await DeliveryRepository(session).of_letters(letter_ids, who.org_id)


async def inbox(db: Database, who: Principal, status: str | None, q: str | None, after, limit: int) -> list[dict]:
    async with db.read() as session:
        cleared = [level for level in CLEARANCE_ORDER if who.cleared_for(level)]
        return await DeliveryRepository(session).inbox(who.org_id, status, q, after, limit, cleared)


def _move(delivery: dict, action: str) -> str:
    """The delivery's next state, or 409 naming its current one."""
    try:
        return next_status(action, delivery["status"])
    except DeliveryConflict as conflict:
        raise Problem(409, str(conflict)) from None


def _require_reason(reason: str) -> None:
    if refusal := check_reason(reason):
        raise Problem(422, refusal, errors=[{"field": "reason", "message": refusal}])


RECIPIENT_EVENTS = {"return": DeliveryReturned, "reject": DeliveryRejected, "report_invalid": DeliveryReportedInvalid}


async def refuse(db: Database, delivery_id: uuid.UUID, action: str, reason: str, who: Principal) -> dict:
    """คืนเรื่อง / ปฏิเสธ / แจ้งหนังสือผิด: the recipient sends it back with a reason; the sender sees why."""
    _require_reason(reason)
    async with db.transaction() as session:
        repo = DeliveryRepository(session)
        delivery = await repo.for_recipient(delivery_id, who.org_id, lock=True)
        if delivery is None:
            raise not_found("หนังสือที่ส่งถึงหน่วยงานท่าน")
        changes = {"status": _move(delivery, action), "status_changed_at": thai.now(), "reason": reason}
        await repo.update(delivery_id, **changes)
        await stage(session, tables.outbox, _state_event(RECIPIENT_EVENTS[action], {**delivery, **changes}, who))
    return {**delivery, **changes}


async def recall(db: Database, letter_id: uuid.UUID, recipient_org_ids: list[uuid.UUID] | None, who: Principal):
    """ดึงคืน: the sender withdraws the letter from recipients that have not registered it. All or nothing:
    if any chosen delivery was already received, nothing is recalled and the answer is 409."""
    async with db.transaction() as session:
        repo = DeliveryRepository(session)
        chosen = await repo.sent_by(letter_id, who.org_id, lock=True)
        if not chosen:
            raise not_found("หนังสือของหน่วยงานท่าน")
        if recipient_org_ids is not None:
            chosen = [d for d in chosen if d["recipient_org_id"] in set(recipient_org_ids)]
            if len({d["recipient_org_id"] for d in chosen}) != len(set(recipient_org_ids)):
                raise Problem(422, "หน่วยงานที่ระบุไม่ได้เป็นผู้รับหนังสือนี้ (not a recipient of this letter)")
        now = thai.now()
        for delivery in chosen:
            if delivery["status"] == "recalled":
                continue  # recalling again changes nothing
            changes = {"status": _move(delivery, "recall"), "status_changed_at": now}
            await repo.update(delivery["id"], **changes)
            await stage(session, tables.outbox, _state_event(DeliveryRecalled, {**delivery, **changes}, who))
    return await deliveries_of_letters(db, [letter_id], who)


async def forward(db: Database, delivery_id: uuid.UUID, recipient_org_ids: list[uuid.UUID], note: str, who):
    """ส่งต่อ: a registered letter passed on; each new unit gets its own delivery of the same letter (same
    number), and the hop (who, to whom, when, note) is kept on the new delivery."""
    targets = list(dict.fromkeys(recipient_org_ids))
    if who.org_id in targets:
        raise Problem(422, "ส่งต่อถึงหน่วยงานของตนเองไม่ได้ (cannot forward to own unit)")
    async with db.transaction() as session:
        await _check_in_force(DirectoryRepository(session), targets)
        repo = DeliveryRepository(session)
        delivery = await repo.for_recipient(delivery_id, who.org_id, lock=True)
        if delivery is None:
            raise not_found("หนังสือที่ส่งถึงหน่วยงานท่าน")
        status = _move(delivery, "forward")
        holders = await repo.holders(delivery["letter_id"]) | {delivery["sender_org_id"]}
        if already := [str(t) for t in targets if t in holders]:
            raise Problem(409, f"หน่วยงานนี้มีหนังสือฉบับนี้อยู่แล้ว (already holds the letter): {', '.join(already)}")
        now = thai.now()
        await repo.update(delivery_id, status=status, status_changed_at=now)
        refs = [DeliveryRef(delivery_id=uuid.uuid4(), recipient_org_id=t) for t in targets]
        await hand_on(session, delivery, refs, who, now, note)
    return {**delivery, "status": status, "forwarded_to": [r.model_dump(mode="json") for r in refs]}


async def _check_in_force(directory: DirectoryRepository, org_ids: list[uuid.UUID]) -> None:
    """Every unit is in the directory and in force: a retired unit receives nothing new."""
    known = await directory.existing(org_ids)
    if unknown := [i for i in org_ids if i not in known]:
        raise Problem(
            422,
            "ไม่พบหน่วยงานผู้รับในทะเบียนหน่วยงาน (unknown recipient_org_ids)",
            errors=[{"field": "recipient_org_ids", "message": f"unknown: {u}"} for u in unknown],
        )


async def hand_on(session, delivery: dict, refs: list[DeliveryRef], who, now, note: str, announced: bool = True):
    """The forward machinery (ส่งต่อ, and assigning divisions): the hop as `delivery.forwarded`, so the letter's
    other keepers let the new units read it, then one new delivery per unit, each announced as delivered. The
    note goes on the new deliveries; `announced=False` keeps it out of the event (an order's note stays here)."""
    repo = DeliveryRepository(session)
    event = DeliveryForwarded(
        delivery_id=delivery["id"],
        letter_id=delivery["letter_id"],
        sender_org_id=delivery["sender_org_id"],
        recipient_org_id=who.org_id,
        note=note if announced else "",
        deliveries=refs,
        occurred_at=now,
    )
    await stage(session, tables.outbox, _envelope(event, delivery["id"], None, actor=who.user))
    for ref in refs:
        row = _forwarded_row(delivery, ref, who, note, now)
        await repo.add_missing([row])
        delivered = DeliveryDelivered(
            delivery_id=ref.delivery_id,
            letter_id=row["letter_id"],
            sender_org_id=row["sender_org_id"],
            recipient_org_id=ref.recipient_org_id,
            delivered_at=now,
        )
        await stage(session, tables.outbox, _envelope(delivered, ref.delivery_id, None, actor=who.user))


def _forwarded_row(original: dict, ref: DeliveryRef, who: Principal, note: str, now) -> dict:
    keep = (
        "letter_id",
        "sender_org_id",
        "doc_no",
        "subject",
        "letter_type",
        "urgency",
        "urgency_rank",
        "secrecy",
        "circular",
        "sent_at",
        "deliver_by",
    )
    return {
        **{k: original[k] for k in keep},
        "id": ref.delivery_id,
        "recipient_org_id": ref.recipient_org_id,
        "status": "delivered",
        "delivered_at": now,
        "status_changed_at": now,
        "forwarded_from": original["id"],
        "forwarded_by": who.user,
        "forward_note": note,
    }


def _state_event(cls, delivery: dict, who: Principal) -> Envelope:
    event = cls(
        delivery_id=delivery["id"],
        letter_id=delivery["letter_id"],
        sender_org_id=delivery["sender_org_id"],
        recipient_org_id=delivery["recipient_org_id"],
        status=delivery["status"],
        reason=delivery.get("reason") or "",
        occurred_at=delivery["status_changed_at"],
    )
    return _envelope(event, delivery["id"], None, actor=who.user)


async def pending(db: Database, letter_id: uuid.UUID, who: Principal) -> list[dict]:
    """Recipients that have not registered the letter yet (for the sender's follow-up)."""
    rows = await deliveries_of_letters(db, [letter_id], who)
    if not any(r["sender_org_id"] == who.org_id for r in rows):
        raise not_found("หนังสือของหน่วยงานท่าน")
    return [r for r in rows if r["status"] in TRANSITIONS["receive"].sources]


# ทะเบียนหนังสือรับ (the receive register). Imported here, beside the use cases that need them.


async def receive_register(db: Database, who: Principal, org_id: uuid.UUID, year: int, after: int | None, limit: int):
    """A unit's receive register for one Buddhist-era year, by receive number."""
    check_scope(who, org_id)
    async with db.read() as session:
        rows = await ReceiveRegisterRepository(session).rows(org_id, year, after, limit)
    return [
        {
            "register": RECEIVE_REGISTER,
            "register_no": row["receive_no"],
            "year": row["receive_year"],
            "delivery_id": row["id"],
            "letter_id": row["letter_id"],
            "doc_no": row["doc_no"],
            "circular": row["circular"],
            "sender_org_id": row["sender_org_id"],
            "recipient_org_id": row["recipient_org_id"],
            "subject": register_subject(who, row["subject"], row["secrecy"]),
            "status": row["status"],
            "sent_at": row["sent_at"],
            "received_at": row["received_at"],
            "received_by": row["received_by"],
        }
        for row in rows
    ]


async def set_receive_next_number(db: Database, who: Principal, request: NextNumberRequest) -> dict:
    """Where a unit's receive register continues this year; never below an issued number."""
    check_admin(who)
    if request.series is not None:
        message = "series ใช้กับทะเบียนหนังสือส่งเท่านั้น (series applies to the send register only)"
        raise Problem(422, message, errors=[{"field": "series", "message": message}])
    check_settable_year(request.year)
    org_id = request.org_id or who.register_org_id
    async with db.read() as session:  # a unit keeping no registers: its numbers are its registry's
        registry = await registry_unit(DirectoryRepository(session), org_id)
    org_id = registry["id"] if registry else org_id
    await move_next_number(
        db, tables.counters, tables.outbox, SOURCE, who, org_id, RECEIVE_REGISTER, request.year, request.next_number
    )
    return {
        "register": RECEIVE_REGISTER,
        "series": None,
        "org_id": org_id,
        "year": request.year,
        "next_number": request.next_number,
    }


async def annotate(db: Database, delivery_id: uuid.UUID, text: str, decision, position: str, who: Principal) -> dict:
    """เกษียน: the receiving unit's officers add summaries and decisions; nothing is ever edited."""
    await _annotations_readable(db, delivery_id, who)
    async with db.transaction() as session:
        delivery = await DeliveryRepository(session).for_recipient(delivery_id, who.org_id)
        if delivery is None:
            raise not_found("หนังสือที่ส่งถึงหน่วยงานท่าน")
        row = {
            "id": uuid.uuid4(),
            "delivery_id": delivery_id,
            "org_id": who.org_id,
            "author": who.user,
            "position": position,
            "text": text,
            "decision": decision,
            "created_at": thai.now(),
        }
        await AnnotationRepository(session).add(row)
        event = DeliveryAnnotated(
            delivery_id=delivery_id,
            letter_id=delivery["letter_id"],
            sender_org_id=delivery["sender_org_id"],
            recipient_org_id=who.org_id,
            annotation_id=row["id"],
            decision=decision,
            annotated_at=row["created_at"],
        )
        await stage(session, tables.outbox, _envelope(event, delivery_id, None, actor=who.user))
    return row


async def annotations_of(db: Database, delivery_id: uuid.UUID, who: Principal) -> list[dict]:
    """Visible to the receiving unit only, and of a classified letter only to users cleared for it."""
    await _annotations_readable(db, delivery_id, who)
    async with db.read() as session:
        return await AnnotationRepository(session).of_delivery(delivery_id)


async def _annotations_readable(db: Database, delivery_id: uuid.UUID, who: Principal) -> None:
    """เกษียน summarise the letter and decide on it, so they are as secret as the letter: outside the receiving
    unit, or without clearance for the letter's level, the answer is the same 404. A refusal for clearance is
    audited as a refused read of the letter."""
    async with db.read() as session:
        delivery = await DeliveryRepository(session).for_recipient(delivery_id, who.org_id)
    if delivery is None:
        raise not_found("หนังสือที่ส่งถึงหน่วยงานท่าน")
    if who.cleared_for(delivery["secrecy"]):
        return
    denied = AccessDenied(
        resource="letter",
        resource_id=delivery["letter_id"],
        letter_id=delivery["letter_id"],
        org_id=who.org_id,
        secrecy=delivery["secrecy"],
        denied_at=thai.now(),
    )
    async with db.transaction() as session:
        await stage(session, tables.outbox, _envelope(denied, delivery_id, None, actor=who.user))
    raise not_found("หนังสือที่ส่งถึงหน่วยงานท่าน")


OPEN = ("delivered", "received")  # still the recipient's to act on
AWAITING = TRANSITIONS["receive"].sources | {"pending"}  # not registered yet


async def follow_up(db: Database, who: Principal) -> dict:
    """การติดตาม for the caller's unit, oldest first: letters it holds past their deadline (ด่วนภายใน) and not
    acted on, and letters it sent that a recipient has not registered yet."""
    now = thai.now()
    async with db.read() as session:
        repo = DeliveryRepository(session)
        overdue = await repo.overdue(who.org_id, now, OPEN)
        unregistered = await repo.unregistered(who.org_id, tuple(AWAITING))
    return {"overdue": overdue, "unregistered": unregistered}
