"""In-process bus for embedded mode and tests. It still encodes every message to bytes and delivers it
asynchronously through the same topology, retries and dead-letter queues as the RabbitMQ adapter."""

from __future__ import annotations

import asyncio
import logging

from shared.bus import MessageHandler
from shared.contracts import Envelope
from shared.topology import QUEUES, matches
from shared.transient import transient

log = logging.getLogger("sarabun.bus.memory")


class MemoryBus:
    def __init__(self, *, max_attempts: int = 5, retry_seconds: float = 2.0, queues=None):
        self.max_attempts = max_attempts
        self.retry_seconds = retry_seconds
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

    async def subscribe(self, queue: str, handler: MessageHandler) -> None:
        self._tasks.append(asyncio.create_task(self._consume(queue, handler), name=f"memory-consumer-{queue}"))

    async def _consume(self, queue: str, handler: MessageHandler) -> None:
        source = self.queues[queue]
        while True:
            body, attempt = await source.get()
            try:
                envelope = Envelope.decode(body)
            except ValueError:
                log.error("undecodable message dead-lettered on %s", queue)
                self.dead_letters[queue].append(body)
                source.task_done()
                continue
            try:
                await handler(envelope)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - retried, then dead-lettered unless the surroundings failed
                # As on RabbitMQ: a database or store that is away does not use up the message's attempts.
                self._retry_or_dead_letter(queue, body, attempt, counted=not transient(exc))
            finally:
                source.task_done()

    def _retry_or_dead_letter(self, queue: str, body: bytes, attempt: int, counted: bool = True) -> None:
        if counted and attempt >= self.max_attempts:
            log.error("message dead-lettered on %s after %d attempts", queue, attempt, exc_info=True)
            self.dead_letters[queue].append(body)
            return
        log.warning("handler on %s failed (attempt %d); retrying", queue, attempt, exc_info=True)

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
