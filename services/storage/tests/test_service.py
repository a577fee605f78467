"""The storage service built as the launcher builds it (bootstrap, migrations, memory bus, folder store) and
driven over HTTP with principal tokens, as the gateway drives it."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select

from services.storage import bootstrap
from services.storage.adapters import tables
from services.storage.tests import files
from shared.bus.memory import MemoryBus
from shared.contracts import DeliveryRef, Envelope, LetterSent
from shared.objectstore.folder import FolderStore
from shared.principal import HEADER, Principal, internal_token
from shared.settings import Settings

ORG_A = uuid.uuid5(uuid.NAMESPACE_URL, "org:a")
ORG_B = uuid.uuid5(uuid.NAMESPACE_URL, "org:b")
ORG_C = uuid.uuid5(uuid.NAMESPACE_URL, "org:c")
ORG_D = uuid.uuid5(uuid.NAMESPACE_URL, "org:d")


class Storage:
    """One running storage service and a way to call it as any unit."""

    def __init__(self, runtime, bus: MemoryBus, settings: Settings):
        self.runtime, self.bus, self.settings = runtime, bus, settings
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=runtime.app), base_url="http://storage")

    def headers(self, org_id: uuid.UUID, user: str = "clerk", clearance: str = "normal") -> dict[str, str]:
        principal = Principal(user=user, org_id=org_id, org_code="กค 0200", roles=("clerk",), clearance=clearance)
        return {HEADER: internal_token(principal, self.settings.service_secret)}

    async def upload(self, org_id: uuid.UUID, body: bytes | AsyncIterator[bytes]) -> httpx.Response:
        headers = {**self.headers(org_id), "Content-Type": files.CONTENT_TYPE}
        return await self.client.post("/objects", content=body, headers=headers)

    async def count(self, table) -> int:
        async with self.runtime.db.read() as session:
            return (await session.execute(select(func.count()).select_from(table))).scalar_one()


@pytest.fixture
async def start(tmp_path):
    started: list[Storage] = []

    async def _start(store=None, **overrides) -> Storage:
        settings = Settings(demo=True, data_dir=tmp_path, outbox_poll_seconds=0.05, **overrides)
        bus = MemoryBus(retry_seconds=0.05)
        runtime = bootstrap.build(settings, bus, store=store)
        await runtime.start()
        storage = Storage(runtime, bus, settings)
        started.append(storage)
        return storage

    yield _start
    for storage in started:
        await storage.client.aclose()
        await storage.runtime.stop()
        await storage.bus.close()


async def eventually(check, seconds: float = 3.0):
    """Polls an async check until it returns something truthy; the bus and relay work asynchronously."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.02)


async def test_upload_then_download_returns_the_same_bytes_under_a_safe_name(start, tmp_path):
    storage = await start()
    data = files.pdf(600 * 1024)  # several store chunks
    body = files.multipart(data, "../../etc/หนังสือเชิญประชุม\u202e.pdf", declared_type="text/html")

    created = await storage.upload(ORG_A, body)

    assert created.status_code == 201, created.text
    attachment = created.json()
    assert attachment["filename"] == "หนังสือเชิญประชุม.pdf"
    assert attachment["content_type"] == "application/pdf"  # detected; the declared text/html is ignored
    assert attachment["size"] == len(data)
    assert attachment["sha256"] == hashlib.sha256(data).hexdigest()
    # The bytes are kept under the attachment id, never under anything the client named.
    assert (tmp_path / "objects" / "attachments" / attachment["id"]).read_bytes() == data
    assert not list((tmp_path / "objects").rglob("*.pdf"))

    meta = await storage.client.get(f"/objects/{attachment['id']}", headers=storage.headers(ORG_A))
    assert meta.status_code == 200
    assert meta.json() == attachment

    download = await storage.client.get(f"/objects/{attachment['id']}/content", headers=storage.headers(ORG_A))
    assert download.status_code == 200
    assert download.content == data
    assert hashlib.sha256(download.content).hexdigest() == attachment["sha256"]
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-length"] == str(len(data))
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"attachment.pdf\"; filename*=UTF-8''" + quote("หนังสือเชิญประชุม.pdf", safe="")
    )
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["etag"] == f'"{attachment["sha256"]}"'


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (files.docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (files.xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (files.odt(), "application/vnd.oasis.opendocument.text"),
        (files.png(), "image/png"),
    ],
)
async def test_office_documents_and_images_are_accepted_with_their_detected_type(start, data, content_type):
    storage = await start()
    created = await storage.upload(ORG_A, files.multipart(data, "file.bin", declared_type="application/octet-stream"))
    assert created.status_code == 201, created.text
    assert created.json()["content_type"] == content_type


async def test_upload_over_the_limit_is_413_and_the_rest_is_never_read(start, tmp_path):
    storage = await start(max_upload_bytes=4096)
    body = files.multipart(files.pdf(1024 * 1024))
    chunk = 1024
    sent = 0

    async def slowly():
        nonlocal sent
        for offset in range(0, len(body), chunk):
            sent += 1
            yield body[offset : offset + chunk]

    response = await storage.upload(ORG_A, slowly())

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "4,096" in response.json()["detail"]
    assert sent < 10  # stopped a few KiB in, not after a MiB
    assert await storage.count(tables.attachments) == 0
    assert not list((tmp_path / "objects").rglob("*"))


async def test_a_file_of_exactly_the_limit_is_accepted(start):
    storage = await start(max_upload_bytes=4096)
    created = await storage.upload(ORG_A, files.multipart(files.pdf(4096)))
    assert created.status_code == 201, created.text
    assert created.json()["size"] == 4096


@pytest.mark.parametrize(
    "data",
    [
        b"<html><body><script>alert(1)</script></body></html>",
        b"MZ\x90\x00" + bytes(200),  # a Windows program declared as a PDF
        files.zipped({"payload.exe": b"MZ" + bytes(50)}),  # an archive, not an office document
        b"PK\x03\x04" + bytes(100),  # a broken ZIP
    ],
)
async def test_refused_type_is_415_and_nothing_is_kept(start, tmp_path, data):
    storage = await start()
    response = await storage.upload(ORG_A, files.multipart(data, "report.pdf", declared_type="application/pdf"))
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 415
    assert await storage.count(tables.attachments) == 0
    assert await storage.count(tables.outbox) == 0
    assert not list((tmp_path / "objects").rglob("*"))


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (files.multipart(b"", "empty.pdf"), files.CONTENT_TYPE, 422),
        (files.multipart(files.pdf(), field="attachment"), files.CONTENT_TYPE, 422),
        (files.multipart(files.pdf())[:-30], files.CONTENT_TYPE, 422),
        (b"not a form", files.CONTENT_TYPE, 422),
        (b'{"file": "x"}', "application/json", 415),
    ],
)
async def test_bad_upload_requests_get_a_problem_not_a_crash(start, body, content_type, status):
    storage = await start()
    headers = {**storage.headers(ORG_A), "Content-Type": content_type}
    response = await storage.client.post("/objects", content=body, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert await storage.count(tables.attachments) == 0


async def test_calls_without_a_gateway_token_are_refused(start):
    storage = await start()
    response = await storage.client.post(
        "/objects", content=files.multipart(files.pdf()), headers={"Content-Type": files.CONTENT_TYPE}
    )
    assert response.status_code == 401
    assert await storage.count(tables.attachments) == 0


async def test_another_unit_gets_404_for_metadata_and_content(start):
    storage = await start()
    attachment_id = (await storage.upload(ORG_A, files.multipart(files.pdf()))).json()["id"]

    for path in (f"/objects/{attachment_id}", f"/objects/{attachment_id}/content"):
        response = await storage.client.get(path, headers=storage.headers(ORG_B))
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
        assert "(not found)" in response.json()["detail"]
    unknown = await storage.client.get(f"/objects/{uuid.uuid4()}", headers=storage.headers(ORG_A))
    assert unknown.status_code == 404
    assert (await storage.client.get("/objects/not-a-uuid", headers=storage.headers(ORG_A))).status_code == 422


def _letter_sent(sender: uuid.UUID, attachment_ids: list[str], recipients: list[uuid.UUID]) -> Envelope:
    event = LetterSent(
        letter_id=uuid.uuid4(),
        doc_no="กค 0200/15",
        sender_org_id=sender,
        letter_type="external",
        subject="ขอเชิญประชุม",
        urgency="normal",
        secrecy="normal",
        circular=False,
        sent_at=datetime.now(UTC),
        attachment_ids=attachment_ids,
        deliveries=[DeliveryRef(delivery_id=uuid.uuid4(), recipient_org_id=org) for org in recipients],
    )
    return event.envelope(source="sarabun/intake", subject=str(event.letter_id), actor="clerk", correlation_id=None)


async def test_recipients_of_a_sent_letter_may_read_its_attachments_once_the_event_arrives(start):
    storage = await start()
    data = files.pdf(2048)
    attachment_id = (await storage.upload(ORG_A, files.multipart(data))).json()["id"]
    path = f"/objects/{attachment_id}/content"
    assert (await storage.client.get(path, headers=storage.headers(ORG_B))).status_code == 404

    envelope = _letter_sent(ORG_A, [attachment_id], [ORG_B, ORG_C])
    await storage.bus.publish(envelope)
    await storage.bus.publish(envelope)  # redelivered: must change nothing

    async def readable_by_b():
        return (await storage.client.get(path, headers=storage.headers(ORG_B))).status_code == 200

    assert await eventually(readable_by_b)
    download = await storage.client.get(path, headers=storage.headers(ORG_C))
    assert download.status_code == 200
    assert download.content == data
    assert (await storage.client.get(path, headers=storage.headers(ORG_D))).status_code == 404
    await storage.bus.queues["storage.letter-sent"].join()
    assert await storage.count(tables.grants) == 2
    assert await storage.count(tables.inbox) == 1


async def test_a_letter_cannot_grant_another_units_attachment(start):
    storage = await start()
    attachment_id = (await storage.upload(ORG_A, files.multipart(files.pdf()))).json()["id"]

    await storage.bus.publish(_letter_sent(ORG_C, [attachment_id], [ORG_D]))
    await storage.bus.queues["storage.letter-sent"].join()

    assert await storage.count(tables.inbox) == 1  # handled, not failed and retried
    assert await storage.count(tables.grants) == 0
    response = await storage.client.get(f"/objects/{attachment_id}/content", headers=storage.headers(ORG_D))
    assert response.status_code == 404


async def test_attachment_stored_is_published_through_the_outbox(start):
    storage = await start()
    attachment = (await storage.upload(ORG_A, files.multipart(files.pdf(3000)))).json()

    async def relayed():
        async with storage.runtime.db.read() as session:
            row = (await session.execute(select(tables.outbox.c.sent_at, tables.outbox.c.type))).first()
        return row if row is not None and row.sent_at is not None else None

    row = await eventually(relayed)
    assert row is not None, "the outbox row was never marked sent"
    assert row.type == "attachment.stored.v1"
    published = Envelope.decode(storage.bus.queues["audit.events"].get_nowait()[0])
    assert published.type == "attachment.stored.v1"
    assert published.data["attachment_id"] == attachment["id"]
    assert published.data["org_id"] == str(ORG_A)
    assert published.data["sha256"] == attachment["sha256"]
    assert published.data["size"] == 3000
    assert published.data["content_type"] == "application/pdf"


async def test_check_accepts_only_the_callers_own_attachments(start):
    storage = await start()
    own = (await storage.upload(ORG_A, files.multipart(files.pdf()))).json()["id"]
    other = (await storage.upload(ORG_B, files.multipart(files.pdf()))).json()["id"]
    missing = str(uuid.uuid4())

    ok = await storage.client.post("/objects/check", json={"ids": [own, own]}, headers=storage.headers(ORG_A))
    assert ok.status_code == 200
    assert ok.json() == {"ok": True}

    refused = await storage.client.post(
        "/objects/check", json={"ids": [own, other, missing]}, headers=storage.headers(ORG_A)
    )
    assert refused.status_code == 422
    problem = refused.json()
    assert other in problem["detail"] and missing in problem["detail"] and own not in problem["detail"]
    assert sorted(e["message"].rsplit(" ", 1)[1] for e in problem["errors"]) == sorted([other, missing])

    bad = await storage.client.post("/objects/check", json={"ids": ["nope"]}, headers=storage.headers(ORG_A))
    assert bad.status_code == 422


class UnavailableStore(FolderStore):
    """A folder store whose writes fail, as a MinIO that is down would."""

    async def put(self, key, data, size, content_type):
        raise ConnectionError("object store is down")


async def test_a_failing_store_answers_503_and_keeps_no_row(start, tmp_path):
    storage = await start(store=UnavailableStore(tmp_path / "objects"))
    response = await storage.upload(ORG_A, files.multipart(files.pdf()))
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert await storage.count(tables.attachments) == 0
    assert await storage.count(tables.outbox) == 0


async def test_a_missing_object_answers_503_before_the_download_starts(start, tmp_path):
    storage = await start()
    attachment_id = (await storage.upload(ORG_A, files.multipart(files.pdf()))).json()["id"]
    (tmp_path / "objects" / "attachments" / attachment_id).unlink()
    response = await storage.client.get(f"/objects/{attachment_id}/content", headers=storage.headers(ORG_A))
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"


async def test_readiness_checks_database_bus_and_store(start, tmp_path):
    storage = await start()
    ready = await storage.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "bus": True, "store": True}

    (tmp_path / "objects").rename(tmp_path / "objects-gone")
    not_ready = await storage.client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["store"] is False
