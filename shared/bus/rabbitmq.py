"""RabbitMQ adapter (aio-pika): publisher confirms, mandatory persistent messages, durable quorum queues,
consumers fed in batches and acknowledged once per batch, delayed retries through a TTL queue that
dead-letters back, and a dead-letter queue per consumer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from shared.bus import BatchHandler, Batching
from shared.bus.batches import handle_batch, take_batch
from shared.contracts import EXCHANGE, Envelope
from shared.topology import QUEUES, RETRY_DELAY_MS, dead_letter_queue, retry_queue
from shared.transient import transient

log = logging.getLogger("sarabun.bus.rabbitmq")

ATTEMPTS_HEADER = "x-sarabun-attempts"


class RabbitBus:
    def __init__(
        self,
        url: str,
        *,
        max_attempts: int = 5,
        queues=None,
        exchange: str = EXCHANGE,
        batching: Batching | None = None,
    ):
        self.url = url
        self.batching = batching or Batching()
        self.exchange_name = exchange
        self.max_attempts = max_attempts
        self.bindings = dict(QUEUES if queues is None else queues)
        self.connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._publish_channel = None
        self._exchange = None
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []

    async def connect(self, attempts: int = 60) -> None:
        """Waits for the broker with backoff instead of crashing at start-up."""
        delay = 0.5
        for attempt in range(1, attempts + 1):
            try:
                self.connection = await aio_pika.connect_robust(self.url)
                break
            except Exception:  # noqa: BLE001
                if attempt == attempts:
                    raise
                log.warning("RabbitMQ not reachable (attempt %d); retrying in %.1fs", attempt, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5)
        self._publish_channel = await self.connection.channel(publisher_confirms=True, on_return_raises=True)
        self._exchange = await self.declare_topology(self._publish_channel)

    async def declare_topology(self, channel) -> aio_pika.abc.AbstractExchange:
        exchange = await channel.declare_exchange(self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True)
        for name, keys in self.bindings.items():
            queue = await channel.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
            for key in keys:
                await queue.bind(exchange, routing_key=key)
            await channel.declare_queue(
                retry_queue(name),
                durable=True,
                arguments={
                    "x-message-ttl": RETRY_DELAY_MS,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": name,
                },
            )
            await channel.declare_queue(dead_letter_queue(name), durable=True, arguments={"x-queue-type": "quorum"})
        return exchange

    async def ready(self) -> bool:
        return bool(
            self.connection
            and not self.connection.is_closed
            and self._publish_channel
            and not self._publish_channel.is_closed
        )

    async def publish(self, envelope: Envelope) -> None:
        [outcome] = await self.publish_many([envelope])
        if outcome is not None:
            raise outcome

    async def publish_many(self, envelopes: Sequence[Envelope]) -> list[BaseException | None]:
        # All are sent before any confirm is awaited: one round trip to the broker for the lot, and each
        # confirm (or return) still maps to its own message.
        async with self._lock:
            sends = [self._exchange.publish(_message(e), routing_key=e.type, mandatory=True) for e in envelopes]
            outcomes = await asyncio.gather(*sends, return_exceptions=True)
        return [o if isinstance(o, BaseException) else None for o in outcomes]

    async def subscribe(self, queue: str, handler: BatchHandler) -> None:
        channel = await self.connection.channel(publisher_confirms=True)
        # Two batches' worth: the next batch gathers while the current one commits.
        await channel.set_qos(prefetch_count=2 * self.batching.max_messages)
        source = await channel.get_queue(queue, ensure=True)
        arrived: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()

        async def on_message(message: AbstractIncomingMessage) -> None:
            arrived.put_nowait(message)

        await source.consume(on_message)
        task = asyncio.create_task(self._consume(channel, queue, arrived, handler), name=f"consumer-{queue}")
        self._tasks.append(task)

    async def _consume(self, channel, queue: str, arrived: asyncio.Queue, handler: BatchHandler) -> None:
        """One batch at a time, so every delivery before the batch's last is settled when it is acked."""
        while True:
            messages = await take_batch(arrived, self.batching)
            try:
                await self._deliver(channel, queue, messages, handler)
                # Ack only after the effects committed (or the messages were moved on): at-least-once. One
                # ack for the batch: `multiple` covers every earlier delivery on the channel.
                await messages[-1].ack(multiple=True)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the channel is gone: the broker redelivers what was not acked
                log.warning("a batch on %s could not be settled; the broker will redeliver it", queue, exc_info=True)

    async def _deliver(self, channel, queue: str, messages: list[AbstractIncomingMessage], handler) -> None:
        batch = []
        for message in messages:
            try:
                batch.append((Envelope.decode(message.body), message))
            except ValueError:
                log.error("undecodable message on %s sent to its dead-letter queue", queue)
                await self._forward(channel, dead_letter_queue(queue), message, attempts=1)

        async def failed(message: AbstractIncomingMessage, exc: Exception) -> None:
            attempts = int((message.headers or {}).get(ATTEMPTS_HEADER, 1))
            if transient(exc):
                # The database or store is away, not the message at fault: wait for it as long as it takes.
                target, counted = retry_queue(queue), attempts
            else:
                target = dead_letter_queue(queue) if attempts >= self.max_attempts else retry_queue(queue)
                counted = attempts + 1
            log.warning("handler on %s failed (attempt %d); to %s", queue, attempts, target, exc_info=exc)
            await self._forward(channel, target, message, attempts=counted)

        if batch:
            await handle_batch(queue, handler, batch, failed)

    @staticmethod
    async def _forward(channel, target: str, message: AbstractIncomingMessage, attempts: int) -> None:
        headers = dict(message.headers or {})
        headers[ATTEMPTS_HEADER] = attempts
        copy = aio_pika.Message(
            message.body,
            headers=headers,
            message_id=message.message_id,
            type=message.type,
            content_type=message.content_type,
            correlation_id=message.correlation_id,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await channel.default_exchange.publish(copy, routing_key=target)

    async def dead_letter_count(self, queue: str) -> int:
        channel = await self.connection.channel()
        try:
            declared = await channel.declare_queue(dead_letter_queue(queue), passive=True)
            return declared.declaration_result.message_count
        finally:
            await channel.close()

    async def inject(self, queue: str, body: bytes) -> None:
        """Puts raw bytes on a queue, as a misbehaving publisher would (for tests of poison messages)."""
        await self._publish_channel.default_exchange.publish(aio_pika.Message(body), routing_key=queue)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.connection:
            await self.connection.close()


def _message(envelope: Envelope) -> aio_pika.Message:
    return aio_pika.Message(
        envelope.encode(),
        message_id=str(envelope.id),
        type=envelope.type,
        content_type="application/json",
        correlation_id=envelope.correlation_id,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )
