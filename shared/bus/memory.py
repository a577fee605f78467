"""In-process bus for embedded mode and tests. It still encodes every message to bytes and delivers it
asynchronously, in batches, through the same topology, retries and dead-letter queues as the RabbitMQ
adapter."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from shared.bus import BatchHandler, Batching
from shared.bus.batches import handle_batch, take_batch
from shared.contracts import Envelope
from shared.topology import QUEUES, matches
from shared.transient import transient

log = logging.getLogger("sarabun.bus.memory")


class MemoryBus:
    def __init__(
        self, *, max_attempts: int = 5, retry_seconds: float = 2.0, queues=None, batching: Batching | None = None
    ):
        self.max_attempts = max_attempts
        self.retry_seconds = retry_seconds
        self.batching = batching or Batching()
        self.bindings: dict[str, tuple[str, ...]] = dict(QUEUES if queues is None else queues)
        self.queues: dict[str, asyncio.Queue[tuple[bytes, int]]] = {q: asyncio.Queue() for q in self.bindings}
        self.dead_letters: dict[str, list[bytes]] = {q: [] for q in self.bindings}
        self._tasks: list[asyncio.Task] = []
        self._pending: set[asyncio.Task] = set()

    async def connect(self) -> None:
        return None

    async def ready(self) -> bool:
        return True

    async def publish(self, envelope: Envelope) -> None:
        routed = [q for q, keys in self.bindings.items() if any(matches(k, envelope.type) for k in keys)]
        if not routed:
            raise RuntimeError(f"no queue is bound to {envelope.type}")  # as a mandatory publish would
        body = envelope.encode()
        for queue in routed:
            self.queues[queue].put_nowait((body, 1))

    async def publish_many(self, envelopes: Sequence[Envelope]) -> list[BaseException | None]:
        outcomes: list[BaseException | None] = []
        for envelope in envelopes:
            try:
                await self.publish(envelope)
                outcomes.append(None)
            except Exception as exc:  # noqa: BLE001 - reported per envelope, as the broker's confirms are
                outcomes.append(exc)
        return outcomes

    async def subscribe(self, queue: str, handler: BatchHandler) -> None:
        self._tasks.append(asyncio.create_task(self._consume(queue, handler), name=f"memory-consumer-{queue}"))

    async def _consume(self, queue: str, handler: BatchHandler) -> None:
        source = self.queues[queue]
        while True:
            items = await take_batch(source, self.batching)
            try:
                batch = []
                for body, attempt in items:
                    try:
                        batch.append((Envelope.decode(body), (body, attempt)))
                    except ValueError:
                        log.error("undecodable message dead-lettered on %s", queue)
                        self.dead_letters[queue].append(body)

                async def failed(item: tuple[bytes, int], exc: Exception) -> None:
                    self._retry_or_dead_letter(queue, *item, exc)

                if batch:
                    await handle_batch(queue, handler, batch, failed)
            finally:
                for _ in items:
                    source.task_done()

    def _retry_or_dead_letter(self, queue: str, body: bytes, attempt: int, exc: Exception) -> None:
        # As on RabbitMQ: a database or store that is away does not use up the message's attempts.
        counted = not transient(exc)
        if counted and attempt >= self.max_attempts:
            log.error("message dead-lettered on %s after %d attempts", queue, attempt, exc_info=exc)
            self.dead_letters[queue].append(body)
            return
        log.warning("handler on %s failed (attempt %d); retrying", queue, attempt, exc_info=exc)

        async def later() -> None:
            await asyncio.sleep(self.retry_seconds * attempt)
            self.queues[queue].put_nowait((body, attempt + 1 if counted else attempt))

        task = asyncio.create_task(later())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def inject(self, queue: str, body: bytes) -> None:
        """Puts raw bytes on a queue, as a misbehaving publisher would (for tests of poison messages)."""
        self.queues[queue].put_nowait((body, 1))

    async def dead_letter_count(self, queue: str) -> int:
        return len(self.dead_letters[queue])

    async def close(self) -> None:
        for task in [*self._tasks, *self._pending]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._pending, return_exceptions=True)
        self._tasks.clear()
