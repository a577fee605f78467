"""The reconciler: a service's watch over state changes it owes and that have not happened.

Two things can hold a change back without any process failing loudly:
- an outbox row that stays unsent: the relay is wedged on a dead connection, or its claim is still held by
  a transaction whose client vanished (the relay's claim ends on the server after CLAIM_TIMEOUT_SECONDS);
- a message in a consumer's dead-letter queue: an event this service will never apply by itself.

Every pass sets the gauges /metrics shows, flags anything older than `stuck_after` seconds once
(`sarabun_reconciler_stuck_total`, and a warning in the log), and republishes stuck outbox rows with a relay
pass of its own. That pass claims rows with SKIP LOCKED like the relay, so the two never publish the same row
at once; a row published twice after a crash is dropped by the consumers' inbox.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from prometheus_client import Counter, Gauge
from sqlalchemy import func, select

from shared.outbox import OutboxRelay

log = logging.getLogger("sarabun.reconciler")

UNSENT = Gauge("sarabun_outbox_unsent", "Outbox rows not yet published", ["service"])
OLDEST = Gauge("sarabun_outbox_oldest_unsent_seconds", "Age of the oldest unpublished outbox row", ["service"])
STUCK = Gauge("sarabun_outbox_stuck", "Outbox rows unpublished for longer than the stuck limit", ["service"])
DEAD = Gauge("sarabun_dead_letters", "Messages in a consumer's dead-letter queue", ["queue"])
STUCK_TOTAL = Counter("sarabun_reconciler_stuck_total", "Changes found stuck, each counted once", ["service", "kind"])
REPUBLISHED = Counter("sarabun_reconciler_republished_total", "Stuck outbox rows the reconciler published", ["service"])


class Reconciler:
    def __init__(self, service: str, stuck_after: float, relay: OutboxRelay | None = None, bus=None, queues=()):
        self.service, self.stuck_after, self.relay, self.bus = service, stuck_after, relay, bus
        self.queues = tuple(queues)
        self.every = max(1.0, min(stuck_after / 4, 15.0))
        self._flagged: set = set()
        self._dead: dict[str, int] = {}
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"reconciler-{self.service}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(max(self.every, 30.0)):  # a pass on a dead connection must not wedge it
                    await self.reconcile_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the database or broker is away; the next pass tries again
                log.warning("reconciler of %s could not look", self.service, exc_info=True)
            await asyncio.sleep(self.every)

    async def reconcile_once(self) -> int:
        """One look; returns how many changes are stuck now."""
        stuck = await self._outbox() if self.relay else 0
        return stuck + await self._dead_letters()

    async def _outbox(self) -> int:
        t, now = self.relay.outbox, datetime.now(UTC)
        async with self.relay.db.read() as session:
            count, oldest = (
                await session.execute(select(func.count(), func.min(t.c.created_at)).where(t.c.sent_at.is_(None)))
            ).one()
            limit = now - timedelta(seconds=self.stuck_after)
            stuck = set(
                (await session.execute(select(t.c.id).where(t.c.sent_at.is_(None), t.c.created_at < limit))).scalars()
            )
        UNSENT.labels(self.service).set(count)
        OLDEST.labels(self.service).set((now - _aware(oldest)).total_seconds() if oldest else 0)
        STUCK.labels(self.service).set(len(stuck))
        self._flag("outbox", stuck - self._flagged)
        self._flagged = stuck
        if stuck:
            REPUBLISHED.labels(self.service).inc(await self.relay.relay_once())
        return len(stuck)

    async def _dead_letters(self) -> int:
        """Messages that reached a dead-letter queue of this service's consumers; each new one is flagged."""
        total = 0
        for queue in self.queues:
            count = await self.bus.dead_letter_count(queue)
            DEAD.labels(queue).set(count)
            self._flag("dead_letter", range(max(0, count - self._dead.get(queue, 0))), queue)
            self._dead[queue] = count
            total += count
        return total

    def _flag(self, kind: str, new, where: str = "") -> None:
        new = list(new)
        if not new:
            return
        STUCK_TOTAL.labels(self.service, kind).inc(len(new))
        log.warning(
            "%s: %d %s stuck %s(older than %ss or dead-lettered)",
            self.service,
            len(new),
            kind,
            where and f"in {where} ",
            self.stuck_after,
        )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
