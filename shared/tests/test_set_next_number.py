"""Setting where a register continues (an agency moving from paper mid-year), on SQLite and PostgreSQL."""

import asyncio
import uuid

import pytest
from sqlalchemy import MetaData, select, text

from shared.counters import NumberAlreadyIssued, counters_table, next_number, set_next_number

metadata = MetaData()
counters = counters_table(metadata)


async def create_tables(db):
    async with db.engine.begin() as conn:
        if not db.is_sqlite:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)


async def take(db, unit, register="send", year=2569) -> int:
    async with db.transaction() as session:
        return await next_number(session, counters, unit, register, year)


async def set_next(db, unit, next_no, register="send", year=2569) -> None:
    async with db.transaction() as session:
        await set_next_number(session, counters, unit, register, year, next_no)


async def test_a_new_register_starts_where_it_is_set(database):
    await create_tables(database)
    unit = uuid.uuid4()
    await set_next(database, unit, 50)
    assert [await take(database, unit) for _ in range(3)] == [50, 51, 52]
    # Only that register and year moved; the others still start at 1.
    assert await take(database, unit, register="send_circular") == 1
    assert await take(database, unit, year=2570) == 1
    assert await take(database, uuid.uuid4()) == 1


async def test_numbering_moves_forward_after_numbers_were_issued(database):
    await create_tables(database)
    unit = uuid.uuid4()
    assert [await take(database, unit) for _ in range(2)] == [1, 2]
    await set_next(database, unit, 3)  # exactly the next number: allowed, changes nothing
    assert await take(database, unit) == 3
    await set_next(database, unit, 120)
    assert await take(database, unit) == 120


async def test_never_below_an_issued_number(database):
    await create_tables(database)
    unit = uuid.uuid4()
    for _ in range(5):
        await take(database, unit)
    with pytest.raises(NumberAlreadyIssued) as refused:
        await set_next(database, unit, 5)
    assert (refused.value.last_issued, refused.value.next_no) == (5, 6)
    await set_next(database, unit, 40)
    with pytest.raises(NumberAlreadyIssued) as refused:
        await set_next(database, unit, 39)  # 1..39 count as issued once numbering continues at 40
    assert refused.value.last_issued == 39
    assert await take(database, unit) == 40
    async with database.read() as session:
        assert (await session.execute(select(counters.c.next_no))).scalar_one() == 41


async def test_a_refused_or_rolled_back_setting_leaves_the_counter_alone(database):
    await create_tables(database)
    unit = uuid.uuid4()
    await take(database, unit)
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            await set_next_number(session, counters, unit, "send", 2569, 70)
            raise RuntimeError("the caller's transaction failed")
    assert await take(database, unit) == 2
    with pytest.raises(ValueError):
        await set_next(database, unit, 0)


async def test_numbers_taken_concurrently_with_a_setting_stay_unique(database):
    await create_tables(database)
    unit = uuid.uuid4()
    await take(database, unit)

    async def setting() -> None:
        await set_next(database, unit, 30)

    results = await asyncio.gather(*(take(database, unit) for _ in range(20)), setting())
    numbers = [n for n in results if n is not None]
    assert len(set(numbers)) == 20
    # Whatever ran before the setting is below 30, whatever ran after continues from 30 without a gap.
    after = sorted(n for n in numbers if n >= 30)
    assert after == list(range(30, 30 + len(after)))
    assert all(2 <= n < 30 for n in numbers if n < 30)
