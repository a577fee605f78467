"""Users and credentials."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.adapters.tables import login_failures, users
from shared.db import insert_ignore


class UserRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, username: str) -> dict | None:
        row = (await self.session.execute(select(users).where(users.c.username == username))).mappings().first()
        return dict(row) if row else None

    async def add_if_missing(self, user: dict) -> None:
        await self.session.execute(insert_ignore(self.session, users, **user))


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
