"""Secrecy (ชั้นความลับ) of attachments through the running service: a file carried by a classified letter is
read only by users cleared for it, the others get the 404 of a file outside their scope, and both the refusal
and every download of a classified file are published for the audit log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.storage.adapters import tables
from services.storage.consumers import DELIVERY_RECEIVED_QUEUE, LETTER_SENT_QUEUE
from services.storage.domain.clearance import is_classified
from services.storage.tests import files
from services.storage.tests.test_receipt import received
from services.storage.tests.test_service import ORG_A, ORG_B, ORG_C, eventually
from shared.contracts import DeliveryRef, Envelope, LetterSent

DENIED = "access.denied.v1"
DOWNLOADED = "attachment.downloaded.v1"


def letter_sent(attachment_ids: list[str], recipients: list[uuid.UUID], secrecy: str) -> tuple[Envelope, dict]:
    deliveries = {org: uuid.uuid4() for org in recipients}
    event = LetterSent(
        letter_id=uuid.uuid4(),
        doc_no="กค 0200/21",
        sender_org_id=ORG_A,
        letter_type="external",
        subject="แผนการตรวจสอบ",
        urgency="normal",
        secrecy=secrecy,
        circular=False,
        sent_at=datetime.now(UTC),
        attachment_ids=attachment_ids,
        deliveries=[DeliveryRef(delivery_id=d, recipient_org_id=org) for org, d in deliveries.items()],
    )
    envelope = event.envelope(source="sarabun/intake", subject=str(event.letter_id), actor="clerk", correlation_id=None)
    return envelope, {"letter_id": event.letter_id, "deliveries": deliveries}


async def send(storage, data: bytes, secrecy: str, recipients: list[uuid.UUID]) -> tuple[str, dict]:
    """Uploads a file as ORG_A and sends it in a letter of the given secrecy; returns when storage handled it."""
    response = await storage.upload(ORG_A, files.multipart(data, "แผน.pdf"))
    assert response.status_code == 201, response.text
    attachment_id = response.json()["id"]
    envelope, letter = letter_sent([attachment_id], recipients, secrecy)
    await storage.bus.publish(envelope)
    await storage.bus.queues[LETTER_SENT_QUEUE].join()
    return attachment_id, letter


async def receive(storage, letter: dict, org: uuid.UUID) -> uuid.UUID:
    """Registers the letter's delivery to `org` (ลงรับ) and waits for its stamped copy."""
    await storage.bus.publish(received(letter, org))
    await storage.bus.queues[DELIVERY_RECEIVED_QUEUE].join()
    return letter["deliveries"][org]


async def published(storage, event_type: str) -> list[dict]:
    """The payloads of every `event_type` the outbox has published so far (on the audit log's queue)."""

    async def relayed():
        async with storage.runtime.db.read() as session:
            unsent = select(func.count()).select_from(tables.outbox).where(tables.outbox.c.sent_at.is_(None))
            return (await session.execute(unsent)).scalar_one() == 0

    assert await eventually(relayed), "the outbox was never relayed"
    queue = storage.bus.queues["audit.events"]
    envelopes = [Envelope.decode(queue.get_nowait()[0]) for _ in range(queue.qsize())]
    for envelope in envelopes:  # put back, so a later call sees them too
        queue.put_nowait((envelope.encode(), 1))
    return [{**e.data, "_actor": e.actor} for e in envelopes if e.type == event_type]


def paths(attachment_id: str, delivery_id: uuid.UUID) -> list[str]:
    return [f"/objects/{attachment_id}", f"/objects/{attachment_id}/content", f"/stamped/{delivery_id}"]


async def test_a_user_without_clearance_gets_404_for_a_secret_letters_attachment_and_is_audited(start):
    storage = await start()
    attachment_id, letter = await send(storage, files.real_pdf(), "secret", [ORG_B])
    delivery_id = await receive(storage, letter, ORG_B)

    for path in paths(attachment_id, delivery_id):
        for clearance in ("normal", "confidential"):
            refused = await storage.client.get(path, headers=storage.headers(ORG_B, "somchai", clearance))
            assert refused.status_code == 404, (path, clearance)
            assert refused.headers["content-type"] == "application/problem+json"
            # Word for word what a unit outside the scope is told: nothing says the file exists.
            outsider = await storage.client.get(path, headers=storage.headers(ORG_C, "somchai", "top_secret"))
            assert refused.json() == outsider.json()

    denied = await published(storage, DENIED)
    assert len(denied) == 6  # three paths, two clearances; the outsider was out of scope, not refused
    assert {d["secrecy"] for d in denied} == {"secret"}
    assert {d["resource"] for d in denied} == {"attachment"}
    assert {d["resource_id"] for d in denied} == {attachment_id}
    assert {d["letter_id"] for d in denied} == {str(letter["letter_id"])}
    assert {d["org_id"] for d in denied} == {str(ORG_B)}
    assert {d["_actor"] for d in denied} == {"somchai"}
    assert await published(storage, DOWNLOADED) == []


async def test_a_cleared_user_downloads_a_secret_letters_attachment_and_the_download_is_audited(start):
    storage = await start()
    data = files.real_pdf()
    attachment_id, letter = await send(storage, data, "secret", [ORG_B])
    delivery_id = await receive(storage, letter, ORG_B)
    headers = storage.headers(ORG_B, "director", "secret")

    meta = await storage.client.get(f"/objects/{attachment_id}", headers=headers)
    assert meta.status_code == 200
    assert meta.json()["id"] == attachment_id
    content = await storage.client.get(f"/objects/{attachment_id}/content", headers=headers)
    assert content.status_code == 200
    assert content.content == data
    stamped = await storage.client.get(f"/stamped/{delivery_id}", headers=headers)
    assert stamped.status_code == 200, stamped.text
    higher = await storage.client.get(
        f"/objects/{attachment_id}/content", headers=storage.headers(ORG_B, "p", "top_secret")
    )
    assert higher.status_code == 200

    downloaded = await published(storage, DOWNLOADED)
    assert len(downloaded) == 3  # content, stamped copy, and the top-secret user's content; not the metadata
    assert {d["attachment_id"] for d in downloaded} == {attachment_id}
    assert {d["letter_id"] for d in downloaded} == {str(letter["letter_id"])}
    assert {d["secrecy"] for d in downloaded} == {"secret"}
    assert {d["org_id"] for d in downloaded} == {str(ORG_B)}
    assert [d["_actor"] for d in downloaded] == ["director", "director", "p"]
    assert await published(storage, DENIED) == []


async def test_a_normal_letters_attachment_publishes_no_download_event(start):
    storage = await start()
    attachment_id, letter = await send(storage, files.real_pdf(), "normal", [ORG_B])
    delivery_id = await receive(storage, letter, ORG_B)

    for path in paths(attachment_id, delivery_id):
        assert (await storage.client.get(path, headers=storage.headers(ORG_B))).status_code == 200, path

    assert await published(storage, DOWNLOADED) == []
    assert await published(storage, DENIED) == []


async def test_the_uploader_without_clearance_is_refused_once_the_file_travels_in_a_secret_letter(start):
    storage = await start()
    attachment_id, _ = await send(storage, files.pdf(), "normal", [ORG_B])
    path = f"/objects/{attachment_id}/content"
    assert (await storage.client.get(path, headers=storage.headers(ORG_A))).status_code == 200

    secret, letter = letter_sent([attachment_id], [ORG_C], "secret")
    await storage.bus.publish(secret)
    await storage.bus.queues[LETTER_SENT_QUEUE].join()

    # The file is as secret as the most secret letter that carried it, whoever uploaded it.
    for reader in (ORG_A, ORG_B, ORG_C):
        response = await storage.client.get(path, headers=storage.headers(reader))
        assert response.status_code == 404, reader
    cleared = await storage.client.get(path, headers=storage.headers(ORG_A, clearance="secret"))
    assert cleared.status_code == 200
    denied = await published(storage, DENIED)
    assert [d["org_id"] for d in denied] == [str(ORG_A), str(ORG_B), str(ORG_C)]
    assert {d["letter_id"] for d in denied} == {str(letter["letter_id"])}  # the secret letter, not the normal one


async def test_only_refusals_for_lack_of_clearance_are_audited(start):
    # An unknown attachment, one out of scope and an unknown stamped copy are plain 404s and stage nothing.
    storage = await start()
    attachment_id, _ = await send(storage, files.pdf(), "confidential", [ORG_B])
    for path in (f"/objects/{uuid.uuid4()}/content", f"/objects/{attachment_id}/content", f"/stamped/{uuid.uuid4()}"):
        assert (await storage.client.get(path, headers=storage.headers(ORG_C))).status_code == 404
    assert await published(storage, DENIED) == []
    refused = await storage.client.get(f"/objects/{attachment_id}/content", headers=storage.headers(ORG_B))
    assert refused.status_code == 404
    assert [d["secrecy"] for d in await published(storage, DENIED)] == ["confidential"]


@pytest.mark.parametrize(
    ("level", "classified"),
    [("normal", False), ("confidential", True), ("secret", True), ("top_secret", True), ("unheard-of", True)],
)
def test_every_level_above_normal_is_classified(level, classified):
    assert is_classified(level) is classified
