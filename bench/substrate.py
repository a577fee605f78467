"""The substrate's own limits, with the drivers the services use: aio-pika with publisher confirms and
persistent messages on a durable quorum queue; asyncpg through SQLAlchemy's async engine (shared.db)."""

from __future__ import annotations

import asyncio
import contextlib
import time

import aio_pika
from sqlalchemy import text

from bench.deploy import AMQP_URL
from shared.db import Database

ROUNDTRIP_QUEUE = "bench.roundtrip"


async def rabbitmq_round_trips(seconds: float, in_flight: int) -> dict:
    """Publishers (each awaiting its own confirm, as the services' relay does) feed one consumer that acks
    every message; a round trip counts when the consumer has the message. Returns round trips per second."""
    connection = await aio_pika.connect(AMQP_URL, timeout=10)
    try:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(ROUNDTRIP_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
        await queue.purge()
        consumer_channel = await connection.channel()
        await consumer_channel.set_qos(prefetch_count=max(16, in_flight * 2))
        consumer_queue = await consumer_channel.get_queue(ROUNDTRIP_QUEUE)
        received = 0
        publishing_done = False
        drained = asyncio.Event()
        body = b'{"bench": "' + b"x" * 400 + b'"}'  # about the size of a letter.sent envelope

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            received += 1
            if publishing_done and received >= published:
                drained.set()

        tag = await consumer_queue.consume(on_message)
        stop_at = time.monotonic() + seconds
        published = 0

        async def publisher() -> None:
            nonlocal published
            while time.monotonic() < stop_at:
                message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
                await channel.default_exchange.publish(message, routing_key=ROUNDTRIP_QUEUE, mandatory=True)
                published += 1

        started = time.monotonic()
        await asyncio.gather(*(publisher() for _ in range(in_flight)))
        publishing_done = True
        if received >= published:
            drained.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(drained.wait(), 30)
        elapsed = time.monotonic() - started
        await consumer_queue.cancel(tag)
        await channel.queue_delete(ROUNDTRIP_QUEUE)
        version = connection.transport.connection.server_properties.get("version", b"")
        return {
            "per_s": received / elapsed,
            "published": published,
            "received": received,
            "seconds": elapsed,
            "in_flight": in_flight,
            "server": version.decode() if isinstance(version, bytes) else str(version),
        }
    finally:
        await connection.close()


async def postgres_commits(db_url: str, seconds: float, workers: int) -> dict:
    """Single-row INSERT transactions, each committed (synchronous_commit as the server has it), from
    `workers` concurrent sessions of one engine built exactly as the services build theirs."""
    db = Database(db_url, "bench")
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE SCHEMA IF NOT EXISTS bench"))
            await conn.execute(
                text("CREATE TABLE IF NOT EXISTS bench.commits (id bigserial PRIMARY KEY, worker int, payload text)")
            )
            sync = (await conn.execute(text("SHOW synchronous_commit"))).scalar_one()
            fsync = (await conn.execute(text("SHOW fsync"))).scalar_one()
            version = (await conn.execute(text("SHOW server_version"))).scalar_one()
        stop_at = time.monotonic() + seconds
        commits = 0
        insert = text("INSERT INTO bench.commits (worker, payload) VALUES (:w, :p)")

        async def worker(n: int) -> None:
            nonlocal commits
            while time.monotonic() < stop_at:
                async with db.transaction(notify=False) as session:
                    await session.execute(insert, {"w": n, "p": "หนังสือ" * 20})
                commits += 1

        started = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(workers)))
        elapsed = time.monotonic() - started
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA bench CASCADE"))
        return {
            "per_s": commits / elapsed,
            "commits": commits,
            "seconds": elapsed,
            "workers": workers,
            "synchronous_commit": sync,
            "fsync": fsync,
            "server": version,
        }
    finally:
        await db.dispose()
