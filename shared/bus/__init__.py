"""The message bus port. `connect_bus(url)` picks the adapter: `memory://` or `amqp://`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from shared.contracts import Envelope

MessageHandler = Callable[[Envelope], Awaitable[None]]


class Bus(Protocol):
    async def connect(self) -> None: ...

    async def publish(self, envelope: Envelope) -> None:
        """Returns once the broker has accepted the message; raises if it did not."""

    async def subscribe(self, queue: str, handler: MessageHandler) -> None:
        """Consumes `queue` (declared by the topology). A handler that raises is retried later;
        after too many attempts the message goes to the queue's dead-letter queue."""

    async def ready(self) -> bool: ...

    async def close(self) -> None: ...


def connect_bus(url: str, *, max_attempts: int = 5, retry_seconds: float = 2.0) -> Bus:
    if url.startswith("memory://"):
        from shared.bus.memory import MemoryBus

        return MemoryBus(max_attempts=max_attempts, retry_seconds=retry_seconds)
    if url.startswith(("amqp://", "amqps://")):
        from shared.bus.rabbitmq import RabbitBus

        return RabbitBus(url, max_attempts=max_attempts)
    raise ValueError(f"SARABUN_BUS_URL: unsupported scheme in {url!r} (use memory:// or amqp://)")
