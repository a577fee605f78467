"""The log on PostgreSQL, where replicas really run side by side: the log_state row lock must keep indexes
contiguous and the inbox must absorb concurrent redeliveries. Skips without PostgreSQL (fails in CI)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import httpx
import pytest
from sqlalchemy import select

from services.audit import bootstrap
from services.audit.adapters import tables
from services.audit.consumers import EVENTS_QUEUE
from services.audit.tests.test_service import CGD, OPS, RD, TD, delivered, letter_sent
from shared.bus.memory import MemoryBus
from shared.db import Database
from shared.principal import HEADER, Principal, internal_token
from shared.settings import Settings

pytestmark = pytest.mark.infra


async def test_concurrent_appends_from_two_replicas_are_contiguous(postgres_url, tmp_path):
    settings = Settings(demo=True, data_dir=tmp_path)
    schema = f"audit_{uuid.uuid4().hex[:8]}"  # the session's database is shared with other tests
    bus = MemoryBus()
    replicas = [bootstrap.build(settings, bus, Database(postgres_url, schema=schema)) for _ in range(2)]
    for replica in replicas:
        await replica.start()
    try:
        letters = [(uuid.uuid4(), uuid.uuid4(), (CGD, RD, TD)[i % 3]) for i in range(25)]
        envelopes = [letter_sent(letter, OPS, [(delivery, org)]) for letter, delivery, org in letters]
        envelopes += [delivered(letter, delivery, OPS, org) for letter, delivery, org in letters]
        # Every event handled by both replicas at once, as after a broker redelivery to a second consumer.
        handlers = [replica.consumers[EVENTS_QUEUE] for replica in replicas]
        await asyncio.gather(*(handle([e]) for e in envelopes for handle in handlers))

        db = replicas[0].db
        async with db.read() as session:
            rows = (await session.execute(select(tables.leaves).order_by(tables.leaves.c["index"]))).mappings().all()
            size = (await session.execute(select(tables.log_state.c.size))).scalar_one()
        assert [r["index"] for r in rows] == list(range(50))
        assert size == 50
        assert {r["event_id"] for r in rows} == {e.id for e in envelopes}
        assert all(r["leaf_hash"] == hashlib.sha256(b"\x00" + r["entry"]).digest() for r in rows)

        # The scoped history query on PostgreSQL: the recipient sees its letter, an outsider does not.
        letter, delivery, org = letters[0]
        outsider = next(o for o in (CGD, RD, TD) if o != org)
        transport = httpx.ASGITransport(app=replicas[1].app)
        async with httpx.AsyncClient(transport=transport, base_url="http://audit") as client:

            def as_(who):
                return {
                    HEADER: internal_token(Principal(user="u", org_id=who, roles=("clerk",)), settings.service_secret)
                }

            mine = await client.get(f"/letters/{letter}/history", headers=as_(org))
            assert mine.status_code == 200
            events = mine.json()["events"]
            # Handled concurrently, the delivery may have overtaken its letter.sent; the history is in log order.
            assert [e["index"] for e in events] == sorted(e["index"] for e in events)
            assert sorted((e["type"], e.get("delivery_id") or "") for e in events) == [
                ("delivery.delivered", str(delivery)),
                ("letter.sent", ""),
            ]
            assert (await client.get(f"/letters/{letter}/history", headers=as_(outsider))).status_code == 404
    finally:
        for replica in replicas:
            await replica.stop()
        await bus.close()


async def test_leaves_nodes_and_checkpoints_cannot_be_changed_or_removed(postgres_url, tmp_path):
    import sqlalchemy.exc
    from sqlalchemy import delete, update

    from shared.migrate import upgrade

    db = Database(postgres_url, schema=f"audit_{uuid.uuid4().hex[:8]}")
    runtime = bootstrap.build(Settings(demo=True, data_dir=tmp_path), MemoryBus(), db)
    await upgrade(db, runtime.migrations)
    try:
        handle = runtime.consumers[EVENTS_QUEUE]
        for envelope in (letter_sent(uuid.uuid4(), OPS, [(uuid.uuid4(), CGD)]) for _ in range(3)):
            await handle([envelope])
        assert await runtime.app.state.checkpointer.issue() is not None
        attempts = [
            update(tables.leaves).where(tables.leaves.c["index"] == 1).values(entry=b"forged"),
            delete(tables.leaves).where(tables.leaves.c["index"] == 2),
            update(tables.nodes).values(hash=bytes(32)),
            delete(tables.nodes),
            update(tables.checkpoints).values(size=1),
            delete(tables.checkpoints),
        ]
        for statement in attempts:
            with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
                async with db.transaction() as session:
                    await session.execute(statement)
        async with db.read() as session:
            rows = (await session.execute(select(tables.leaves.c.entry))).scalars().all()
            node_count = len((await session.execute(select(tables.nodes))).all())
            signed = (await session.execute(select(tables.checkpoints.c.size))).scalars().all()
        assert len(rows) == 3 and b"forged" not in rows
        assert signed == [3]
        assert node_count == 3 + 1  # three leaves and the one complete pair
    finally:
        await db.dispose()
