"""Reads and writes of letters. Every read is scoped to the principal's unit inside the query."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, exists, insert, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.adapters.tables import idempotency_keys, letters, recipients


def _readable(org_id: uuid.UUID):
    """Letters a unit may see: those it sent and those addressed to it."""
    addressed = exists().where(and_(recipients.c.letter_id == letters.c.id, recipients.c.recipient_org_id == org_id))
    return or_(letters.c.sender_org_id == org_id, addressed)


class LetterRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def add(self, row: dict, deliveries: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
        await self.session.execute(insert(letters).values(**row))
        await self.session.execute(
            insert(recipients),
            [
                {"delivery_id": d, "letter_id": row["id"], "recipient_org_id": org, "position": i}
                for i, (d, org) in enumerate(deliveries)
            ],
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

    async def sent_by(self, org_id: uuid.UUID, after: tuple[datetime, uuid.UUID] | None, limit: int) -> list[dict]:
        query = select(letters).where(letters.c.sender_org_id == org_id)
        if after:
            query = query.where(tuple_(letters.c.sent_at, letters.c.id) < tuple_(*after))
        query = query.order_by(letters.c.sent_at.desc(), letters.c.id.desc()).limit(limit)
        rows = (await self.session.execute(query)).mappings().all()
        result = []
        for row in rows:
            result.append({**row, "deliveries": await self.deliveries_of(row["id"], org_id, org_id)})
        return result

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
