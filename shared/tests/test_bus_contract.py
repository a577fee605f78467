"""One contract for both buses: the memory bus must behave like RabbitMQ where the services can tell."""

import asyncio
import uuid

import aio_pika
import pytest

from shared.bus.memory import MemoryBus
from shared.bus.rabbitmq import RabbitBus
from shared.contracts import Envelope
from tests.e2e.helpers import eventually


@pytest.fixture(params=["memory", "rabbitmq"])
async def bus_and_queue(request):
    tag = uuid.uuid4().hex[:8]
    queue = f"test-{tag}.consumer"
    queues = {queue: ("test.happened.v1",)}
    if request.param == "memory":
        bus = MemoryBus(max_attempts=3, retry_seconds=0.05, queues=queues)
    else:
        url = request.getfixturevalue("rabbitmq_url")
        bus = RabbitBus(url, max_attempts=3, queues=queues, exchange=f"sarabun.test.{tag}")
    await bus.connect()
    yield bus, queue
    await bus.close()
    if request.param == "rabbitmq":
        await _delete_rabbit_objects(request.getfixturevalue("rabbitmq_url"), queue, f"sarabun.test.{tag}")


async def _delete_rabbit_objects(url, queue, exchange):
    connection = await aio_pika.connect(url)
    channel = await connection.channel()
    for name in (queue, f"{queue}.retry", f"{queue}.dlq"):
        await channel.queue_delete(name)
    await channel.exchange_delete(exchange)
    await connection.close()


def event(n: int = 1) -> Envelope:
    return Envelope(type="test.happened.v1", source="test", subject="s", data={"n": n, "text": "หนังสือ"})


async def test_published_events_arrive_intact(bus_and_queue):
    bus, queue = bus_and_queue
    got: list[Envelope] = []

    async def handler(envelopes):
        got.extend(envelopes)

    await bus.subscribe(queue, handler)
    sent = [event(n) for n in range(5)]
    for e in sent:
        await bus.publish(e)
    await eventually(lambda: _ready(len(got) == 5))
    assert sorted(got, key=lambda e: e.data["n"]) == sent


async def test_a_failing_handler_is_retried_until_it_succeeds(bus_and_queue):
    bus, queue = bus_and_queue
    attempts = []

    async def flaky(envelopes):
        attempts.extend(e.id for e in envelopes)
        if len(attempts) < 2:
            raise ConnectionError("database away")

    await bus.subscribe(queue, flaky)
    await bus.publish(event())
    await eventually(lambda: _ready(len(attempts) == 2), within=15)
    assert await bus.dead_letter_count(queue) == 0


async def test_a_message_that_always_fails_ends_in_the_dead_letter_queue(bus_and_queue):
    bus, queue = bus_and_queue

    async def broken(envelopes):
        raise ValueError("cannot handle")

    await bus.subscribe(queue, broken)
    await bus.publish(event())
    await eventually(lambda: _count(bus, queue, 1), within=20)


async def test_an_undecodable_message_goes_straight_to_the_dead_letter_queue(bus_and_queue):
    bus, queue = bus_and_queue
    handled = []

    async def handler(envelopes):
        handled.extend(envelopes)

    await bus.subscribe(queue, handler)
    await bus.inject(queue, b"\xff not json")
    await eventually(lambda: _count(bus, queue, 1), within=10)
    assert handled == []


async def test_publishing_an_event_no_queue_listens_to_fails(bus_and_queue):
    bus, _ = bus_and_queue
    with pytest.raises(Exception):  # noqa: B017 - each adapter raises its own error type
        await bus.publish(Envelope(type="nobody.listens.v1", source="test", data={}))


async def test_messages_arriving_together_are_handled_as_one_batch(bus_and_queue):
    bus, queue = bus_and_queue
    batches: list[list[int]] = []

    async def handler(envelopes):
        batches.append([e.data["n"] for e in envelopes])

    outcomes = await bus.publish_many([event(n) for n in range(20)])
    assert outcomes == [None] * 20
    await bus.subscribe(queue, handler)  # all 20 are waiting when the consumer starts
    await eventually(lambda: _ready(sum(map(len, batches)) == 20))
    assert sorted(n for batch in batches for n in batch) == list(range(20))
    assert len(batches) < 20  # handled in batches, not one by one


async def test_a_poison_message_in_a_batch_does_not_hold_back_its_neighbours(bus_and_queue):
    bus, queue = bus_and_queue
    done: list[int] = []

    async def handler(envelopes):
        if any(e.data["n"] == 3 for e in envelopes):
            raise ValueError("message 3 is bad")
        done.extend(e.data["n"] for e in envelopes)

    await bus.publish_many([event(n) for n in range(8)])
    await bus.subscribe(queue, handler)
    await eventually(lambda: _count(bus, queue, 1), within=20)
    assert sorted(done) == [0, 1, 2, 4, 5, 6, 7]  # each good one once, the bad one dead-lettered


async def test_publish_many_reports_each_refused_message(bus_and_queue):
    bus, _ = bus_and_queue
    lost = Envelope(type="nobody.listens.v1", source="test", data={})
    outcomes = await bus.publish_many([event(1), lost, event(2)])
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], Exception)


async def _ready(value: bool) -> bool:
    await asyncio.sleep(0)
    return value


async def _count(bus, queue, expected: int) -> bool:
    return await bus.dead_letter_count(queue) == expected
