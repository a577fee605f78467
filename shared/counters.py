"""Gap-free running numbers for registers (ทะเบียน): one row per (unit, register, year).

The increment is an UPDATE of that row inside the caller's transaction, so concurrent writers queue on the
row lock (PostgreSQL) or the single writer (SQLite), and a rolled-back transaction gives its number back.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Column, Integer, MetaData, String, Table, Uuid, and_, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import insert_ignore


def counters_table(metadata: MetaData) -> Table:
    return Table(
        "register_counters",
        metadata,
        Column("unit_id", Uuid, primary_key=True),
        Column("register", String(32), primary_key=True),
        Column("year", Integer, primary_key=True),  # Buddhist era; numbers restart each calendar year
        Column("next_no", Integer, nullable=False),
    )


async def next_number(session: AsyncSession, table: Table, unit_id: uuid.UUID, register: str, year: int) -> int:
    key = and_(table.c.unit_id == unit_id, table.c.register == register, table.c.year == year)
    bump = update(table).where(key).values(next_no=table.c.next_no + 1).returning(table.c.next_no)
    row = (await session.execute(bump)).first()
    if row is None:
        await session.execute(insert_ignore(session, table, unit_id=unit_id, register=register, year=year, next_no=1))
        row = (await session.execute(bump)).first()
    return row.next_no - 1
