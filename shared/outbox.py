"""Transactional outbox and inbox.

A handler stages its events in the outbox table inside its own transaction; the relay publishes them and
marks them sent only after the broker confirms. A consumer records each message id in the inbox table in the
same transaction as its effects, so a redelivered message changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from prometheus_client import Counter
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import Envelope
from shared.db import Database, UTCDateTime, insert_ignore
from shared.faults import crash_point

log = logging.getLogger("sarabun.outbox")

PUBLISHED = Counter("sarabun_outbox_published_total", "Events published from the outbox", ["service"])
CONSUMED = Counter("sarabun_inbox_handled_total", "Messages handled, by outcome", ["consumer", "outcome"])


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("id", Uuid, nullable=False, unique=True),
        Column("type", String(100), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("sent_at", UTCDateTime(), nullable=True, index=True),
    )


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("message_id", Uuid, primary_key=True),
        Column("consumer", String(100), primary_key=True),
        Column("handled_at", UTCDateTime(), nullable=False),
    )


async def stage(session: AsyncSession, outbox: Table, envelope: Envelope) -> None:
    """Adds an event to the caller's transaction; it is published only if that transaction commits."""
    await session.execute(
        insert(outbox).values(
            id=envelope.id, type=envelope.type, body=envelope.model_dump_json(), created_at=datetime.now(UTC)
        )
    )


async def stage_many(session: AsyncSession, outbox: Table, envelopes: list[Envelope]) -> None:
    """`stage` for many events in one statement (a circular's thousands of deliveries)."""
    if not envelopes:
        return
    now = datetime.now(UTC)
    rows = [{"id": e.id, "type": e.type, "body": e.model_dump_json(), "created_at": now} for e in envelopes]
    await session.execute(insert(outbox), rows)


Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]
BatchHandler = Callable[[AsyncSession, list[Envelope]], Awaitable[None]]


def once_batch(
    db: Database, inbox: Table, consumer: str, handler: BatchHandler
) -> Callable[[list[Envelope]], Awaitable[None]]:
    """Wraps a consumer of batches: one transaction records every message id in the inbox and applies the
    messages not handled before, in delivery order, so effects and inbox rows commit together, at most once
    per message. If anything raises, nothing of the batch is kept."""

    async def handle(envelopes: list[Envelope]) -> None:
        async with db.transaction() as session:
            fresh = []
            for envelope in envelopes:
                mark = insert_ignore(
                    session, inbox, message_id=envelope.id, consumer=consumer, handled_at=datetime.now(UTC)
                )
                if (await session.execute(mark)).rowcount == 0:
                    CONSUMED.labels(consumer, "duplicate").inc()
                else:
                    fresh.append(envelope)
            if fresh:
                await handler(session, fresh)
        crash_point("consumer.after_commit")  # effects committed, messages not yet acked: redelivered
        CONSUMED.labels(consumer, "ok").inc(len(fresh))

    return handle


def once(db: Database, inbox: Table, consumer: str, handler: Handler) -> Callable[[list[Envelope]], Awaitable[None]]:
    """`once_batch` for a consumer that handles one message at a time: each in turn, in one transaction."""

    async def each(session: AsyncSession, envelopes: list[Envelope]) -> None:
        for envelope in envelopes:
            await handler(session, envelope)

    return once_batch(db, inbox, consumer, each)


class OutboxRelay:
    """Publishes committed outbox rows in order. Several replicas may run: rows are claimed with
    FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite has a single writer)."""

    def __init__(
        self,
        db: Database,
        outbox: Table,
        bus,
        service: str,
        poll_seconds: float = 1.0,
        batch: int = 100,
        claim_timeout: float = 60.0,
    ):
        self.db, self.outbox, self.bus, self.service = db, outbox, bus, service
        self.poll_seconds, self.batch, self.claim_timeout = poll_seconds, batch, claim_timeout
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        db.on_commit(self._wake.set)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.service}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        delay = self.poll_seconds
        while True:
            self._wake.clear()
            try:
                while await self.relay_once():
                    pass
                delay = self.poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the broker or database is away; rows stay and are retried
                log.warning("outbox relay of %s failed; retrying in %.1fs", self.service, delay, exc_info=True)
                delay = min(delay * 2, 30)
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that
                # arrives as the event is set, and the relay would then never stop.
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def relay_once(self) -> int:
        """Publishes one batch; returns how many rows were sent."""
        t = self.outbox
        async with self.db.transaction(notify=False) as session:
            if not self.db.is_sqlite:
                # A claim whose client is gone without a word (host lost, network cut) would keep its rows
                # locked, and every relay skips locked rows: the server ends such a transaction instead.
                ms = int(self.claim_timeout * 1000)
                await session.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = {ms}"))
            claim = (
                select(t.c.seq, t.c.body)
                .where(t.c.sent_at.is_(None))
                .order_by(t.c.seq)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            rows = (await session.execute(claim)).all()
            for row in rows:
                await self.bus.publish(Envelope.model_validate_json(row.body))
                crash_point("relay.after_publish")  # published, not yet marked sent: published again
                await session.execute(update(t).where(t.c.seq == row.seq).values(sent_at=datetime.now(UTC)))
                PUBLISHED.labels(self.service).inc()
        return len(rows)
