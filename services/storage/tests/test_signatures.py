"""Rendering, signing and verification through the running service, as the gateway drives it: a preview that
stores nothing; a draft signed once into an attachment of its unit; and, when the letter is sent, its
signatures checked once, shown to its sender and recipients, and a failure flagged as an event."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from datetime import datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from services.storage import bootstrap
from services.storage.adapters import tables
from services.storage.consumers import DELIVERY_RECEIVED_QUEUE, LETTER_SENT_QUEUE
from services.storage.domain.layout import render_letter
from services.storage.domain.signing import sign_pdf, verify_pdf
from services.storage.tests import files
from services.storage.tests.signed import (
    appearance,
    demo_ca,
    flip_signed_byte,
    letter,
    other_ca,
    pdfsig_verdicts,
    signed_letter,
    valid_p12,
)
from services.storage.tests.test_receipt import letter_sent, received
from services.storage.tests.test_service import ORG_A, ORG_B, ORG_C, Storage
from shared.bus.memory import MemoryBus
from shared.contracts import SignatureInvalid
from shared.db import Database
from shared.objectstore.folder import FolderStore
from shared.settings import Settings

PRODUCTION = {"jwt_secret": "j" * 40, "service_secret": "s" * 40}
SIGNER = "cgd.deputy"


def render_request(doc_no: str | None = "กค 0402/123", doc_date: str | None = "2026-11-24", **fields) -> dict:
    """A RenderRequest as the gateway sends it: the draft's fields (with the letter fields that do not show on
    the page), the unit's name, and who signs."""
    return {
        "fields": {
            "type": "external",
            "subject": "ขอเชิญประชุมคณะทำงานพัฒนาระบบสารบรรณอิเล็กทรอนิกส์",
            "body": "ด้วยกรมบัญชีกลางกำหนดจัดประชุมคณะทำงาน\nจึงเรียนมาเพื่อโปรดพิจารณา",
            "to_text": "อธิบดีกรมสรรพากร",
            "references": [{"doc_no": "กค 0402/99", "doc_date": "2026-11-01", "subject": "การประชุมครั้งที่ 2"}],
            "enclosures": ["กำหนดการประชุม"],
            "owning_unit": "กองงบประมาณ",
            "contact": {"phone": "0 2127 7000", "email": "budget@cgd.go.th"},
            "urgency": "urgent",
            "recipient_org_ids": [str(ORG_B)],
            "attachment_ids": [],
            "reviewers": [{"username": "cgd.head"}],
            **fields,
        },
        "org_name": "กรมบัญชีกลาง",
        "doc_no": doc_no,
        "doc_date": doc_date,
        "signature": {
            "name": "นายสมศักดิ์ รักงาน",
            "position": "รองอธิบดีกรมบัญชีกลาง",
            "on_behalf_text": "ปฏิบัติราชการแทน อธิบดีกรมบัญชีกลาง",
        },
    }


async def sign(storage: Storage, draft_id: uuid.UUID, owner=ORG_A, request: dict | None = None, user=SIGNER):
    body = {"render": request or render_request(), "owner_org_id": str(owner)}
    return await storage.client.post(
        f"/drafts/{draft_id}/signed-pdf", json=body, headers=storage.headers(ORG_A, user=user)
    )


async def content(storage: Storage, attachment_id: str, org=ORG_A):
    return await storage.client.get(f"/objects/{attachment_id}/content", headers=storage.headers(org))


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_render_answers_the_layout_as_a_pdf_and_keeps_nothing(start, tmp_path):
    storage = await start()

    response = await storage.client.post(
        "/render", json=render_request(doc_no=None, doc_date=None, type="internal"), headers=storage.headers(ORG_A)
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = _text(response.content)
    assert "บันทึกข้อความ" in text and "ด่วน" in text and "ที่ ......" in text
    assert await storage.count(tables.attachments) == 0
    assert not [path for path in (tmp_path / "objects").rglob("*") if path.is_file()]


@pytest.mark.parametrize(
    "body",
    [
        {"fields": {"type": "memo"}},  # not a letter type
        {"fields": {}, "doc_date": "24/11/2569"},
        {"fields": {"subject": "ก" * 1001}},
        {"fields": {}, "signature": {"name": "x", "title": "y"}},
        {"org_name": "กรมบัญชีกลาง"},
    ],
)
async def test_bad_render_requests_are_422(start, body):
    storage = await start()
    response = await storage.client.post("/render", json=body, headers=storage.headers(ORG_A))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_render_needs_a_principal(start):
    storage = await start()
    assert (await storage.client.post("/render", json=render_request())).status_code == 401


async def test_a_draft_is_signed_once_into_an_attachment_of_its_unit(start):
    storage = await start()
    draft_id = uuid.uuid4()

    first = await sign(storage, draft_id)

    assert first.status_code == 200, first.text
    answer = first.json()
    assert set(answer) == {"attachment_id", "sha256", "size", "signer", "signer_name", "signed_at"}
    assert (answer["signer"], answer["signer_name"]) == (SIGNER, "นายสมศักดิ์ รักงาน")
    again = await sign(storage, draft_id)
    assert again.status_code == 200 and again.json() == answer  # signing again answers the same file
    assert await storage.count(tables.attachments) == 1
    assert await storage.count(tables.signed_drafts) == 1

    check = await storage.client.post(
        "/objects/check", json={"ids": [answer["attachment_id"]]}, headers=storage.headers(ORG_A)
    )
    assert check.status_code == 200  # the sender's unit owns it and may send it
    download = await content(storage, answer["attachment_id"])
    assert download.status_code == 200 and len(download.content) == answer["size"]
    pdf = download.content
    text = _text(pdf)
    assert "ที่ กค 0402/123" in text and "24 พฤศจิกายน 2569" in text  # the number and date written in
    assert "ปฏิบัติราชการแทน อธิบดีกรมบัญชีกลาง" in text
    roots = storage.runtime.app.state.signing.keys.trust_roots()
    [verdict] = await asyncio.to_thread(verify_pdf, pdf, roots)
    assert (verdict.signer, verdict.valid, verdict.trusted) == ("นายสมศักดิ์ รักงาน", True, True)
    assert pdfsig_verdicts(pdf) == {"signer": "Signature is Valid."}
    assert (await content(storage, answer["attachment_id"], org=ORG_B)).status_code == 404


async def test_signing_refuses_what_cannot_be_signed_and_keeps_nothing(start):
    storage = await start()
    draft_id = uuid.uuid4()
    assert (await sign(storage, draft_id)).status_code == 200

    other_unit = await sign(storage, draft_id, owner=ORG_C)
    assert other_unit.status_code == 409
    unnumbered = await sign(storage, uuid.uuid4(), request=render_request(doc_no=None))
    assert unnumbered.status_code == 422 and "เลขที่และวันที่" in unnumbered.json()["detail"]
    nameless = render_request()
    nameless["signature"]["name"] = ""
    assert (await sign(storage, uuid.uuid4(), request=nameless)).status_code == 422
    odd_user = await sign(storage, uuid.uuid4(), user="../../etc")
    assert odd_user.status_code == 422
    not_an_id = await storage.client.post(
        "/drafts/nope/signed-pdf",
        json={"render": render_request(), "owner_org_id": str(ORG_A)},
        headers=storage.headers(ORG_A),
    )
    assert not_an_id.status_code == 422
    assert await storage.count(tables.attachments) == 1


async def test_without_keys_outside_demo_mode_signing_is_422_in_thai_and_english(tmp_path):
    settings = Settings(**PRODUCTION, data_dir=tmp_path, outbox_poll_seconds=0.05)
    bus = MemoryBus()
    runtime = bootstrap.build(settings, bus, store=FolderStore(tmp_path / "objects"))
    await runtime.start()
    storage = Storage(runtime, bus, settings)
    try:
        response = await sign(storage, uuid.uuid4())
        assert response.status_code == 422
        detail = response.json()["detail"]
        assert detail.startswith("ยังไม่ได้ตั้งค่ากุญแจลงนาม") and "(signing keys are not configured" in detail
        assert await storage.count(tables.attachments) == 0
        assert not [path for path in (tmp_path / "objects").rglob("*") if path.is_file()]
    finally:
        await storage.client.aclose()
        await runtime.stop()
        await bus.close()


async def test_a_signers_own_pkcs12_signs_when_keys_are_configured(start, tmp_path):
    folder = tmp_path / "keys"
    folder.mkdir()
    (folder / f"{SIGNER}.p12").write_bytes(valid_p12(demo_ca(), "สมศักดิ์ รักงาน (กบญ.)", "pw"))
    storage = await start(signing_keys_dir=folder, signing_keys_password="pw")

    response = await sign(storage, uuid.uuid4())
    assert response.status_code == 200, response.text
    assert response.json()["signer_name"] == "สมศักดิ์ รักงาน (กบญ.)"
    assert (await sign(storage, uuid.uuid4(), user="cgd.dg")).status_code == 422  # no key of theirs, no agency key


# Verification when a letter is sent: on SQLite and on PostgreSQL.


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def storage(request, tmp_path):
    db = None
    if request.param == "postgresql":
        db = Database(request.getfixturevalue("postgres_url"), schema=f"storage_{uuid.uuid4().hex[:8]}")
    settings = Settings(demo=True, data_dir=tmp_path)
    bus = MemoryBus()
    runtime = bootstrap.build(settings, bus, db, store=FolderStore(tmp_path / "objects"))
    await runtime.start()
    started = Storage(runtime, bus, settings)
    yield started
    await started.client.aclose()
    await runtime.stop()
    await bus.close()


async def _upload(storage: Storage, data: bytes, name: str) -> str:
    response = await storage.upload(ORG_A, files.multipart(data, name))
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def _invalid_events(storage: Storage) -> list[dict]:
    async with storage.runtime.db.read() as session:
        query = select(tables.outbox.c.body).where(tables.outbox.c.type == SignatureInvalid.TYPE)
        return [json.loads(body) for body in (await session.execute(query)).scalars()]


async def signatures(storage: Storage, letter_id, org):
    return await storage.client.get(f"/letters/{letter_id}/signatures", headers=storage.headers(org))


async def test_a_sent_letters_signatures_are_checked_and_shown_to_sender_and_recipients(storage):
    signed = (await sign(storage, uuid.uuid4())).json()
    plain_id = await _upload(storage, files.real_pdf(1), "annex.pdf")  # a PDF without signatures: no finding
    image_id = await _upload(storage, files.png(), "map.png")
    sent, sent_letter = letter_sent([signed["attachment_id"], plain_id, image_id], [ORG_B])

    await storage.runtime.consumers[LETTER_SENT_QUEUE]([sent, sent])

    for org in (ORG_B, ORG_A):
        response = await signatures(storage, sent_letter["letter_id"], org)
        assert response.status_code == 200, response.text
        [found] = response.json()
        assert found == {
            "attachment_id": signed["attachment_id"],
            "field": "signer",
            "signer": "นายสมศักดิ์ รักงาน",
            "valid": True,
            "trusted": True,
            "signed_at": found["signed_at"],
            "problem": None,
        }
        assert abs(datetime.fromisoformat(found["signed_at"]) - datetime.fromisoformat(signed["signed_at"])).seconds < 5
    for outsider, letter_id in ((ORG_C, sent_letter["letter_id"]), (ORG_B, uuid.uuid4())):
        refused = await signatures(storage, letter_id, outsider)
        assert refused.status_code == 404 and refused.headers["content-type"] == "application/problem+json"
    assert await _invalid_events(storage) == []
    # The recipients may read it through the same grant as any attachment.
    assert (await content(storage, signed["attachment_id"], org=ORG_B)).status_code == 200


async def test_a_signature_that_fails_is_flagged_once_with_its_problem(storage):
    tampered_id = await _upload(storage, flip_signed_byte(await asyncio.to_thread(signed_letter)), "tampered.pdf")
    stranger = await asyncio.to_thread(sign_pdf, render_letter(letter()), other_ca().signer, appearance())
    stranger_id = await _upload(storage, stranger, "stranger.pdf")
    broken_id = await _upload(storage, b"%PDF-1.7\n/ByteRange [0 1 2 3]\n" + bytes(500) + b"\n%%EOF", "x.pdf")
    sent, sent_letter = letter_sent([tampered_id, stranger_id, broken_id], [ORG_B, ORG_C])
    consume = storage.runtime.consumers[LETTER_SENT_QUEUE]

    await consume([sent])
    await consume([sent])  # redelivered
    await consume([sent.model_copy(update={"id": uuid.uuid4()})])  # the same letter under another message id

    events = await _invalid_events(storage)
    problems = {event["data"]["attachment_id"]: event["data"]["problem"] for event in events}
    # The test's demo CA is not this service's: the stranger and the tampered file are both untrusted at best.
    assert problems == {tampered_id: "modified", stranger_id: "untrusted", broken_id: "broken"}
    assert len(events) == 3
    for event in events:
        assert event["data"]["letter_id"] == str(sent_letter["letter_id"])
        assert event["data"]["sender_org_id"] == str(ORG_A)
        assert event["causation_id"] == str(sent.id) and event["actor"] == "system"
    shown = (await signatures(storage, sent_letter["letter_id"], ORG_C)).json()
    assert [(s["attachment_id"], s["valid"], s["trusted"], s["problem"]) for s in shown] == [
        (tampered_id, False, False, "modified"),
        (stranger_id, True, False, "untrusted"),
        (broken_id, False, False, "broken"),
    ]
    # Whatever its PDFs hold, the letter reached its recipients: they may read every file.
    for attachment_id in (tampered_id, stranger_id, broken_id):
        assert (await content(storage, attachment_id, org=ORG_C)).status_code == 200


async def test_the_stamped_copy_of_a_signed_letter_keeps_its_signature_valid(start):
    storage = await start()
    original = await asyncio.to_thread(signed_letter)
    attachment_id = await _upload(storage, original, "signed.pdf")
    sent, sent_letter = letter_sent([attachment_id], [ORG_B])
    await storage.bus.publish(sent)
    await storage.bus.queues[LETTER_SENT_QUEUE].join()

    await storage.bus.publish(received(sent_letter, ORG_B, receive_no=77))
    await storage.bus.queues[DELIVERY_RECEIVED_QUEUE].join()

    delivery_id = sent_letter["deliveries"][ORG_B]
    copy = await storage.client.get(f"/stamped/{delivery_id}", headers=storage.headers(ORG_B))
    assert copy.status_code == 200, copy.text
    assert copy.content.startswith(original) and len(copy.content) > len(original)
    [verdict] = await asyncio.to_thread(verify_pdf, copy.content, [demo_ca().certificate])
    assert (verdict.valid, verdict.trusted, verdict.problem) == (True, True, None)
    assert pdfsig_verdicts(copy.content) == {"signer": "Signature is Valid."}
