"""Gap-free running numbers for registers (ทะเบียน): one row per (unit, register, year).

The increment is an UPDATE of that row inside the caller's transaction, so concurrent writers queue on the
row lock (PostgreSQL) or the single writer (SQLite), and a rolled-back transaction gives its number back.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Column, Integer, MetaData, String, Table, Uuid, and_, select, update
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


class NumberAlreadyIssued(Exception):
    """The register has already reached `next_no`: every number below it was issued (electronically, or on
    paper before the agency moved over), so numbering cannot restart lower."""

    def __init__(self, next_no: int):
        super().__init__(f"numbers up to {next_no - 1} already issued")
        self.next_no = next_no
        self.last_issued = next_no - 1


async def set_next_number(
    session: AsyncSession, table: Table, unit_id: uuid.UUID, register: str, year: int, next_no: int
) -> None:
    """Where a register continues, e.g. for an agency moving from paper mid-year. The counter only moves
    forward (a number once issued is never issued again); NumberAlreadyIssued when `next_no` is lower than
    the number it would hand out next. Runs in the caller's transaction and holds the row lock until it
    commits, so a concurrent `next_number` either comes before (and is seen here) or after (and continues)."""
    if next_no < 1:
        raise ValueError("register numbers start at 1")
    created = await session.execute(
        insert_ignore(session, table, unit_id=unit_id, register=register, year=year, next_no=next_no)
    )
    if created.rowcount == 1:
        return
    key = and_(table.c.unit_id == unit_id, table.c.register == register, table.c.year == year)
    current = (await session.execute(select(table.c.next_no).where(key).with_for_update())).scalar_one()
    if next_no < current:
        raise NumberAlreadyIssued(current)
    if next_no > current:
        await session.execute(update(table).where(key).values(next_no=next_no))
