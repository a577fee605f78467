"""Reads and writes of attachment metadata. Every read is scoped to the principal's unit inside the query."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, exists, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.storage.adapters.tables import attachments, grants
from shared.db import insert_ignore


def _readable(org_id: uuid.UUID):
    """Attachments a unit may read: those it uploaded and those a letter sent to it carried."""
    granted = exists().where(and_(grants.c.attachment_id == attachments.c.id, grants.c.org_id == org_id))
    return or_(attachments.c.org_id == org_id, granted)


class AttachmentRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def add(self, row: dict) -> None:
        await self.session.execute(insert(attachments).values(**row))

    async def get_readable(self, attachment_id: uuid.UUID, org_id: uuid.UUID) -> dict | None:
        query = select(attachments).where(attachments.c.id == attachment_id, _readable(org_id))
        row = (await self.session.execute(query)).mappings().first()
        return dict(row) if row else None

    async def owned_ids(self, ids: list[uuid.UUID], org_id: uuid.UUID) -> set[uuid.UUID]:
        """Of `ids`, those the unit uploaded itself (a grant to read is not ownership)."""
        if not ids:
            return set()
        query = select(attachments.c.id).where(attachments.c.id.in_(ids), attachments.c.org_id == org_id)
        return set((await self.session.execute(query)).scalars())

    async def grant(
        self, attachment_ids: set[uuid.UUID], org_ids: set[uuid.UUID], letter_id: uuid.UUID, at: datetime
    ) -> None:
        """Lets each unit read each attachment; a grant that already exists stays as it was."""
        rows = [
            {"attachment_id": a, "org_id": o, "letter_id": letter_id, "granted_at": at}
            for a in sorted(attachment_ids)
            for o in sorted(org_ids)
        ]
        if rows:
            # One statement for every pair: a circular letter may carry many attachments to many units.
            await self.session.execute(insert_ignore(self.session, grants), rows)
