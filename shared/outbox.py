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
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import Envelope
from shared.db import Database, UTCDateTime
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
    """Wraps a consumer so that a batch's effects and its inbox rows commit in one transaction: the handler
    gets the messages not handled before, in delivery order, and each message takes effect at most once."""

    async def handle(envelopes: list[Envelope]) -> None:
        unique = list({e.id: e for e in envelopes}.values())  # the same message twice in a batch: once
        async with db.transaction() as session:
            fresh = await _mark(session, inbox, consumer, [e.id for e in unique])
            todo = [e for e in unique if e.id in fresh]
            if todo:
                await handler(session, todo)
            crash_point("consumer.before_commit")  # effects not committed: all redelivered, none lost
        crash_point("consumer.after_commit")  # effects committed, messages not yet acked: redelivered
        CONSUMED.labels(consumer, "ok").inc(len(todo))
        CONSUMED.labels(consumer, "duplicate").inc(len(envelopes) - len(todo))

    return handle


def once(db: Database, inbox: Table, consumer: str, handler: Handler) -> Callable[[list[Envelope]], Awaitable[None]]:
    """`once_batch` for a consumer that applies its messages one by one (still in one transaction)."""

    async def each(session: AsyncSession, envelopes: list[Envelope]) -> None:
        for envelope in envelopes:
            await handler(session, envelope)

    return once_batch(db, inbox, consumer, each)


async def _mark(session: AsyncSession, inbox: Table, consumer: str, ids: list) -> set:
    """Records the message ids in the inbox in one statement; returns those that were not there before."""
    now = datetime.now(UTC)
    # In id order, so two replicas marking overlapping batches take the row locks in the same order.
    rows = [{"message_id": i, "consumer": consumer, "handled_at": now} for i in sorted(ids)]
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(inbox).values(rows).on_conflict_do_nothing().returning(inbox.c.message_id)
    return set((await session.execute(statement)).scalars())


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
                # A short page means the table was drained; rows committed since have set the wake again,
                # so there is no need for one more (empty) claim to find out.
                while await self.relay_once() == self.batch:
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
            if not rows:
                return 0
            outcomes = await self.bus.publish_many([Envelope.model_validate_json(r.body) for r in rows])
            crash_point("relay.after_publish")  # published, not yet marked sent: published again
            sent = [row.seq for row, failure in zip(rows, outcomes, strict=True) if failure is None]
            if sent:
                await session.execute(update(t).where(t.c.seq.in_(sent)).values(sent_at=datetime.now(UTC)))
                PUBLISHED.labels(self.service).inc(len(sent))
        if failure := next((o for o in outcomes if o is not None), None):
            # The confirmed rows are marked sent; the rest wait for the next round.
            raise failure
        return len(rows)
