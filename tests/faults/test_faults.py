"""Faults injected into the distributed deployment while clerks send and register letters. After each, the
checker classifies everything the clients were told so far; nothing may be lost, duplicated or unexpected.

The tests share one deployment and one history, in file order: each later test checks the earlier
letters again, after its own faults.
"""

from __future__ import annotations

import asyncio

import aio_pika
import asyncpg
import pytest
from minio import Minio

from conftest import missing, rabbitmqctl
from shared.contracts import Envelope
from shared.topology import dead_letter_queue
from tests.faults.conftest import assert_holds, metric
from tests.faults.workload import Workload

pytestmark = pytest.mark.timeout(240)

KILLED = -9  # a process ended by SIGKILL


async def background(coroutine) -> asyncio.Task:
    task = asyncio.create_task(coroutine)
    await asyncio.sleep(0)
    return task


async def exited(cluster, name: str) -> int:
    return await asyncio.to_thread(cluster.wait_exit, name)


async def crashing(cluster, crashes: dict[str, str], work):
    """Restarts each named service with its crash point set, runs the work meanwhile, and starts again
    (without the crash point) every service as soon as the crash point has killed it."""
    for name, point in crashes.items():
        await asyncio.to_thread(cluster.restart, name, SARABUN_CRASH_AT=point)
    task = await background(work)

    async def revive(name: str) -> None:
        assert await exited(cluster, name) == KILLED
        await asyncio.to_thread(cluster.restart, name)

    await asyncio.gather(*(revive(name) for name in crashes))
    return await task


async def test_a_relay_killed_after_publishing_before_marking_sent_publishes_again(cluster, workload: Workload):
    """intake's relay dies after the broker confirmed letter.sent and before the row is marked sent; so does
    routing's with delivery.delivered. The restarted relays publish those rows again; consumers drop them."""
    crashes = {"intake": "relay.after_publish:3", "routing": "relay.after_publish:7"}
    letters = await crashing(cluster, crashes, workload.burst("relay", 12))
    await workload.receive_all(letters, "cgd")
    await assert_holds(workload, cluster)


async def test_a_consumer_killed_after_committing_before_acking_changes_nothing_twice(cluster, workload: Workload):
    """routing, audit and storage die after their consumer committed its effects and before the ack; the
    broker redelivers and the inbox drops the copy."""
    crashes = {"routing": "consumer.after_commit:4", "audit": "consumer.after_commit:9"}
    crashes["storage"] = "consumer.after_commit:2"
    letters = await crashing(cluster, crashes, workload.burst("consumer", 12))
    await workload.receive_all(letters, "rd")
    await assert_holds(workload, cluster)


async def test_a_consumer_killed_in_the_middle_of_a_batch_loses_and_duplicates_nothing(cluster, workload: Workload):
    """Letters pile up while audit and storage are stopped, so each takes many of them as one batch when it
    starts again. audit dies before its batch commits, storage after its batch committed and before the ack:
    the broker redelivers the whole batch to the restarted processes and nothing is lost or applied twice."""
    crashes = {"audit": "consumer.before_commit:1", "storage": "consumer.after_commit:1"}
    for name in crashes:
        await asyncio.to_thread(cluster.kill, name)
    letters = await workload.burst("batch", 12)

    async def piled_up() -> bool:
        depths = [await queue_depth(cluster, queue) for queue in ("audit.events", "storage.letter-sent")]
        return min(depths) >= 12

    assert await workload.until(piled_up, "12 letters waiting for audit and storage")
    for name, point in crashes.items():
        await asyncio.to_thread(cluster.start, name, SARABUN_CRASH_AT=point)
    for name in crashes:
        assert await exited(cluster, name) == KILLED
        await asyncio.to_thread(cluster.restart, name)
    await workload.receive_all(letters, "cgd")
    await assert_holds(workload, cluster)


async def queue_depth(cluster, queue: str) -> int:
    """Messages ready on a queue (not yet delivered to a consumer)."""
    connection = await aio_pika.connect(cluster.bus_url)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count
    finally:
        await connection.close()


async def test_links_to_the_database_and_the_broker_cut_and_stalled(cluster, workload: Workload):
    postgres, rabbitmq = cluster.proxies["postgres"], cluster.proxies["rabbitmq"]
    burst = await background(workload.burst("links", 16, concurrency=2))
    for proxy, fault in ((postgres, "cut"), (rabbitmq, "stall"), (rabbitmq, "cut"), (postgres, "stall")):
        await asyncio.sleep(1)
        getattr(proxy, fault)()
        try:
            await asyncio.sleep(4)
        finally:
            proxy.restore()
    letters = await burst
    await workload.receive_all(letters, "td")
    await assert_holds(workload, cluster)


async def test_a_consumer_whose_database_is_away_longer_than_its_retries_loses_nothing(cluster, workload: Workload):
    """audit alone loses its database for longer than a poison message's five tries take (about 10 s) while
    letters are sent: their events wait for the database, they are not dead-lettered."""
    link = cluster.proxies["postgres-audit"]
    link.cut()
    try:
        letters = await workload.burst("outage", 6, concurrency=2)
        await asyncio.sleep(15)
    finally:
        link.restore()
    await workload.receive_all(letters, "rd")
    await assert_holds(workload, cluster)


async def test_the_rabbitmq_node_restarted(cluster, workload: Workload):
    if not rabbitmqctl("status"):
        missing("rabbitmqctl for the local RabbitMQ node")
    burst = await background(workload.burst("node", 10, concurrency=2))
    await asyncio.sleep(1)
    try:
        assert await asyncio.to_thread(rabbitmqctl, "stop_app")
        await asyncio.sleep(2)
    finally:
        started = await asyncio.to_thread(rabbitmqctl, "start_app")
    assert started, "rabbitmqctl start_app failed: the broker must be started by hand"
    letters = await burst
    await workload.receive_all(letters, "cgd")
    await assert_holds(workload, cluster)


async def test_a_poison_message_ends_in_the_dead_letter_queue_and_the_rest_flows(cluster, workload: Workload):
    """Bytes that are no envelope, and an envelope whose data is no letter, on routing's queue."""
    queue = "routing.letter-sent"
    bogus = Envelope(type="letter.sent.v1", source="faults", subject="x", data={"letter_id": "not-a-uuid"})
    connection = await aio_pika.connect(cluster.bus_url)
    try:
        channel = await connection.channel()
        for body in (b"\x00 not json {", bogus.encode()):
            await channel.default_exchange.publish(aio_pika.Message(body), routing_key=queue)
        letters = await workload.burst("poison", 6)
        await workload.receive_all(letters, "rd")

        async def dead_lettered() -> bool:
            declared = await channel.declare_queue(dead_letter_queue(queue), passive=True)
            return declared.declaration_result.message_count >= 2

        assert await workload.until(dead_lettered, "two messages in the dead-letter queue")
    finally:
        await connection.close()

    async def flagged() -> bool:  # routing's reconciler shows them in /metrics
        return await metric(cluster, "routing", "sarabun_dead_letters", queue=queue) == 2

    assert await workload.until(flagged, "the dead letters in routing's /metrics")
    await assert_holds(workload, cluster)


async def test_an_upload_cut_off_at_the_object_store_answers_503_and_leaves_nothing(cluster, workload: Workload):
    s3 = cluster.proxies["s3"]
    store = Minio(f"127.0.0.1:{s3.target[1]}", access_key="testing", secret_key="testing", secure=False)
    bucket = cluster.storage_url.rsplit("/", 1)[1]
    before = await asyncio.to_thread(lambda: sorted(o.object_name for o in store.list_objects(bucket, recursive=True)))
    rows = await attachment_rows(cluster)
    pdf = b"%PDF-1.4\n" + b"%" + b"x" * (2 * 1024 * 1024) + b"\n%%EOF\n"
    s3.stall()
    try:
        upload = await background(
            workload.api.post(
                "/api/v1/attachments",
                headers=await workload.headers("ops.clerk"),
                files={"file": ("ตัดกลางทาง.pdf", pdf, "application/pdf")},
                timeout=120,
            )
        )

        async def on_its_way() -> bool:  # the object's bytes are held at the stalled link to the store
            return s3.held >= 32 * 1024

        assert await workload.until(on_its_way, "the upload to reach the store", 60), "it never reached the store"
        s3.cut()
        response = await upload
    finally:
        s3.restore()
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    after = await asyncio.to_thread(lambda: sorted(o.object_name for o in store.list_objects(bucket, recursive=True)))
    assert after == before  # no half object left behind
    assert await attachment_rows(cluster) == rows  # and no row that a letter could refer to
    # With the store back, the same file goes up and travels with a letter.
    retried = await workload.call(
        "POST", "/api/v1/attachments", "ops.clerk", files={"file": ("x.pdf", pdf, "application/pdf")}
    )
    assert retried.status_code == 201, retried.text
    assert await attachment_rows(cluster) == rows + 1
    await assert_holds(workload, cluster)


async def attachment_rows(cluster) -> int:
    url = cluster.database_url.replace("postgresql+asyncpg://", "postgresql://")
    for attempt in range(60):  # the server is shared: wait for a free connection slot rather than fail
        try:
            conn = await asyncpg.connect(url)
            break
        except asyncpg.TooManyConnectionsError:
            if attempt == 59:
                raise
            await asyncio.sleep(1)
    try:
        return await conn.fetchval("SELECT count(*) FROM storage.attachments")
    finally:
        await conn.close()
