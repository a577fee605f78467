"""The audit service end to end in embedded mode: events in over the in-memory bus, history and leaves out over
its internal API."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from services.audit import bootstrap
from services.audit.adapters import tables
from services.audit.consumers import EVENTS_QUEUE
from services.audit.service import record_events
from shared.bus.memory import MemoryBus
from shared.contracts import (
    AttachmentStored,
    DeliveryDelivered,
    DeliveryReceived,
    DeliveryRef,
    Envelope,
    LetterSent,
)
from shared.outbox import once_batch
from shared.principal import HEADER, Principal, internal_token
from shared.runtime import ServiceRuntime
from shared.seed import org_id
from shared.settings import Settings

OPS, CGD, RD, TD, MOF = (org_id(k) for k in ("ops", "cgd", "rd", "td", "mof"))
SETTLE_SECONDS = 15.0
SUBJECT = "ขอส่งรายงานการประชุมเรื่องงบประมาณลับของนายสมชาย ใจดี"


@dataclass
class Audit:
    settings: Settings
    bus: MemoryBus
    runtime: ServiceRuntime
    client: httpx.AsyncClient

    def as_(self, org: uuid.UUID, *roles: str, user: str = "someone") -> dict:
        token = internal_token(Principal(user=user, org_id=org, roles=roles), self.settings.service_secret)
        return {HEADER: token}

    def auditor(self) -> dict:
        return self.as_(MOF, "auditor", user="auditor")

    async def leaves(self, start: int = 0, limit: int = 1000) -> list[dict]:
        response = await self.client.get("/leaves", params={"start": start, "limit": limit}, headers=self.auditor())
        assert response.status_code == 200, response.text
        return response.json()

    async def settle(self, count: int) -> list[dict]:
        """Polls until the log holds `count` leaves (or gives up after a while); the bus delivers
        asynchronously."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_SECONDS
        while True:
            found = await self.leaves()
            if len(found) >= count or loop.time() > deadline:
                return found
            await asyncio.sleep(0.02)


async def _start(tmp_path, bus: MemoryBus) -> Audit:
    settings = Settings(demo=True, data_dir=tmp_path)
    runtime = bootstrap.build(settings, bus)
    await runtime.start()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=runtime.app), base_url="http://audit")
    return Audit(settings, bus, runtime, client)


async def _stop(audit: Audit) -> None:
    await audit.client.aclose()
    await audit.runtime.stop()
    await audit.bus.close()


@pytest.fixture
async def audit(tmp_path):
    started = await _start(tmp_path, MemoryBus())
    yield started
    await _stop(started)


def _when(minute: int) -> datetime:
    return datetime(2026, 3, 1, 2, minute, tzinfo=UTC)


def letter_sent(letter_id, sender, recipients, actor="ops.clerk") -> Envelope:
    event = LetterSent(
        letter_id=letter_id,
        doc_no="กค 0200/15",
        sender_org_id=sender,
        letter_type="external",
        subject=SUBJECT,
        urgency="normal",
        secrecy="normal",
        circular=len(recipients) > 1,
        sent_at=_when(0),
        attachment_ids=[],
        deliveries=[DeliveryRef(delivery_id=d, recipient_org_id=org) for d, org in recipients],
    )
    return event.envelope(source="test", subject=str(letter_id), actor=actor, correlation_id=None)


def delivered(letter_id, delivery_id, sender, recipient, minute=1) -> Envelope:
    event = DeliveryDelivered(
        delivery_id=delivery_id,
        letter_id=letter_id,
        sender_org_id=sender,
        recipient_org_id=recipient,
        delivered_at=_when(minute),
    )
    return event.envelope(source="test", subject=str(letter_id), actor="ops.clerk", correlation_id=None)


def received(letter_id, delivery_id, sender, recipient, receive_no, actor) -> Envelope:
    event = DeliveryReceived(
        delivery_id=delivery_id,
        letter_id=letter_id,
        sender_org_id=sender,
        recipient_org_id=recipient,
        receive_no=receive_no,
        register_year=2569,
        received_at=_when(5),
    )
    return event.envelope(source="test", subject=str(letter_id), actor=actor, correlation_id=None)


def attachment_stored(org) -> Envelope:
    event = AttachmentStored(
        attachment_id=uuid.uuid4(),
        org_id=org,
        sha256="cd" * 32,
        size=10,
        content_type="application/pdf",
        stored_at=_when(0),
    )
    return event.envelope(source="test", subject="a", actor="ops.clerk", correlation_id=None)


async def _publish_letter_story(bus: MemoryBus) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """OPS sends one letter to CGD and RD; both are delivered; CGD registers it as receive no. 7."""
    letter_id, to_cgd, to_rd = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for envelope in (
        letter_sent(letter_id, OPS, [(to_cgd, CGD), (to_rd, RD)]),
        delivered(letter_id, to_cgd, OPS, CGD, minute=1),
        delivered(letter_id, to_rd, OPS, RD, minute=2),
        received(letter_id, to_cgd, OPS, CGD, receive_no=7, actor="cgd.clerk"),
    ):
        await bus.publish(envelope)
    return letter_id, to_cgd, to_rd


async def test_history_in_log_order_for_auditor_and_sender(audit: Audit):
    letter_id, to_cgd, to_rd = await _publish_letter_story(audit.bus)
    await audit.bus.publish(attachment_stored(OPS))  # belongs to no letter's history
    assert len(await audit.settle(5)) == 5

    expected = [
        {"index": 0, "type": "letter.sent", "occurred_at": "2026-03-01T02:00:00.000000Z", "org_id": str(OPS),
         "actor": "ops.clerk"},
        {"index": 1, "type": "delivery.delivered", "occurred_at": "2026-03-01T02:01:00.000000Z", "org_id": str(CGD),
         "actor": "ops.clerk", "delivery_id": str(to_cgd)},
        {"index": 2, "type": "delivery.delivered", "occurred_at": "2026-03-01T02:02:00.000000Z", "org_id": str(RD),
         "actor": "ops.clerk", "delivery_id": str(to_rd)},
        {"index": 3, "type": "delivery.received", "occurred_at": "2026-03-01T02:05:00.000000Z", "org_id": str(CGD),
         "actor": "cgd.clerk", "delivery_id": str(to_cgd), "receive_no": 7},
    ]  # fmt: skip
    for headers in (audit.auditor(), audit.as_(OPS, "clerk")):
        response = await audit.client.get(f"/letters/{letter_id}/history", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["letter_id"] == str(letter_id)
        assert response.json()["events"] == expected


async def test_a_recipient_sees_the_letter_and_its_own_delivery_only(audit: Audit):
    letter_id, to_cgd, to_rd = await _publish_letter_story(audit.bus)
    await audit.settle(4)

    cgd = (await audit.client.get(f"/letters/{letter_id}/history", headers=audit.as_(CGD, "clerk"))).json()
    assert [(e["index"], e["type"], e.get("delivery_id")) for e in cgd["events"]] == [
        (0, "letter.sent", None),
        (1, "delivery.delivered", str(to_cgd)),
        (3, "delivery.received", str(to_cgd)),
    ]
    rd = (await audit.client.get(f"/letters/{letter_id}/history", headers=audit.as_(RD, "clerk"))).json()
    assert [(e["index"], e["type"], e.get("delivery_id")) for e in rd["events"]] == [
        (0, "letter.sent", None),
        (2, "delivery.delivered", str(to_rd)),
    ]


async def test_history_outside_scope_is_not_found(audit: Audit):
    letter_id, _, _ = await _publish_letter_story(audit.bus)
    await audit.settle(4)

    outsider = await audit.client.get(f"/letters/{letter_id}/history", headers=audit.as_(TD, "clerk"))
    assert outsider.status_code == 404
    assert outsider.headers["content-type"] == "application/problem+json"
    assert outsider.json()["status"] == 404
    # An auditor asking for a letter the log never saw gets the same answer.
    unknown = await audit.client.get(f"/letters/{uuid.uuid4()}/history", headers=audit.auditor())
    assert unknown.status_code == 404
    # The role, not the org, makes an auditor: a clerk of the auditor's org sees nothing.
    assert (await audit.client.get(f"/letters/{letter_id}/history", headers=audit.as_(MOF))).status_code == 404


async def test_bad_requests_are_4xx_problems(audit: Audit):
    cases = [
        ("/letters/not-a-uuid/history", audit.auditor(), 422),
        (f"/letters/{uuid.uuid4()}/history", {}, 401),
        (f"/letters/{uuid.uuid4()}/history", {HEADER: "forged"}, 401),
        ("/leaves?start=-1", audit.auditor(), 422),
        ("/leaves?start=99999999999999999999999", audit.auditor(), 422),
        ("/leaves?limit=0", audit.auditor(), 422),
        ("/leaves?limit=abc", audit.auditor(), 422),
    ]
    for path, headers, status in cases:
        response = await audit.client.get(path, headers=headers)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"


async def test_leaves_are_for_auditors_only_and_carry_verifiable_bytes(audit: Audit):
    letter_id, _, _ = await _publish_letter_story(audit.bus)
    found = await audit.settle(4)

    for headers in (audit.as_(OPS, "clerk"), audit.as_(CGD, "clerk", "admin")):
        response = await audit.client.get("/leaves", headers=headers)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"

    assert [leaf["index"] for leaf in found] == [0, 1, 2, 3]
    assert [leaf["type"] for leaf in found] == [
        "letter.sent.v1",
        "delivery.delivered.v1",
        "delivery.delivered.v1",
        "delivery.received.v1",
    ]
    for leaf in found:
        entry = base64.b64decode(leaf["entry"])
        assert leaf["leaf_hash"] == hashlib.sha256(b"\x00" + entry).hexdigest()
        facts = json.loads(entry)
        assert facts["letter_id"] == str(letter_id)
        assert facts["type"] == leaf["type"]
    assert [leaf["index"] for leaf in await audit.leaves(start=1, limit=2)] == [1, 2]
    assert await audit.leaves(start=4) == []


async def test_a_redelivered_event_gets_one_leaf(audit: Audit):
    letter_id, to_cgd = uuid.uuid4(), uuid.uuid4()
    first = letter_sent(letter_id, OPS, [(to_cgd, CGD)])
    await audit.bus.publish(first)
    await audit.bus.publish(first)  # same envelope id, as a broker redelivers after a lost ack
    # The bus keeps order, so once this later event is logged both copies have been handled.
    await audit.bus.publish(delivered(letter_id, to_cgd, OPS, CGD))
    await audit.settle(2)
    await asyncio.sleep(0.2)  # room for a wrongly logged third leaf to show up
    found = await audit.leaves()
    assert [leaf["index"] for leaf in found] == [0, 1]
    assert [leaf["type"] for leaf in found] == ["letter.sent.v1", "delivery.delivered.v1"]

    # The same event replayed under another consumer name passes the inbox but still gets no second leaf,
    # and takes no index: the next event still lands at 2.
    replay = once_batch(audit.runtime.db, tables.inbox, "audit.replay", record_events)
    await replay([first])
    await audit.bus.publish(received(letter_id, to_cgd, OPS, CGD, receive_no=1, actor="cgd.clerk"))
    await audit.settle(3)
    assert [leaf["index"] for leaf in await audit.leaves()] == [0, 1, 2]
    async with audit.runtime.db.read() as session:
        size = (await session.execute(select(tables.log_state.c.size))).scalar_one()
    assert size == 3


async def test_indexes_stay_contiguous_with_two_replicas_and_fifty_concurrent_events(tmp_path):
    # Two replicas over the same database, each with its own engine, competing for one queue. One attempt
    # only: a collision would dead-letter its event instead of hiding behind a retry.
    bus = MemoryBus(max_attempts=1)
    one = await _start(tmp_path, bus)
    two = bootstrap.build(one.settings, bus)
    await two.start()
    try:
        senders = [OPS, CGD, RD, TD]
        envelopes = []
        for i in range(50):
            if i % 3 == 0:
                envelopes.append(attachment_stored(senders[i % 4]))
            else:
                letter_id = uuid.uuid4()
                envelopes.append(letter_sent(letter_id, senders[i % 4], [(uuid.uuid4(), MOF)]))
        await asyncio.gather(*(bus.publish(e) for e in envelopes))
        found = await one.settle(50)

        assert bus.dead_letters[EVENTS_QUEUE] == []
        assert [leaf["index"] for leaf in found] == list(range(50))
        logged = {json.loads(base64.b64decode(leaf["entry"]))["event_id"] for leaf in found}
        assert logged == {str(e.id) for e in envelopes}
        async with one.runtime.db.read() as session:
            size = (await session.execute(select(tables.log_state.c.size))).scalar_one()
        assert size == 50
    finally:
        await two.stop()
        await _stop(one)


async def test_no_subject_text_is_stored(audit: Audit, tmp_path):
    await _publish_letter_story(audit.bus)
    await audit.settle(4)

    async with audit.runtime.db.read() as session:
        entries = (await session.execute(select(tables.leaves.c.entry))).scalars().all()
    assert len(entries) == 4
    needle = SUBJECT.encode()
    for entry in entries:
        assert needle not in entry
        assert "subject" not in json.loads(entry)
    # Nor anywhere else in the service's database files.
    files = [p for p in tmp_path.iterdir() if p.name.startswith("audit.db")]
    assert files
    for path in files:
        assert needle not in path.read_bytes()


async def test_an_unknown_event_type_is_logged_without_its_data(audit: Audit):
    newer = Envelope(type="delivery.teleported.v1", source="test", actor="rd.clerk", data={"reason": SUBJECT})
    await audit.bus.publish(newer)
    found = await audit.settle(1)
    assert [leaf["type"] for leaf in found] == ["delivery.teleported.v1"]
    facts = json.loads(base64.b64decode(found[0]["entry"]))
    assert facts["event_id"] == str(newer.id)
    assert "reason" not in facts and SUBJECT not in json.dumps(facts, ensure_ascii=False)


async def test_an_invalid_event_is_dead_lettered_and_leaves_no_gap(tmp_path):
    audit = await _start(tmp_path, MemoryBus(max_attempts=1))
    try:
        await audit.bus.publish(Envelope(type=LetterSent.TYPE, source="test", data={"letter_id": "broken"}))
        good = attachment_stored(OPS)
        await audit.bus.publish(good)
        found = await audit.settle(1)
        assert len(audit.bus.dead_letters[EVENTS_QUEUE]) == 1
        assert [leaf["index"] for leaf in found] == [0]
        assert json.loads(base64.b64decode(found[0]["entry"]))["event_id"] == str(good.id)
    finally:
        await _stop(audit)


async def test_ready_when_database_and_bus_are(audit: Audit):
    response = await audit.client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"ready": True, "checks": {"database": True, "bus": True}}
