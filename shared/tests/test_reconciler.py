"""The reconciler flags what is stuck, once, shows it in /metrics and republishes outbox rows the relay left."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import MetaData, select, update

from shared.bus.memory import MemoryBus
from shared.contracts import Envelope
from shared.outbox import OutboxRelay, outbox_table, stage
from shared.reconciler import Reconciler

QUEUE = "test.letters"


class RecordingBus(MemoryBus):
    def __init__(self):
        super().__init__(queues={QUEUE: ("letter.#",)})
        self.published: list[uuid.UUID] = []

    async def publish(self, envelope: Envelope) -> None:
        self.published.append(envelope.id)


class HangingBus(RecordingBus):
    """A broker that never confirms: the relay's claim stays open, as with a client that is gone."""

    async def publish(self, envelope: Envelope) -> None:
        await asyncio.Event().wait()


@pytest.fixture
async def outbox(database):
    table = outbox_table(MetaData(schema=None if database.is_sqlite else database.schema))
    async with database.engine.begin() as conn:
        if not database.is_sqlite:
            await conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{database.schema}"')
        await conn.run_sync(table.metadata.create_all)
    return table


async def add_rows(db, table, count: int, age: float = 0.0) -> list[uuid.UUID]:
    envelopes = [Envelope(type="letter.sent.v1", source="test", data={}) for _ in range(count)]
    async with db.transaction(notify=False) as session:
        for envelope in envelopes:
            await stage(session, table, envelope)
        ids = [e.id for e in envelopes]
        created = datetime.now(UTC) - timedelta(seconds=age)
        await session.execute(update(table).where(table.c.id.in_(ids)).values(created_at=created))
    return ids


async def unsent(db, table) -> set[uuid.UUID]:
    async with db.read() as session:
        return set((await session.execute(select(table.c.id).where(table.c.sent_at.is_(None)))).scalars())


def metric(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def service() -> str:
    return f"svc-{uuid.uuid4().hex[:8]}"  # metrics are process-wide; a name per test keeps them apart


async def test_fresh_unsent_rows_are_counted_but_not_stuck(database, outbox):
    bus, name = RecordingBus(), service()
    await add_rows(database, outbox, 3)
    reconciler = Reconciler(name, 60, OutboxRelay(database, outbox, bus, name))
    assert await reconciler.reconcile_once() == 0
    assert metric("sarabun_outbox_unsent", service=name) == 3
    assert metric("sarabun_outbox_stuck", service=name) == 0
    assert metric("sarabun_reconciler_stuck_total", service=name, kind="outbox") == 0
    assert bus.published == []  # the relay's job while the rows are young


async def test_rows_older_than_the_limit_are_flagged_once_and_republished(database, outbox):
    bus, name = RecordingBus(), service()
    old = await add_rows(database, outbox, 2, age=120)
    await add_rows(database, outbox, 1)
    reconciler = Reconciler(name, 60, OutboxRelay(database, outbox, bus, name))
    assert await reconciler.reconcile_once() == 2
    assert metric("sarabun_outbox_oldest_unsent_seconds", service=name) >= 120
    assert metric("sarabun_reconciler_stuck_total", service=name, kind="outbox") == 2
    assert set(old) <= set(bus.published) and await unsent(database, outbox) == set()
    assert await reconciler.reconcile_once() == 0
    assert metric("sarabun_outbox_unsent", service=name) == 0
    assert metric("sarabun_outbox_oldest_unsent_seconds", service=name) == 0
    assert metric("sarabun_reconciler_stuck_total", service=name, kind="outbox") == 2


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite: one writer, no claim to outlive
async def test_rows_claimed_by_a_relay_that_went_silent_are_released_and_republished(database, outbox):
    name = service()
    ids = await add_rows(database, outbox, 2, age=120)
    silent = OutboxRelay(database, outbox, HangingBus(), name, claim_timeout=1)
    hung = asyncio.create_task(silent.relay_once())
    try:
        bus = RecordingBus()
        reconciler = Reconciler(name, 60, OutboxRelay(database, outbox, bus, name))

        async def republished() -> bool:
            await reconciler.reconcile_once()
            return set(ids) <= set(bus.published)

        deadline = asyncio.get_running_loop().time() + 30
        while not await republished():  # the server ends the silent claim after its timeout
            assert asyncio.get_running_loop().time() < deadline, "the claimed rows were never republished"
            await asyncio.sleep(0.5)
        assert await unsent(database, outbox) == set()
    finally:
        hung.cancel()
        await asyncio.gather(hung, return_exceptions=True)


async def test_dead_lettered_messages_are_shown_and_flagged_once(database, outbox):
    bus, name = RecordingBus(), service()
    reconciler = Reconciler(name, 60, bus=bus, queues=[QUEUE])
    bus.dead_letters[QUEUE] += [b"poison", b"more poison"]
    assert await reconciler.reconcile_once() == 2
    assert metric("sarabun_dead_letters", queue=QUEUE) == 2
    assert await reconciler.reconcile_once() == 2
    assert metric("sarabun_reconciler_stuck_total", service=name, kind="dead_letter") == 2
