"""Reads and writes of the audit log. Leaves are only ever inserted; reads of a letter's history are scoped to
the principal inside the query."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, exists, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.adapters.tables import checkpoints, leaves, letter_parties, log_state, nodes
from services.audit.domain.entries import SENDER, Leaf, Party
from shared.contracts import AccessDenied, AttachmentDownloaded, ClassifiedViewed
from shared.db import insert_ignore

STATE_ROW = 1
INDEX = leaves.c["index"]
# Access events name a letter but have no parties: a refusal or a view is the acting org's alone.
ACCESS_TYPES = (ClassifiedViewed.TYPE, AttachmentDownloaded.TYPE, AccessDenied.TYPE)
NODE_INDEX = nodes.c["index"]


def _visible_to(org_id: uuid.UUID):
    """Leaves an org may see: every leaf of a letter it sent; of a letter addressed to it, the letter-level
    leaves and those of its own delivery."""
    p = letter_parties
    return exists().where(
        p.c.letter_id == leaves.c.letter_id,
        p.c.org_id == org_id,
        or_(p.c.role == SENDER, leaves.c.delivery_id.is_(None), leaves.c.delivery_id == p.c.delivery_id),
    )


class LogRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def logged(self, event_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Of `event_ids`, those that already have a leaf, in one query."""
        if not event_ids:
            return set()
        query = select(leaves.c.event_id).where(leaves.c.event_id.in_(event_ids))
        return set((await self.session.execute(query)).scalars())

    async def reserve(self, count: int) -> int:
        """Takes the next `count` indexes under the log_state lock and returns the first; the lock stays held
        until the caller's transaction ends, so nobody else numbers leaves meanwhile."""
        bump = (
            update(log_state)
            .where(log_state.c.id == STATE_ROW)
            .values(size=log_state.c.size + count)
            .returning(log_state.c.size)
        )
        row = (await self.session.execute(bump)).first()
        if row is None:
            # First leaf ever: create the row (a concurrent creator makes this a no-op), then bump it.
            await self.session.execute(insert_ignore(self.session, log_state, id=STATE_ROW, size=0))
            row = (await self.session.execute(bump)).first()
        return row.size - count

    async def append(self, first: int, new: list[Leaf]) -> None:
        """Inserts the leaves at indexes first, first + 1, ... in one statement."""
        rows = [
            {
                "index": first + offset,
                "event_id": leaf.event_id,
                "type": leaf.type,
                "occurred_at": leaf.occurred_at,
                "letter_id": leaf.letter_id,
                "delivery_id": leaf.delivery_id,
                "org_id": leaf.org_id,
                "entry": leaf.entry,
                "leaf_hash": leaf.leaf_hash,
            }
            for offset, leaf in enumerate(new)
        ]
        await self.session.execute(insert(leaves), rows)

    async def add_parties(self, parties: list[tuple[uuid.UUID, Party]]) -> None:
        """Records who is party to which letter, in one statement; an org already recorded for a letter keeps
        its first role (the first in the list, or the one stored before)."""
        rows = {}
        for letter_id, p in parties:
            rows.setdefault(
                (letter_id, p.org_id),
                {"letter_id": letter_id, "org_id": p.org_id, "role": p.role, "delivery_id": p.delivery_id},
            )
        if not rows:
            return
        dialect = postgresql if self.session.bind.dialect.name == "postgresql" else sqlite
        await self.session.execute(dialect.insert(letter_parties).on_conflict_do_nothing(), list(rows.values()))

    async def history(self, letter_id: uuid.UUID, org_id: uuid.UUID, everything: bool) -> list:
        query = select(INDEX, leaves.c.type, leaves.c.org_id, leaves.c.delivery_id, leaves.c.entry).where(
            leaves.c.letter_id == letter_id
        )
        if not everything:
            query = query.where(_visible_to(org_id))
        # Mappings, not rows: a Row is a tuple, and row.index would be tuple.index.
        return (await self.session.execute(query.order_by(INDEX))).mappings().all()

    async def search(
        self,
        *,
        org_id: uuid.UUID | None = None,
        types: list[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        after: int | None = None,
        limit: int,
    ) -> list:
        """Leaves in index order after `after`: of one org (acting, or party to the letter with the scope a
        party has) and of the given types, that occurred in [start, end)."""
        query = select(INDEX, leaves.c.type, leaves.c.org_id, leaves.c.letter_id, leaves.c.delivery_id, leaves.c.entry)
        if org_id is not None:
            party = and_(leaves.c.type.not_in(ACCESS_TYPES), _visible_to(org_id))
            query = query.where(or_(leaves.c.org_id == org_id, party))
        if types is not None:
            query = query.where(leaves.c.type.in_(types))
        if start is not None:
            query = query.where(leaves.c.occurred_at >= start)
        if end is not None:
            query = query.where(leaves.c.occurred_at < end)
        if after is not None:
            query = query.where(INDEX > after)
        return (await self.session.execute(query.order_by(INDEX).limit(limit))).mappings().all()

    async def leaves_from(self, start: int, limit: int) -> list:
        query = select(INDEX, leaves.c.type, leaves.c.leaf_hash, leaves.c.entry).where(INDEX >= start)
        return (await self.session.execute(query.order_by(INDEX).limit(limit))).mappings().all()

    async def size(self) -> int:
        return (await self.session.execute(select(log_state.c.size))).scalar_one_or_none() or 0

    async def add_nodes(self, rows: list[tuple[int, int, bytes]]) -> None:
        await self.session.execute(
            insert(nodes), [{"level": level, "index": index, "hash": value} for level, index, value in rows]
        )

    async def nodes_at(self, keys: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored hashes of the given complete subtrees, in one query (a proof needs about 2 log n)."""
        if not keys:
            return {}
        # One expanding IN of (level, index) pairs: the statement is compiled once and cached, where an OR of
        # 2 log n comparisons was built and compiled anew for every proof (most of a proof's CPU time).
        wanted = tuple_(nodes.c.level, NODE_INDEX).in_(sorted(keys))
        rows = (await self.session.execute(select(nodes.c.level, NODE_INDEX, nodes.c.hash).where(wanted))).all()
        return {(level, index): value for level, index, value in rows}

    async def latest_checkpoint(self):
        query = select(checkpoints).order_by(checkpoints.c.size.desc()).limit(1)
        return (await self.session.execute(query)).mappings().first()

    async def add_checkpoint(self, size: int, root: bytes, note: str, issued_at) -> None:
        """A replica that signed the same size first wins; the notes are identical (same key, same body)."""
        await self.session.execute(
            insert_ignore(self.session, checkpoints, size=size, root=root, note=note, issued_at=issued_at)
        )
