"""Users and credentials."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import String, cast, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.adapters.tables import delegations, login_failures, sign_in_links, users
from shared.db import insert_ignore


class UserRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, username: str, lock: bool = False) -> dict | None:
        query = select(users).where(users.c.username == username)
        if lock:
            query = query.with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        return dict(row) if row else None

    async def many(self, usernames: list[str]) -> dict[str, dict]:
        if not usernames:
            return {}
        rows = (await self.session.execute(select(users).where(users.c.username.in_(usernames)))).mappings()
        return {row["username"]: dict(row) for row in rows}

    async def add_if_missing(self, user: dict) -> None:
        now = datetime.now(UTC)
        await self.session.execute(insert_ignore(self.session, users, **{"created_at": now, "updated_at": now, **user}))

    async def add(self, user: dict) -> None:
        await self.session.execute(insert(users).values(**user))

    async def update(self, username: str, **values) -> None:
        await self.session.execute(update(users).where(users.c.username == username).values(**values))

    async def search(
        self,
        *,
        q: str | None,
        org_id: uuid.UUID | None,
        role: str | None,
        active: bool | None,
        after: str | None,
        limit: int,
    ) -> list[dict]:
        """A page of people in username order, filtered in the query."""
        query = select(users).order_by(users.c.username).limit(limit)
        if q:
            pattern = f"%{_escape(q.lower())}%"
            query = query.where(
                or_(
                    *(
                        func.lower(column).like(pattern, escape="\\")
                        for column in (users.c.username, users.c.display_name, users.c.email)
                    )
                )
            )
        if org_id is not None:
            query = query.where(users.c.org_id == org_id)
        if role:
            # Roles are a JSON list written by json.dumps on both databases: '["clerk", "admin"]'.
            query = query.where(cast(users.c.roles, String).like(f'%"{role}"%'))
        if active is not None:
            query = query.where(users.c.active == active)
        if after:
            query = query.where(users.c.username > after)
        return [dict(row) for row in (await self.session.execute(query)).mappings()]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SignInLinks:
    """One-time sign-in links, kept by the SHA-256 of their token."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def add(self, row: dict) -> None:
        await self.session.execute(insert(sign_in_links).values(**row))

    async def void_open(self, username: str, moment: datetime) -> None:
        """Older links of this person that were never used stop working."""
        await self.session.execute(
            update(sign_in_links)
            .where(
                sign_in_links.c.username == username,
                sign_in_links.c.used_at.is_(None),
                sign_in_links.c.voided_at.is_(None),
            )
            .values(voided_at=moment)
        )

    async def get(self, token_sha256: str, lock: bool = False) -> dict | None:
        query = select(sign_in_links).where(sign_in_links.c.token_sha256 == token_sha256)
        if lock:
            query = query.with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        return dict(row) if row else None

    async def mark_used(self, token_sha256: str, moment: datetime) -> bool:
        """True when this call used the link; False when another had used it first."""
        result = await self.session.execute(
            update(sign_in_links)
            .where(sign_in_links.c.token_sha256 == token_sha256, sign_in_links.c.used_at.is_(None))
            .values(used_at=moment)
        )
        return result.rowcount == 1


class LoginFailures:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def since(self, username: str, moment: datetime) -> list[datetime]:
        query = (
            select(login_failures.c.failed_at)
            .where(login_failures.c.username == username, login_failures.c.failed_at > moment)
            .order_by(login_failures.c.failed_at)
        )
        return list((await self.session.execute(query)).scalars())

    async def add(self, username: str, moment: datetime) -> None:
        await self.session.execute(insert(login_failures).values(username=username, failed_at=moment))

    async def clear(self, username: str) -> None:
        await self.session.execute(delete(login_failures).where(login_failures.c.username == username))


class DelegationRepository:
    """Delegations of signing authority; never deleted (a revoked one is marked)."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def add(self, row: dict) -> None:
        await self.session.execute(insert(delegations).values(**row))

    async def get(self, delegation_id: uuid.UUID, lock: bool = False) -> dict | None:
        query = select(delegations).where(delegations.c.id == delegation_id)
        if lock:
            query = query.with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        return dict(row) if row else None

    async def listed(self, username: str | None) -> list[dict]:
        """Those given by or to `username` (every one when None), the latest first."""
        query = select(delegations).order_by(delegations.c.created_at.desc(), delegations.c.id)
        if username is not None:
            query = query.where(or_(delegations.c.from_username == username, delegations.c.to_username == username))
        return [dict(row) for row in (await self.session.execute(query)).mappings()]

    async def in_force_to(self, username: str, day: date) -> list[dict]:
        """Those `username` holds on `day` (a Bangkok date), not revoked, the latest first."""
        query = (
            select(delegations)
            .where(
                delegations.c.to_username == username,
                delegations.c.revoked_at.is_(None),
                delegations.c.valid_from <= day,
                delegations.c.valid_to >= day,
            )
            .order_by(delegations.c.created_at.desc(), delegations.c.id)
        )
        return [dict(row) for row in (await self.session.execute(query)).mappings()]

    async def revoke(self, delegation_id: uuid.UUID, by: str, moment: datetime) -> None:
        await self.session.execute(
            update(delegations)
            .where(delegations.c.id == delegation_id, delegations.c.revoked_at.is_(None))
            .values(revoked_by=by, revoked_at=moment)
        )
