"""Reads and writes of the directory and deliveries. Every delivery read is scoped in the query."""

from __future__ import annotations

import uuid

from sqlalchemy import and_, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.adapters.tables import annotations, deliveries, group_members, groups, orgs
from shared.db import insert_ignore


class DirectoryRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def all(self) -> list[dict]:
        rows = await self.session.execute(select(orgs).order_by(orgs.c.code, orgs.c.key))
        return [dict(r) for r in rows.mappings()]

    async def get(self, org_id: uuid.UUID) -> dict | None:
        row = (await self.session.execute(select(orgs).where(orgs.c.id == org_id))).mappings().first()
        return dict(row) if row else None

    async def existing(self, ids: list[uuid.UUID]) -> set[uuid.UUID]:
        rows = await self.session.execute(select(orgs.c.id).where(orgs.c.id.in_(ids)))
        return {r.id for r in rows}

    async def add_if_missing(self, org: dict) -> None:
        await self.session.execute(insert_ignore(self.session, orgs, **org))

    async def count(self) -> int:
        return (await self.session.execute(select(func.count()).select_from(orgs))).scalar_one()


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
            .where(group_members.c.group_id.in_(group_ids))
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
        existing = set(
            (await self.session.execute(select(deliveries.c.id).where(deliveries.c.id.in_([r["id"] for r in rows]))))
            .scalars()
            .all()
        )
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

    async def overdue(self, org_id: uuid.UUID, now, open_states) -> list[dict]:
        query = (
            select(deliveries)
            .where(
                deliveries.c.recipient_org_id == org_id,
                deliveries.c.deliver_by < now,
                deliveries.c.status.in_(open_states),
            )
            .order_by(deliveries.c.deliver_by, deliveries.c.id)
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
    """ทะเบียนหนังสือรับ: the deliveries one unit registered (ลงรับ) in one year, by receive number. A row
    keeps its number whatever happens to the delivery afterwards."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def rows(self, org_id: uuid.UUID, year: int, after: int | None, limit: int) -> list[dict]:
        query = select(deliveries).where(
            deliveries.c.recipient_org_id == org_id,
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
