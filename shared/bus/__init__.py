"""The message bus port. `connect_bus(url)` picks the adapter: `memory://` or `amqp://`.

Consumers take batches: the bus hands a handler up to `Batching.max_messages` messages at once (waiting at
most `max_wait_seconds` for more after the first), the handler applies them in one transaction, and the bus
acknowledges them together after it returns. A batch whose handler raises is split: each message is handled
alone, so only the one at fault is retried and, in the end, dead-lettered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.contracts import Envelope

BatchHandler = Callable[[list[Envelope]], Awaitable[None]]


@dataclass(frozen=True)
class Batching:
    max_messages: int = 64
    # A lone message waits this long for company: a few milliseconds of latency per hop buys one
    # transaction and one round of acks for many messages under load.
    max_wait_seconds: float = 0.004


class Bus(Protocol):
    async def connect(self) -> None: ...

    async def publish(self, envelope: Envelope) -> None:
        """Returns once the broker has accepted the message; raises if it did not."""

    async def publish_many(self, envelopes: Sequence[Envelope]) -> list[BaseException | None]:
        """Publishes all, awaiting the broker's confirms together. One entry per envelope, in order: None if
        the broker accepted it, else the error."""

    async def subscribe(self, queue: str, handler: BatchHandler) -> None:
        """Consumes `queue` (declared by the topology) in batches. A handler that raises is retried later;
        after too many attempts the message goes to the queue's dead-letter queue."""

    async def ready(self) -> bool: ...

    async def close(self) -> None: ...


def connect_bus(
    url: str, *, max_attempts: int = 5, retry_seconds: float = 2.0, batching: Batching | None = None
) -> Bus:
    batching = batching or Batching()
    if url.startswith("memory://"):
        from shared.bus.memory import MemoryBus

        return MemoryBus(max_attempts=max_attempts, retry_seconds=retry_seconds, batching=batching)
    if url.startswith(("amqp://", "amqps://")):
        from shared.bus.rabbitmq import RabbitBus

        return RabbitBus(url, max_attempts=max_attempts, batching=batching)
    raise ValueError(f"SARABUN_BUS_URL: unsupported scheme in {url!r} (use memory:// or amqp://)")
