"""Counters, outbox and inbox behave the same on SQLite and PostgreSQL."""

import asyncio
import uuid

import pytest
from sqlalchemy import MetaData, select, text

from shared.contracts import Envelope
from shared.counters import counters_table, next_number
from shared.outbox import OutboxRelay, inbox_table, once, outbox_table, stage, stage_many

metadata = MetaData()
counters = counters_table(metadata)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


async def create_tables(db):
    async with db.engine.begin() as conn:
        if not db.is_sqlite:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)


async def test_concurrent_numbers_are_unique_and_gap_free(database):
    await create_tables(database)
    unit = uuid.uuid4()

    async def take() -> int:
        async with database.transaction() as session:
            return await next_number(session, counters, unit, "send", 2569)

    numbers = await asyncio.gather(*(take() for _ in range(100)))
    assert sorted(numbers) == list(range(1, 101))


async def test_a_rolled_back_number_is_given_again_and_years_restart(database):
    await create_tables(database)
    unit = uuid.uuid4()
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            assert await next_number(session, counters, unit, "send", 2569) == 1
            raise RuntimeError("the letter failed to save")
    async with database.transaction() as session:
        assert await next_number(session, counters, unit, "send", 2569) == 1
        assert await next_number(session, counters, unit, "send", 2570) == 1
        assert await next_number(session, counters, unit, "receive", 2569) == 1


class RecordingBus:
    def __init__(self, fail_first: int = 0):
        self.published: list[Envelope] = []
        self.fail_first = fail_first

    async def publish(self, envelope: Envelope) -> None:
        if self.fail_first:
            self.fail_first -= 1
            raise ConnectionError("broker away")
        self.published.append(envelope)


def envelope(n: int) -> Envelope:
    return Envelope(type="letter.sent.v1", source="test", data={"n": n})


async def test_outbox_publishes_committed_events_in_order_once(database):
    await create_tables(database)
    bus = RecordingBus()
    relay = OutboxRelay(database, outbox, bus, "test")
    async with database.transaction() as session:
        for n in range(3):
            await stage(session, outbox, envelope(n))
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            await stage(session, outbox, envelope(99))
            raise RuntimeError("rolled back: its event must never be published")
    assert await relay.relay_once() == 3
    assert await relay.relay_once() == 0
    assert [e.data["n"] for e in bus.published] == [0, 1, 2]


async def test_many_events_staged_in_one_statement_publish_in_order(database):
    await create_tables(database)
    bus = RecordingBus()
    relay = OutboxRelay(database, outbox, bus, "test", batch=1000)
    async with database.transaction() as session:
        await stage_many(session, outbox, [envelope(n) for n in range(2500)])
    assert await relay.relay_once() == 1000
    while await relay.relay_once():
        pass
    assert [e.data["n"] for e in bus.published] == list(range(2500))


async def test_outbox_keeps_rows_when_the_broker_fails(database):
    await create_tables(database)
    bus = RecordingBus(fail_first=1)
    relay = OutboxRelay(database, outbox, bus, "test")
    async with database.transaction() as session:
        await stage(session, outbox, envelope(1))
    with pytest.raises(ConnectionError):
        await relay.relay_once()
    assert await relay.relay_once() == 1
    assert [e.data["n"] for e in bus.published] == [1]


async def test_inbox_applies_a_redelivered_message_once(database):
    await create_tables(database)
    effects = []

    async def handler(session, env):
        effects.append(env.id)

    handle = once(database, inbox, "test.consumer", handler)
    message = envelope(1)
    await handle([message])
    await handle([message])
    await handle([envelope(2)])
    assert len(effects) == 2
    async with database.read() as session:
        assert len((await session.execute(select(inbox))).all()) == 2


async def test_inbox_row_rolls_back_with_failed_effects(database):
    await create_tables(database)

    async def failing(session, env):
        raise ValueError("effect failed")

    message = envelope(1)
    with pytest.raises(ValueError):
        await once(database, inbox, "test.consumer", failing)([message])
    done = []

    async def succeeding(session, env):
        done.append(env.id)

    await once(database, inbox, "test.consumer", succeeding)([message])
    assert done == [message.id]  # the failed attempt did not mark the message as handled
