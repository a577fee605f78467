"""Reads and writes of the directory and deliveries. Every delivery read is scoped in the query."""

from __future__ import annotations

import uuid
import zlib
from datetime import date, datetime

from sqlalchemy import and_, func, insert, or_, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.adapters.tables import (
    acknowledgements,
    annotations,
    deliveries,
    group_members,
    groups,
    order_people,
    order_units,
    orders,
    org_history,
    orgs,
    proposals,
    work_steps,
)
from shared import thai
from shared.db import insert_ignore

# Ids looked up per statement: well under the 32,766 bound parameters SQLite and PostgreSQL's driver allow.
LOOKUP_SLICE = 5000
WORKLIST_MAX = 500  # of each kind: a person with more has a backlog to clear, not a list to scroll


def current_units(today: date):
    """Units in force today: started, and their last day (inclusive) not yet past."""
    return and_(
        or_(orgs.c.valid_from.is_(None), orgs.c.valid_from <= today),
        or_(orgs.c.valid_to.is_(None), orgs.c.valid_to >= today),
    )


class DirectoryRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def all(self) -> list[dict]:
        """The units in force today (retired ones are kept, but not listed)."""
        query = select(orgs).where(current_units(thai.today())).order_by(orgs.c.code, orgs.c.key)
        return [dict(r) for r in (await self.session.execute(query)).mappings()]

    async def everything(self) -> list[dict]:
        """Every unit ever recorded, retired ones too (for import and export)."""
        rows = await self.session.execute(select(orgs).order_by(orgs.c.code, orgs.c.key))
        return [dict(r) for r in rows.mappings()]

    async def get(self, org_id: uuid.UUID) -> dict | None:
        row = (await self.session.execute(select(orgs).where(orgs.c.id == org_id))).mappings().first()
        return dict(row) if row else None

    async def existing(self, ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these units are in force: a retired unit receives no new letters."""
        query = select(orgs.c.id).where(orgs.c.id.in_(ids), current_units(thai.today()))
        return {r.id for r in await self.session.execute(query)}

    async def add(self, row: dict) -> None:
        await self.session.execute(insert(orgs).values(**row))

    async def update(self, org_id: uuid.UUID, values: dict) -> None:
        await self.session.execute(update(orgs).where(orgs.c.id == org_id).values(**values))

    async def count(self) -> int:
        return (await self.session.execute(select(func.count()).select_from(orgs))).scalar_one()

    async def lock(self) -> None:
        """One import at a time (PostgreSQL; SQLite has one writer anyway), so two cannot add the same unit."""
        if self.session.bind.dialect.name == "postgresql":
            await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(b"directory")})

    async def keep_earlier_name(self, org: dict, until: datetime) -> None:
        """Files the name and codes a unit had until now; the earlier entry's end is this one's start."""
        latest = select(func.max(org_history.c.valid_to)).where(org_history.c.org_id == org["id"])
        since = (await self.session.execute(latest)).scalar_one()
        await self.session.execute(
            insert(org_history).values(
                org_id=org["id"],
                name=org["name"],
                name_en=org["name_en"],
                code=org["code"],
                national_code=org["national_code"],
                valid_from=since,
                valid_to=until,
            )
        )

    async def name_at(self, org_id: uuid.UUID, at: datetime) -> dict | None:
        """The earlier name and codes in force at that moment, or None if the present ones were."""
        query = (
            select(org_history)
            .where(
                org_history.c.org_id == org_id,
                org_history.c.valid_to > at,
                or_(org_history.c.valid_from.is_(None), org_history.c.valid_from <= at),
            )
            .order_by(org_history.c.valid_to)
            .limit(1)
        )
        row = (await self.session.execute(query)).mappings().first()
        return dict(row) if row else None

    async def names_at(self, at: datetime) -> dict[uuid.UUID, dict]:
        """`name_at` for every unit that had another name or codes at that moment, in one query."""
        query = (
            select(org_history)
            .where(org_history.c.valid_to > at, or_(org_history.c.valid_from.is_(None), org_history.c.valid_from <= at))
            .order_by(org_history.c.valid_to.desc())
        )
        return {row["org_id"]: dict(row) for row in (await self.session.execute(query)).mappings()}


class GroupRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def all(self) -> list[dict]:
        rows = (await self.session.execute(select(groups).order_by(groups.c.key))).mappings().all()
        members = await self.members([r["id"] for r in rows])
        return [{**r, "member_org_ids": members.get(r["id"], [])} for r in rows]

    async def members(self, group_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
        query = (
            select(group_members.c.group_id, group_members.c.org_id)
            .join(orgs, orgs.c.id == group_members.c.org_id)
            .where(group_members.c.group_id.in_(group_ids), current_units(thai.today()))  # a retired unit: none
            .order_by(orgs.c.code)
        )
        found: dict[uuid.UUID, list[uuid.UUID]] = {}
        for row in await self.session.execute(query):
            found.setdefault(row.group_id, []).append(row.org_id)
        return found

    async def existing(self, group_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        rows = await self.session.execute(select(groups.c.id).where(groups.c.id.in_(group_ids)))
        return {r.id for r in rows}

    async def add_if_missing(self, group: dict, member_ids: list[uuid.UUID]) -> None:
        await self.session.execute(insert_ignore(self.session, groups, **group))
        for org_id in member_ids:
            await self.session.execute(insert_ignore(self.session, group_members, group_id=group["id"], org_id=org_id))


class DeliveryRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def add_missing(self, rows: list[dict]) -> list[dict]:
        """Inserts the deliveries that do not exist yet, in one statement, and returns those rows."""
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        existing = set()
        # In slices: a batch of circulars may name more deliveries than a statement may carry parameters.
        for start in range(0, len(ids), LOOKUP_SLICE):
            wanted = deliveries.c.id.in_(ids[start : start + LOOKUP_SLICE])
            existing.update((await self.session.execute(select(deliveries.c.id).where(wanted))).scalars())
        new = [row for row in rows if row["id"] not in existing]
        if new:
            await self.session.execute(insert(deliveries), new)
        return new

    async def of_letters(self, letter_ids: list[uuid.UUID], org_id: uuid.UUID) -> list[dict]:
        """The sender sees every delivery of its letter; a recipient only its own."""
        query = select(deliveries).where(
            deliveries.c.letter_id.in_(letter_ids),
            or_(deliveries.c.sender_org_id == org_id, deliveries.c.recipient_org_id == org_id),
        )
        return [dict(r) for r in (await self.session.execute(query)).mappings()]

    async def for_recipient(self, delivery_id: uuid.UUID, org_id: uuid.UUID, lock: bool = False) -> dict | None:
        query = select(deliveries).where(deliveries.c.id == delivery_id, deliveries.c.recipient_org_id == org_id)
        if lock:
            query = query.with_for_update()  # two clerks pressing ลงรับ at once get one number
        row = (await self.session.execute(query)).mappings().first()
        return dict(row) if row else None

    async def sent_by(self, letter_id: uuid.UUID, org_id: uuid.UUID, lock: bool = False) -> list[dict]:
        """The deliveries of a letter the unit sent, locked for a state change."""
        query = select(deliveries).where(deliveries.c.letter_id == letter_id, deliveries.c.sender_org_id == org_id)
        if lock:
            query = query.with_for_update()
        return [dict(r) for r in (await self.session.execute(query)).mappings()]

    async def holders(self, letter_id: uuid.UUID) -> set[uuid.UUID]:
        """Units that have (or had) a delivery of the letter."""
        rows = await self.session.execute(
            select(deliveries.c.recipient_org_id).where(deliveries.c.letter_id == letter_id)
        )
        return {r.recipient_org_id for r in rows}

    async def held_by(self, letter_id: uuid.UUID, org_ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """{unit: its delivery of the letter} for those of these units that hold one."""
        query = select(deliveries.c.recipient_org_id, deliveries.c.id).where(
            deliveries.c.letter_id == letter_id, deliveries.c.recipient_org_id.in_(org_ids)
        )
        return {row.recipient_org_id: row.id for row in await self.session.execute(query)}

    async def overdue(self, org_id: uuid.UUID, now, open_states) -> list[dict]:
        query = (
            select(deliveries)
            .where(
                deliveries.c.recipient_org_id == org_id,
                # Due by the head's order (moved by any pause), else by the sender's ด่วนภายใน; a suspended
                # matter's clock stands still.
                func.coalesce(deliveries.c.due_at, deliveries.c.deliver_by) < now,
                deliveries.c.status.in_(open_states),
                or_(deliveries.c.stage.is_(None), deliveries.c.stage != "suspended"),
            )
            .order_by(func.coalesce(deliveries.c.due_at, deliveries.c.deliver_by), deliveries.c.id)
        )
        return [dict(r) for r in (await self.session.execute(query.limit(500))).mappings()]

    async def unregistered(self, org_id: uuid.UUID, waiting_states) -> list[dict]:
        query = (
            select(deliveries)
            .where(deliveries.c.sender_org_id == org_id, deliveries.c.status.in_(waiting_states))
            .order_by(deliveries.c.sent_at, deliveries.c.letter_id, deliveries.c.id)
        )
        return [dict(r) for r in (await self.session.execute(query.limit(500))).mappings()]

    async def update(self, delivery_id: uuid.UUID, **values) -> None:
        await self.session.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(**values))

    async def unregistered_counts(self, org_ids: list[uuid.UUID], states) -> dict[uuid.UUID, int]:
        """How many letters each unit holds that it has not registered yet (as recipient)."""
        if not org_ids:
            return {}
        query = (
            select(deliveries.c.recipient_org_id, func.count())
            .where(deliveries.c.recipient_org_id.in_(org_ids), deliveries.c.status.in_(states))
            .group_by(deliveries.c.recipient_org_id)
        )
        return {org: count for org, count in await self.session.execute(query)}

    async def inbox(
        self, org_id: uuid.UUID, status: str | None, q: str | None, after: list | None, limit: int, cleared=()
    ):
        """Most urgent first, then newest; keyset-paged on (urgency_rank, delivered_at, id)."""
        query = select(deliveries).where(deliveries.c.recipient_org_id == org_id, deliveries.c.status != "pending")
        if status:
            query = query.where(deliveries.c.status == status)
        if q:  # a fragment of the subject or the number, anywhere, mid-word too (see shared/search.py)
            # A subject the reader may not see must not be findable by it either.
            subject = and_(deliveries.c.subject.contains(q, autoescape=True), deliveries.c.secrecy.in_(cleared))
            query = query.where(or_(subject, deliveries.c.doc_no.contains(q, autoescape=True)))
        if after:  # every sort key descends, so "after" is a plain row-value comparison
            key = tuple_(deliveries.c.urgency_rank, deliveries.c.delivered_at, deliveries.c.id)
            query = query.where(key < tuple_(*after))
        query = query.order_by(
            deliveries.c.urgency_rank.desc(), deliveries.c.delivered_at.desc(), deliveries.c.id.desc()
        )
        return [dict(r) for r in (await self.session.execute(query.limit(limit))).mappings()]


class ReceiveRegisterRepository:
    """ทะเบียนหนังสือรับ: the deliveries numbered (ลงรับ) in one unit's receive register in one year, by receive
    number: those addressed to the unit, and to the units that use it as their central registry. A row keeps
    its number whatever happens to the delivery afterwards."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def rows(self, org_id: uuid.UUID, year: int, after: int | None, limit: int) -> list[dict]:
        query = select(deliveries).where(
            deliveries.c.register_org_id == org_id,
            deliveries.c.receive_no.is_not(None),
            deliveries.c.receive_year == year,
        )
        if after is not None:
            query = query.where(deliveries.c.receive_no > after)
        query = query.order_by(deliveries.c.receive_no).limit(limit)
        return [dict(r) for r in (await self.session.execute(query)).mappings()]


class AnnotationRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def add(self, row: dict) -> None:
        await self.session.execute(insert(annotations).values(**row))

    async def of_delivery(self, delivery_id: uuid.UUID) -> list[dict]:
        query = select(annotations).where(annotations.c.delivery_id == delivery_id).order_by(annotations.c.created_at)
        return [dict(r) for r in (await self.session.execute(query)).mappings()]


class WorkRepository:
    """Proposals, orders and whom they name, acknowledgements and the other steps of the work on deliveries.
    Every read of a person's work is scoped to the person's unit in the query."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def add_proposal(self, row: dict) -> None:
        await self.session.execute(insert(proposals).values(**row))

    async def add_order(self, row: dict, people: dict[str, list[str]], units: dict[uuid.UUID, uuid.UUID]) -> None:
        await self.session.execute(insert(orders).values(**row))
        named = [{"order_id": row["id"], "role": role, "username": u} for role, names in people.items() for u in names]
        if named:
            await self.session.execute(insert(order_people), named)
        if units:
            assigned = [{"order_id": row["id"], "org_id": org, "delivery_id": d} for org, d in units.items()]
            await self.session.execute(insert(order_units), assigned)

    async def supersede(self, order_id: uuid.UUID, at: datetime) -> None:
        await self.session.execute(update(orders).where(orders.c.id == order_id).values(superseded_at=at))

    async def order(self, order_id: uuid.UUID | None) -> dict | None:
        if order_id is None:
            return None
        row = (await self.session.execute(select(orders).where(orders.c.id == order_id))).mappings().first()
        return dict(row) if row else None

    async def people_of(self, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, list[str]]]:
        """{order: {role: [usernames]}}, in username order."""
        found: dict[uuid.UUID, dict[str, list[str]]] = {}
        if not order_ids:
            return found
        query = select(order_people).where(order_people.c.order_id.in_(order_ids)).order_by(order_people.c.username)
        for row in (await self.session.execute(query)).mappings():
            found.setdefault(row["order_id"], {}).setdefault(row["role"], []).append(row["username"])
        return found

    async def units_of(self, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict]]:
        found: dict[uuid.UUID, list[dict]] = {}
        if not order_ids:
            return found
        query = select(order_units).where(order_units.c.order_id.in_(order_ids))
        for row in (await self.session.execute(query)).mappings():
            found.setdefault(row["order_id"], []).append({"org_id": row["org_id"], "delivery_id": row["delivery_id"]})
        return found

    async def informed(self, delivery_id: uuid.UUID, username: str) -> uuid.UUID | None:
        """The latest order of the delivery that gave this person the letter for information, if any."""
        query = (
            select(orders.c.id)
            .join(order_people, order_people.c.order_id == orders.c.id)
            .where(
                orders.c.delivery_id == delivery_id,
                order_people.c.role == "information",
                order_people.c.username == username,
            )
            .order_by(orders.c.ordered_at.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def acknowledged(self, delivery_id: uuid.UUID, username: str) -> dict | None:
        query = select(acknowledgements).where(
            acknowledgements.c.delivery_id == delivery_id, acknowledgements.c.username == username
        )
        row = (await self.session.execute(query)).mappings().first()
        return dict(row) if row else None

    async def acknowledge(self, row: dict) -> None:
        await self.session.execute(insert(acknowledgements).values(**row))

    async def add_step(self, row: dict) -> None:
        await self.session.execute(insert(work_steps).values(**row))

    async def history(self, delivery_id: uuid.UUID) -> dict:
        """Everything done on the delivery, oldest first: proposals, orders (superseded ones too), who
        acknowledged, and the other steps."""

        async def rows(table, order_by):
            query = select(table).where(table.c.delivery_id == delivery_id).order_by(order_by)
            return [dict(r) for r in (await self.session.execute(query)).mappings()]

        return {
            "proposals": await rows(proposals, proposals.c.proposed_at),
            "orders": await rows(orders, orders.c.ordered_at),
            "acknowledgements": await rows(acknowledgements, acknowledgements.c.acknowledged_at),
            "steps": await rows(work_steps, work_steps.c.id),
        }

    async def proposed_to(self, username: str, org_id: uuid.UUID) -> list[dict]:
        """Registered letters of the unit waiting for this head's order, with when they were proposed."""
        latest = (
            select(proposals.c.delivery_id, func.max(proposals.c.proposed_at).label("arrived_at"))
            .where(proposals.c.to_username == username)
            .group_by(proposals.c.delivery_id)
            .subquery()
        )
        query = (
            select(deliveries, latest.c.arrived_at)
            .join(latest, latest.c.delivery_id == deliveries.c.id)
            .where(
                deliveries.c.recipient_org_id == org_id,
                deliveries.c.status == "received",
                deliveries.c.stage == "proposed",
                deliveries.c.proposed_to == username,
            )
        )
        return [dict(r) for r in (await self.session.execute(query.limit(WORKLIST_MAX))).mappings()]

    async def assigned_to(self, username: str, org_id: uuid.UUID) -> list[dict]:
        """Registered letters of the unit whose order in force assigns this person, not closed yet."""
        query = (
            select(deliveries, orders.c.ordered_at.label("arrived_at"), orders.c.decision, orders.c.ordered_by)
            .join(orders, orders.c.id == deliveries.c.order_id)
            .join(order_people, order_people.c.order_id == orders.c.id)
            .where(
                deliveries.c.recipient_org_id == org_id,
                deliveries.c.status == "received",
                order_people.c.role == "assignee",
                order_people.c.username == username,
            )
        )
        return [dict(r) for r in (await self.session.execute(query.limit(WORKLIST_MAX))).mappings()]

    async def to_acknowledge(self, username: str, org_id: uuid.UUID) -> list[dict]:
        """Letters of the unit an order gave this person for information, that he has not acknowledged."""
        query = (
            select(
                deliveries,
                func.max(orders.c.ordered_at).label("arrived_at"),
            )
            .join(orders, orders.c.delivery_id == deliveries.c.id)
            .join(order_people, order_people.c.order_id == orders.c.id)
            .outerjoin(
                acknowledgements,
                and_(
                    acknowledgements.c.delivery_id == deliveries.c.id,
                    acknowledgements.c.username == username,
                ),
            )
            .where(
                deliveries.c.recipient_org_id == org_id,
                order_people.c.role == "information",
                order_people.c.username == username,
                acknowledgements.c.username.is_(None),
            )
            .group_by(*deliveries.c)
        )
        return [dict(r) for r in (await self.session.execute(query.limit(WORKLIST_MAX))).mappings()]

    async def tallied(self, org_ids: list[uuid.UUID], open_states, closed_since: datetime) -> list[dict]:
        """The deliveries of these units still open, or closed since the moment given, with the people the
        order in force assigns (one row per person; `assignee` None when it names nobody) and when it was given."""
        query = (
            select(
                deliveries.c.id,
                deliveries.c.recipient_org_id,
                deliveries.c.status,
                deliveries.c.stage,
                func.coalesce(deliveries.c.due_at, deliveries.c.deliver_by).label("due_at"),
                func.coalesce(deliveries.c.received_at, deliveries.c.delivered_at).label("started_at"),
                deliveries.c.closed_at,
                orders.c.ordered_at,
                order_people.c.username.label("assignee"),
            )
            .outerjoin(orders, orders.c.id == deliveries.c.order_id)
            .outerjoin(
                order_people,
                and_(order_people.c.order_id == orders.c.id, order_people.c.role == "assignee"),
            )
            .where(
                deliveries.c.recipient_org_id.in_(org_ids),
                or_(
                    deliveries.c.status.in_(open_states),
                    and_(deliveries.c.status == "closed", deliveries.c.closed_at >= closed_since),
                ),
            )
        )
        return [dict(r) for r in (await self.session.execute(query)).mappings()]
