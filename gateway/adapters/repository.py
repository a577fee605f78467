"""Users and credentials."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.adapters.tables import users
from shared.db import insert_ignore


class UserRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, username: str) -> dict | None:
        row = (await self.session.execute(select(users).where(users.c.username == username))).mappings().first()
        return dict(row) if row else None

    async def add_if_missing(self, user: dict) -> None:
        await self.session.execute(insert_ignore(self.session, users, **user))
