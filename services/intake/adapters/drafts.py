"""Reads and writes of drafts, their versions, line and history. Every read is scoped inside its query to what
the reader may see (see `DraftScope`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, exists, false, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.adapters.tables import draft_line, draft_steps, draft_versions, drafts, letters
from services.intake.domain.drafts import AWAITING_SIGNATURE, DISPATCHED, IN_REVIEW, SIGNED, SIGNING


@dataclass(frozen=True)
class DraftScope:
    """Who reads, and through which doors: their unit's drafts; drafts whose line names them, or that they
    wrote or signed; drafts waiting for a signer they may sign for (`signs_for`, from delegations the gateway
    checked); and, for a registry clerk, signed drafts of the units it dispatches for (`registry_org_id`, and
    `units_below`). Never anything classified above `cleared`."""

    user: str
    org_id: uuid.UUID
    cleared: tuple[str, ...]
    signs_for: tuple[str, ...] = ()
    registry_org_id: uuid.UUID | None = None  # None: not a registry clerk
    units_below: tuple[uuid.UUID, ...] = ()

    def registry(self):
        """The drafts this clerk dispatches for, whatever their status."""
        if self.registry_org_id is None:
            return false()
        own = drafts.c.register_org_id == self.registry_org_id
        return or_(own, drafts.c.org_id.in_(self.units_below)) if self.units_below else own

    def visible(self):
        on_line = exists().where(draft_line.c.draft_id == drafts.c.id, draft_line.c.username == self.user)
        ways = [
            drafts.c.org_id == self.org_id,
            drafts.c.author == self.user,
            on_line,
            drafts.c.signed_by == self.user,
            and_(drafts.c.status.in_((SIGNED, DISPATCHED)), self.registry()),
        ]
        if self.signs_for:
            waiting = drafts.c.status.in_((AWAITING_SIGNATURE, SIGNING))
            ways.append(and_(waiting, drafts.c.signer_username.in_(self.signs_for)))
        return and_(or_(*ways), drafts.c.secrecy.in_(self.cleared))


# What a list shows of each draft: its row, its current version's fields and its letter's status.
_LISTED = (*drafts.c, draft_versions.c.fields, letters.c.status.label("letter_status"))


def _with_fields():
    current_version = and_(draft_versions.c.draft_id == drafts.c.id, draft_versions.c.version == drafts.c.version)
    return (
        select(*_LISTED)
        .select_from(drafts)
        .join(draft_versions, current_version)
        .outerjoin(letters, letters.c.id == drafts.c.letter_id)
    )


class DraftRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def add(self, row: dict, line: list[dict], fields: dict) -> None:
        await self.session.execute(insert(drafts).values(**row))
        await self.set_line(row["id"], line)
        await self.add_version(row["id"], 1, fields, row["author"], row["created_at"])

    async def set_line(self, draft_id: uuid.UUID, line: list[dict]) -> None:
        """The people the line names, as they are now."""
        await self.session.execute(delete(draft_line).where(draft_line.c.draft_id == draft_id))
        await self.session.execute(insert(draft_line), [{"draft_id": draft_id, **person} for person in line])

    async def add_version(self, draft_id: uuid.UUID, version: int, fields: dict, by: str, at: datetime) -> None:
        row = {"draft_id": draft_id, "version": version, "fields": fields, "created_by": by, "created_at": at}
        await self.session.execute(insert(draft_versions).values(**row))

    async def add_step(self, draft_id: uuid.UUID, kind: str, actor: str, version: int, at, reason=None) -> None:
        """One step of the history, after the others (the draft's row is locked by the caller)."""
        last = select(func.coalesce(func.max(draft_steps.c.seq), 0)).where(draft_steps.c.draft_id == draft_id)
        seq = (await self.session.execute(last)).scalar_one() + 1
        row = {"draft_id": draft_id, "seq": seq, "type": kind, "actor": actor, "version": version, "at": at}
        await self.session.execute(insert(draft_steps).values(**row, reason=reason))

    async def update(self, draft_id: uuid.UUID, **values) -> None:
        await self.session.execute(update(drafts).where(drafts.c.id == draft_id).values(**values))

    async def get(self, draft_id: uuid.UUID, scope: DraftScope, lock: bool = False) -> dict | None:
        """The draft with its current fields, if the reader may see it. Locked: the row of the draft only, so
        steps on one draft queue one behind the other."""
        if lock:
            query = select(drafts).where(drafts.c.id == draft_id, scope.visible()).with_for_update(of=drafts)
            row = (await self.session.execute(query)).mappings().first()
            if row is None:
                return None
            fields = await self.fields(draft_id, row["version"])
            return {**row, "fields": fields}
        query = _with_fields().where(drafts.c.id == draft_id, scope.visible())
        row = (await self.session.execute(query)).mappings().first()
        return dict(row) if row else None

    async def fields(self, draft_id: uuid.UUID, version: int) -> dict:
        query = select(draft_versions.c.fields).where(
            draft_versions.c.draft_id == draft_id, draft_versions.c.version == version
        )
        return (await self.session.execute(query)).scalar_one()

    async def version(self, draft_id: uuid.UUID, version: int) -> dict | None:
        query = select(draft_versions).where(draft_versions.c.draft_id == draft_id, draft_versions.c.version == version)
        row = (await self.session.execute(query)).mappings().first()
        return dict(row) if row else None

    async def versions(self, draft_id: uuid.UUID) -> list[dict]:
        query = (
            select(draft_versions.c.version, draft_versions.c.created_by, draft_versions.c.created_at)
            .where(draft_versions.c.draft_id == draft_id)
            .order_by(draft_versions.c.version)
        )
        return [dict(row) for row in (await self.session.execute(query)).mappings()]

    async def history(self, draft_id: uuid.UUID) -> list[dict]:
        query = select(draft_steps).where(draft_steps.c.draft_id == draft_id).order_by(draft_steps.c.seq)
        return [dict(row) for row in (await self.session.execute(query)).mappings()]

    async def find_idempotent(self, author: str, key: str) -> tuple[uuid.UUID, str] | None:
        mine = and_(drafts.c.author == author, drafts.c.idempotency_key == key)
        query = select(drafts.c.id, drafts.c.request_hash).where(mine)
        row = (await self.session.execute(query)).first()
        return (row.id, row.request_hash) if row else None

    async def box(
        self, scope: DraftScope, box: str, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[dict]:
        """A page of one box, the latest change first:
        mine (written by the reader), to_review (their turn as a reviewer), to_sign (waiting for their signature,
        or for a signer they may sign for; those they began signing), to_dispatch (signed, not yet sent, for a
        registry clerk)."""
        query = _with_fields().where(scope.visible(), _in_box(scope, box))
        if after:
            query = query.where(tuple_(drafts.c.updated_at, drafts.c.id) < tuple_(*after))
        query = query.order_by(drafts.c.updated_at.desc(), drafts.c.id.desc()).limit(limit)
        return [dict(row) for row in (await self.session.execute(query)).mappings()]


def _in_box(scope: DraftScope, box: str):
    if box == "mine":
        return drafts.c.author == scope.user
    if box == "to_review":
        return and_(drafts.c.status == IN_REVIEW, drafts.c.current_username == scope.user)
    if box == "to_sign":
        signers = (scope.user, *scope.signs_for)
        waiting = and_(drafts.c.status == AWAITING_SIGNATURE, drafts.c.signer_username.in_(signers))
        return or_(waiting, and_(drafts.c.status == SIGNING, drafts.c.signed_by == scope.user))
    # to_dispatch: a letter cancelled after signing is not waiting for anyone
    return and_(drafts.c.status == SIGNED, letters.c.status == SIGNED, scope.registry())
