"""The receipt stamp through the running service: `delivery.received` in, a stamped copy that only the
receiving unit can download out; redelivered receipts render nothing twice, early ones wait for the letter."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

from pypdf import PdfReader
from sqlalchemy import select

from services.storage.adapters import tables
from services.storage.consumers import DELIVERY_RECEIVED_QUEUE, LETTER_SENT_QUEUE
from services.storage.tests import files
from services.storage.tests.test_service import ORG_A, ORG_B, ORG_C, eventually
from shared.contracts import DeliveryReceived, DeliveryRef, Envelope, LetterSent
from shared.objectstore.folder import FolderStore


class CountingStore(FolderStore):
    """A folder store that counts what is written under each key, to see what was rendered."""

    def __init__(self, root):
        super().__init__(root)
        self.puts: list[str] = []

    async def put(self, key, data, size, content_type):
        self.puts.append(key)
        await super().put(key, data, size, content_type)


def letter_sent(attachment_ids: list[str], recipients: list[uuid.UUID]) -> tuple[Envelope, dict]:
    deliveries = {org: uuid.uuid4() for org in recipients}
    event = LetterSent(
        letter_id=uuid.uuid4(),
        doc_no="กค 0200/7",
        sender_org_id=ORG_A,
        letter_type="external",
        subject="ขอเชิญประชุม",
        urgency="normal",
        secrecy="normal",
        circular=False,
        sent_at=datetime.now(UTC),
        attachment_ids=attachment_ids,
        deliveries=[DeliveryRef(delivery_id=d, recipient_org_id=org) for org, d in deliveries.items()],
    )
    envelope = event.envelope(source="sarabun/intake", subject=str(event.letter_id), actor="clerk", correlation_id=None)
    return envelope, {"letter_id": event.letter_id, "deliveries": deliveries}


def received(letter: dict, org: uuid.UUID, receive_no: int = 42) -> Envelope:
    event = DeliveryReceived(
        delivery_id=letter["deliveries"][org],
        letter_id=letter["letter_id"],
        sender_org_id=ORG_A,
        recipient_org_id=org,
        receive_no=receive_no,
        register_year=2569,
        received_at=datetime(2026, 11, 24, 3, 15, tzinfo=UTC),
        recipient_org_name="กรมบัญชีกลาง",
    )
    return event.envelope(source="sarabun/routing", subject=str(event.delivery_id), actor="cgd", correlation_id=None)


async def upload(storage, data: bytes, filename: str) -> str:
    response = await storage.upload(ORG_A, files.multipart(data, filename))
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def stamped_rows(storage) -> list:
    async with storage.runtime.db.read() as session:
        return (await session.execute(select(tables.stamped_copies))).all()


async def test_a_receipt_stamps_the_letters_pdfs_for_the_receiving_unit_only(start, tmp_path):
    store = CountingStore(tmp_path / "objects")
    storage = await start(store=store)
    main = files.real_pdf(2)
    main_id = await upload(storage, main, "หนังสือเชิญประชุม.pdf")
    image_id = await upload(storage, files.png(), "แผนที่.png")
    annex_id = await upload(storage, files.real_pdf(1), "annex.pdf")
    sent, letter = letter_sent([main_id, image_id, annex_id], [ORG_B, ORG_C])
    await storage.bus.publish(sent)
    delivery_id = letter["deliveries"][ORG_B]

    await storage.bus.publish(received(letter, ORG_B, receive_no=42))
    assert await eventually(lambda: _count_at_least(storage, 2))

    rows = {row.attachment_id: row for row in await stamped_rows(storage)}
    assert set(rows) == {uuid.UUID(main_id), uuid.UUID(annex_id)}  # the image is not a PDF: no stamp
    assert {row.recipient_org_id for row in rows.values()} == {ORG_B}
    assert rows[uuid.UUID(main_id)].storage_key == f"stamped/{delivery_id}/{main_id}"

    download = await storage.client.get(f"/stamped/{delivery_id}", headers=storage.headers(ORG_B))
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].endswith(quote("หนังสือเชิญประชุม-ตรารับ.pdf", safe=""))
    assert int(download.headers["content-length"]) == rows[uuid.UUID(main_id)].size == len(download.content)
    stamped = PdfReader(io.BytesIO(download.content))
    assert len(stamped.pages) == 2  # the first attachment of the letter, with all its pages
    text = stamped.pages[0].extract_text()
    for expected in ("กรมบัญชีกลาง", "เลขรับ 42", "วันที่ 24 พฤศจิกายน 2569", "เวลา 10.15 น."):
        assert expected in text

    original = await storage.client.get(f"/objects/{main_id}/content", headers=storage.headers(ORG_B))
    assert original.content == main
    for outsider in (ORG_A, ORG_C):  # the sender and another recipient see no one else's receipt
        refused = await storage.client.get(f"/stamped/{delivery_id}", headers=storage.headers(outsider))
        assert refused.status_code == 404
        assert refused.headers["content-type"] == "application/problem+json"
    unknown = await storage.client.get(f"/stamped/{uuid.uuid4()}", headers=storage.headers(ORG_B))
    assert unknown.status_code == 404
    assert (await storage.client.get("/stamped/nope", headers=storage.headers(ORG_B))).status_code == 422


async def _count_at_least(storage, n: int) -> bool:
    return len(await stamped_rows(storage)) >= n


async def test_a_redelivered_receipt_renders_nothing_twice(start, tmp_path):
    store = CountingStore(tmp_path / "objects")
    storage = await start(store=store)
    attachment_id = await upload(storage, files.real_pdf(), "letter.pdf")
    sent, letter = letter_sent([attachment_id], [ORG_B])
    await storage.bus.publish(sent)
    receipt = received(letter, ORG_B)
    await storage.bus.publish(receipt)
    assert await eventually(lambda: _count_at_least(storage, 1))
    await storage.bus.queues[DELIVERY_RECEIVED_QUEUE].join()
    first = (await stamped_rows(storage))[0]

    await storage.bus.publish(receipt)  # the same message again
    again = DeliveryReceived.model_validate(receipt.data).envelope(
        source="sarabun/routing", subject=receipt.subject, actor="cgd", correlation_id=None
    )
    await storage.bus.publish(again)  # the same receipt under a new message id
    await storage.bus.queues[DELIVERY_RECEIVED_QUEUE].join()

    assert await stamped_rows(storage) == [first]
    assert [key for key in store.puts if key.startswith("stamped/")] == [first.storage_key]
    assert await storage.bus.dead_letter_count(DELIVERY_RECEIVED_QUEUE) == 0


async def test_a_receipt_before_its_letter_waits_and_is_retried(start):
    storage = await start()
    attachment_id = await upload(storage, files.real_pdf(), "letter.pdf")
    sent, letter = letter_sent([attachment_id], [ORG_B])

    await storage.bus.publish(received(letter, ORG_B))
    await storage.bus.queues[DELIVERY_RECEIVED_QUEUE].join()  # the first attempt ran, and failed
    assert await stamped_rows(storage) == []
    async with storage.runtime.db.read() as session:
        handled = (await session.execute(select(tables.inbox.c.consumer))).scalars().all()
    assert DELIVERY_RECEIVED_QUEUE not in handled  # not marked handled: it must come back

    await storage.bus.publish(sent)
    await storage.bus.queues[LETTER_SENT_QUEUE].join()

    assert await eventually(lambda: _count_at_least(storage, 1))
    assert await storage.bus.dead_letter_count(DELIVERY_RECEIVED_QUEUE) == 0


async def test_a_pdf_that_cannot_be_read_is_skipped_without_poisoning_the_queue(start):
    storage = await start()
    broken_id = await upload(storage, files.pdf(3000), "broken.pdf")  # PDF magic bytes, then noise
    sent, letter = letter_sent([broken_id], [ORG_B])
    await storage.bus.publish(sent)
    await storage.bus.queues[LETTER_SENT_QUEUE].join()

    await storage.bus.publish(received(letter, ORG_B))
    await storage.bus.queues[DELIVERY_RECEIVED_QUEUE].join()

    async with storage.runtime.db.read() as session:
        handled = (await session.execute(select(tables.inbox.c.consumer))).scalars().all()
    assert DELIVERY_RECEIVED_QUEUE in handled  # handled on the first attempt, not retried
    assert await stamped_rows(storage) == []
    assert await storage.bus.dead_letter_count(DELIVERY_RECEIVED_QUEUE) == 0
    delivery_id = letter["deliveries"][ORG_B]
    response = await storage.client.get(f"/stamped/{delivery_id}", headers=storage.headers(ORG_B))
    assert response.status_code == 404


async def test_a_letter_without_attachments_is_received_without_waiting(start):
    storage = await start()
    sent, letter = letter_sent([], [ORG_B])
    await storage.bus.publish(sent)
    await storage.bus.queues[LETTER_SENT_QUEUE].join()

    await storage.bus.publish(received(letter, ORG_B))
    await storage.bus.queues[DELIVERY_RECEIVED_QUEUE].join()

    async with storage.runtime.db.read() as session:
        handled = (await session.execute(select(tables.inbox.c.consumer))).scalars().all()
    assert DELIVERY_RECEIVED_QUEUE in handled
    assert await stamped_rows(storage) == []


async def test_the_same_file_in_a_second_letter_is_stamped_for_that_letters_receipt(start):
    # The read grant names only the first letter; the second letter's receipt must still find the file.
    storage = await start()
    attachment_id = await upload(storage, files.real_pdf(), "letter.pdf")
    first_sent, first = letter_sent([attachment_id], [ORG_B])
    second_sent, second = letter_sent([attachment_id], [ORG_B])
    await storage.bus.publish(first_sent)
    await storage.bus.publish(second_sent)

    await storage.bus.publish(received(second, ORG_B, receive_no=8))

    assert await eventually(lambda: _count_at_least(storage, 1))
    rows = await stamped_rows(storage)
    assert [row.delivery_id for row in rows] == [second["deliveries"][ORG_B]]
    assert first["deliveries"][ORG_B] not in {row.delivery_id for row in rows}
