"""Reads and writes of letters (every read scoped to the principal's unit inside the query), and of intake's
read-model of the directory."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, exists, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.adapters.tables import directory_units, idempotency_keys, letters, recipients
from services.intake.domain.directory import KnownUnit
from shared.db import insert_ignore


def _readable(org_id: uuid.UUID):
    """Letters a unit may see: those it sent and those addressed to it."""
    addressed = exists().where(and_(recipients.c.letter_id == letters.c.id, recipients.c.recipient_org_id == org_id))
    return or_(letters.c.sender_org_id == org_id, addressed)


class LetterRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def add(self, row: dict) -> dict:
        """Adds the letter; returns its row as stored (defaults included)."""
        return dict((await self.session.execute(insert(letters).values(**row).returning(*letters.c))).mappings().one())

    async def address(self, letter_id: uuid.UUID, deliveries: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
        """The letter's recipients as the sender listed them, one delivery each."""
        if not deliveries:
            return
        await self.session.execute(
            insert(recipients),
            [
                {"delivery_id": d, "letter_id": letter_id, "recipient_org_id": org, "position": i}
                for i, (d, org) in enumerate(deliveries)
            ],
        )

    async def mark_sent(self, letter_id: uuid.UUID, when) -> dict:
        """A signed letter dispatched: it is sent now. Returns its row as it is afterwards."""
        query = update(letters).where(letters.c.id == letter_id).values(status="sent", sent_at=when)
        return dict((await self.session.execute(query.returning(*letters.c))).mappings().one())

    async def for_update(self, letter_id: uuid.UUID) -> dict | None:
        row = (await self.session.execute(select(letters).where(letters.c.id == letter_id).with_for_update())).first()
        return dict(row._mapping) if row else None

    async def sent_by_for_update(self, letter_id: uuid.UUID, org_id: uuid.UUID) -> dict | None:
        query = select(letters).where(letters.c.id == letter_id, letters.c.sender_org_id == org_id)
        row = (await self.session.execute(query.with_for_update())).mappings().first()
        return dict(row) if row else None

    async def mark_cancelled(self, letter_id: uuid.UUID, when, reason: str) -> None:
        await self.session.execute(
            update(letters)
            .where(letters.c.id == letter_id)
            .values(status="cancelled", cancelled_at=when, cancel_reason=reason)
        )

    async def add_recipients(self, letter_id: uuid.UUID, deliveries: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
        """Recipients added after sending (by forwarding); a repeat adds nothing."""
        count = select(func.count()).select_from(recipients).where(recipients.c.letter_id == letter_id)
        position = (await self.session.execute(count)).scalar_one()
        for offset, (delivery_id, org_id) in enumerate(deliveries):
            await self.session.execute(
                insert_ignore(
                    self.session,
                    recipients,
                    delivery_id=delivery_id,
                    letter_id=letter_id,
                    recipient_org_id=org_id,
                    position=position + offset,
                    forwarded=True,
                )
            )

    async def get_readable(self, letter_id: uuid.UUID, org_id: uuid.UUID) -> dict | None:
        row = (
            (await self.session.execute(select(letters).where(letters.c.id == letter_id, _readable(org_id))))
            .mappings()
            .first()
        )
        if row is None:
            return None
        return {**row, "deliveries": await self.deliveries_of(letter_id, org_id, row["sender_org_id"])}

    async def deliveries_of(self, letter_id: uuid.UUID, org_id: uuid.UUID, sender_org_id) -> list[dict]:
        """The sender sees every recipient; a recipient sees only its own delivery."""
        query = select(recipients.c.delivery_id, recipients.c.recipient_org_id).where(
            recipients.c.letter_id == letter_id
        )
        if org_id != sender_org_id:
            query = query.where(recipients.c.recipient_org_id == org_id)
        rows = await self.session.execute(query.order_by(recipients.c.position))
        return [{"id": r.delivery_id, "recipient_org_id": r.recipient_org_id} for r in rows]

    async def count_readable(self, ids: list[uuid.UUID], org_id: uuid.UUID) -> int:
        rows = await self.session.execute(select(letters.c.id).where(letters.c.id.in_(ids), _readable(org_id)))
        return len(rows.all())

    async def sent_by(
        self, org_id: uuid.UUID, after: tuple[datetime, uuid.UUID] | None, limit: int, q: str | None = None, cleared=()
    ) -> list[dict]:
        query = select(letters).where(letters.c.sender_org_id == org_id)
        if q:  # a fragment of the subject or the number, anywhere, mid-word too (see shared/search.py)
            # A subject the reader may not see must not be findable by it either.
            subject = and_(letters.c.subject.contains(q, autoescape=True), letters.c.secrecy.in_(cleared))
            query = query.where(or_(subject, letters.c.doc_no.contains(q, autoescape=True)))
        if after:
            query = query.where(tuple_(letters.c.sent_at, letters.c.id) < tuple_(*after))
        query = query.order_by(letters.c.sent_at.desc(), letters.c.id.desc()).limit(limit)
        rows = (await self.session.execute(query)).mappings().all()
        # The sender sees every recipient: one query for the whole page, not one per letter.
        found = await self._recipients_of([row["id"] for row in rows])
        return [{**row, "deliveries": found.get(row["id"], [])} for row in rows]

    async def _recipients_of(self, letter_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict]]:
        if not letter_ids:
            return {}
        query = (
            select(recipients.c.letter_id, recipients.c.delivery_id, recipients.c.recipient_org_id)
            .where(recipients.c.letter_id.in_(letter_ids))
            .order_by(recipients.c.letter_id, recipients.c.position)
        )
        found: dict[uuid.UUID, list[dict]] = {}
        for r in await self.session.execute(query):
            found.setdefault(r.letter_id, []).append({"id": r.delivery_id, "recipient_org_id": r.recipient_org_id})
        return found

    async def find_idempotent(self, org_id: uuid.UUID, key: str) -> tuple[str, uuid.UUID] | None:
        row = (
            await self.session.execute(
                select(idempotency_keys.c.request_hash, idempotency_keys.c.letter_id).where(
                    idempotency_keys.c.org_id == org_id, idempotency_keys.c.key == key
                )
            )
        ).first()
        return (row.request_hash, row.letter_id) if row else None

    async def remember_idempotent(self, org_id: uuid.UUID, key: str, request_hash: str, letter_id) -> None:
        await self.session.execute(
            insert(idempotency_keys).values(org_id=org_id, key=key, request_hash=request_hash, letter_id=letter_id)
        )


class SendRegisterRepository:
    """ทะเบียนหนังสือส่ง: the letters numbered in one unit's send register in one year (its own and those of
    the units it is the central registry of), every series, by register number. Cancelled letters stay in it
    with their numbers."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def rows(
        self, org_id: uuid.UUID, registers: tuple[str, ...], year: int, after: tuple[int, str] | None, limit: int
    ) -> list[dict]:
        # The series share one listing, so (register_no, register) is the key: ordinary 1, ว 1, ordinary 2, ...
        key = tuple_(letters.c.register_no, letters.c.register)
        query = select(
            letters.c.id,
            letters.c.register,
            letters.c.register_no,
            letters.c.register_year,
            letters.c.doc_no,
            letters.c.doc_date,
            letters.c.sender_org_id,
            letters.c.register_org_id,
            letters.c.subject,
            letters.c.secrecy,
            letters.c.circular,
            letters.c.status,
            letters.c.sent_at,
        ).where(
            letters.c.register_org_id == org_id,
            letters.c.register.in_(registers),
            letters.c.register_year == year,
        )
        if after:
            query = query.where(key > tuple_(*after))
        rows = [dict(r) for r in (await self.session.execute(query.order_by(*key.clauses).limit(limit))).mappings()]
        addressed = await self._recipients([r["id"] for r in rows])
        return [{**r, "recipient_org_ids": addressed.get(r["id"], [])} for r in rows]

    async def _recipients(self, letter_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Each letter's recipients in the order the sender listed them, in one query for the whole page."""
        if not letter_ids:
            return {}
        rows = await self.session.execute(
            select(recipients.c.letter_id, recipients.c.recipient_org_id)
            .where(recipients.c.letter_id.in_(letter_ids), recipients.c.forwarded.is_(False))
            .order_by(recipients.c.letter_id, recipients.c.position)
        )
        found: dict[uuid.UUID, list[uuid.UUID]] = {}
        for row in rows:
            found.setdefault(row.letter_id, []).append(row.recipient_org_id)
        return found


class DirectoryReadModel:
    """The units routing announced, each as of its latest announcement."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def learn(self, unit: KnownUnit) -> None:
        """Keeps the announcement unless a later one is already kept: announcements may arrive out of order
        or twice, and the newest change routing made must win whatever the order."""
        row = {
            "parent_org_id": unit.parent_org_id,
            "kind": unit.kind,
            "valid_from": unit.valid_from,
            "valid_to": unit.valid_to,
            "as_of": unit.as_of,
        }
        added = await self.session.execute(insert_ignore(self.session, directory_units, org_id=unit.org_id, **row))
        if added.rowcount == 0:
            newer = and_(directory_units.c.org_id == unit.org_id, directory_units.c.as_of < unit.as_of)
            await self.session.execute(update(directory_units).where(newer).values(**row))

    async def units(self, ids) -> dict[uuid.UUID, KnownUnit]:
        query = select(directory_units).where(directory_units.c.org_id.in_(set(ids)))
        return {row["org_id"]: KnownUnit(**row) for row in (await self.session.execute(query)).mappings()}

    async def units_and_parents(self, ids) -> dict[uuid.UUID, KnownUnit]:
        """The units and every unit above them, in one query (a recursive one). UNION, not UNION ALL: a row
        met again adds nothing, so parents that run in a cycle end the walk instead of looping."""
        chain = select(directory_units).where(directory_units.c.org_id.in_(set(ids))).cte("chain", recursive=True)
        above = select(directory_units).join(chain, directory_units.c.org_id == chain.c.parent_org_id)
        chain = chain.union(above)
        rows = (await self.session.execute(select(chain))).mappings()
        return {row["org_id"]: KnownUnit(**row) for row in rows}

    async def units_below(self, org_id: uuid.UUID) -> list[uuid.UUID]:
        """Every unit under this one, at any depth (retired ones too), in one recursive query; a cycle ends the
        walk as in `units_and_parents`."""
        chain = select(directory_units.c.org_id).where(directory_units.c.parent_org_id == org_id)
        chain = chain.cte("below", recursive=True)
        deeper = select(directory_units.c.org_id).join(chain, directory_units.c.parent_org_id == chain.c.org_id)
        chain = chain.union(deeper)
        return [row for row in (await self.session.execute(select(chain.c.org_id))).scalars() if row != org_id]

    async def count_known(self, ids) -> int:
        query = select(func.count()).select_from(directory_units).where(directory_units.c.org_id.in_(set(ids)))
        return (await self.session.execute(query)).scalar_one()
