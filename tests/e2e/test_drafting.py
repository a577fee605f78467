"""From draft to signed letter through the public API: an officer of กองบริหารการเบิกจ่ายเงินงบประมาณ drafts a
letter to กรมสรรพากร, the section head endorses it, the division director returns it once with a reason, it is
edited and proposed again and endorsed by both, the deputy director-general signs it under a delegation from
the director-general (ปฏิบัติราชการแทน), the department's registry dispatches it, and กรมสรรพากร finds its
signature valid and trusted, registers it, and the stamped copy still carries a valid signature. The signed PDF
verifies with pyHanko and with poppler's pdfsig, and one flipped byte makes both say it is not.

Then the bad requests of the drafting line: each a clear 4xx that changes nothing."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx
import pytest
from pypdf import PdfReader

from services.launcher import embedded
from shared import thai
from shared.inprocess import StreamingASGITransport
from shared.settings import Settings
from tests.e2e.helpers import PASSWORD, eventually, inbox_item, login, org_ids
from tests.e2e.signed_pdfs import flip_one_byte, pdfsig_available, pdfsig_check, pyhanko_check

LINE = ("cgd.officer", "cgd.head", "cgd.director", "cgd.dg", "cgd.deputy", "cgd.clerk", "rd.clerk")


async def people(api: httpx.AsyncClient) -> dict[str, dict]:
    return {name: await login(api, name) for name in LINE}


def a_draft(orgs: dict[str, str], **changes) -> dict:
    return {
        "type": "external",
        "subject": "ขอความร่วมมือจัดส่งข้อมูลการเบิกจ่ายเงินงบประมาณ",
        "body": "ด้วยกรมบัญชีกลางมีความประสงค์จะรวบรวมข้อมูลการเบิกจ่ายเงินงบประมาณประจำปี จึงขอความร่วมมือจัดส่งข้อมูล",
        "recipient_org_ids": [orgs["rd"]],
        "salutation": "อธิบดีกรมสรรพากร",
        "closing": "ขอแสดงความนับถือ",
        "owning_unit": "กองบริหารการเบิกจ่ายเงินงบประมาณ",
        "reviewers": ["cgd.head", "cgd.director"],
        "signer": "cgd.dg",
    } | changes


def delegation(**changes) -> dict:
    today = thai.today()
    return {
        "from_username": "cgd.dg",
        "to_username": "cgd.deputy",
        "org_key": "cgd",
        "kind": "delegated",
        "valid_from": today.isoformat(),
        "valid_to": (today + timedelta(days=30)).isoformat(),
    } | changes


async def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


async def step(api, who: dict, draft_id: str, action: str, **body) -> dict:
    return await ok(await api.post(f"/api/v1/drafts/{draft_id}/{action}", headers=who, json=body or None))


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def up_to_signature(api, h: dict, orgs: dict) -> dict:
    """The line walked up to the signer: endorsed, returned once by the director, edited (version 2), proposed
    again and endorsed by both reviewers."""
    draft = await ok(await api.post("/api/v1/drafts", headers=h["cgd.officer"], json=a_draft(orgs)), 201)
    assert (draft["status"], draft["version"]) == ("draft", 1)
    draft_id = draft["id"]
    proposed = await step(api, h["cgd.officer"], draft_id, "propose")
    assert (proposed["status"], proposed["current"]) == ("in_review", "cgd.head")
    to_review = await ok(await api.get("/api/v1/drafts?box=to_review", headers=h["cgd.head"]))
    assert [item["id"] for item in to_review["items"]] == [draft_id]
    endorsed = await step(api, h["cgd.head"], draft_id, "endorse")
    assert endorsed["current"] == "cgd.director"
    returned = await step(api, h["cgd.director"], draft_id, "return", reason="โปรดระบุกำหนดส่งข้อมูลให้ชัดเจน")
    assert (returned["status"], returned["current"]) == ("returned", "cgd.officer")

    body = a_draft(orgs)["body"] + " ภายในวันที่ 30 กันยายน"
    edit = await api.put(f"/api/v1/drafts/{draft_id}", headers=h["cgd.officer"], json=a_draft(orgs, body=body))
    edited = await ok(edit)
    assert edited["version"] == 2 and edited["fields"]["body"] == body
    again = await step(api, h["cgd.officer"], draft_id, "propose")
    assert again["current"] == "cgd.head"  # the line starts again from the first reviewer
    await step(api, h["cgd.head"], draft_id, "endorse")
    awaiting = await step(api, h["cgd.director"], draft_id, "endorse")
    assert (awaiting["status"], awaiting["current"]) == ("awaiting_signature", "cgd.dg")
    return awaiting


async def test_a_draft_goes_up_the_line_is_signed_by_a_delegate_dispatched_and_verified(api):
    h = await people(api)
    orgs = await org_ids(api, h["cgd.clerk"])
    await ok(await api.post("/api/v1/delegations", headers=h["cgd.dg"], json=delegation()), 201)
    draft_id = (await up_to_signature(api, h, orgs))["id"]

    # ที่รอลงนาม: the director-general's, and his deputy's through the delegation; the deputy reads what he is
    # to sign, in the official layout, before he signs it.
    for signer in ("cgd.dg", "cgd.deputy"):
        box = await ok(await api.get("/api/v1/drafts?box=to_sign", headers=h[signer]))
        assert draft_id in [item["id"] for item in box["items"]], signer
    assert (await ok(await api.get(f"/api/v1/drafts/{draft_id}", headers=h["cgd.deputy"])))["version"] == 2
    before = await api.get(f"/api/v1/drafts/{draft_id}/pdf", headers=h["cgd.deputy"])
    assert before.status_code == 200 and "ภายในวันที่" in text_of(before.content)
    assert (await api.get(f"/api/v1/drafts/{draft_id}/versions/1", headers=h["cgd.deputy"])).status_code == 200

    signed = await step(api, h["cgd.deputy"], draft_id, "sign")
    assert signed["status"] == "signed"
    assert (signed["signed_by"], signed["on_behalf_of"], signed["delegation_kind"]) == (
        "cgd.deputy",
        "cgd.dg",
        "delegated",
    )
    doc_no, doc_date = signed["doc_no"], signed["doc_date"]
    assert doc_no and doc_no.startswith("กค 04")
    assert doc_date == thai.today().isoformat()
    assert signed["doc_date_th"] == thai.date_th(thai.today())

    seen = await ok(await api.get(f"/api/v1/drafts/{draft_id}", headers=h["cgd.officer"]))
    assert [event["type"] for event in seen["history"]] == [
        "created",
        "proposed",
        "endorsed",
        "returned",
        "edited",
        "proposed",
        "endorsed",
        "endorsed",
        "signed",
    ]
    returned = next(event for event in seen["history"] if event["type"] == "returned")
    assert (returned["actor"], returned["version"]) == ("cgd.director", 1)
    assert returned["reason"] == "โปรดระบุกำหนดส่งข้อมูลให้ชัดเจน"
    assert [v["version"] for v in seen["versions"]] == [1, 2]

    # The signed PDF carries the number, the date and the delegation; it verifies with both validators.
    response = await api.get(f"/api/v1/drafts/{draft_id}/pdf", headers=h["cgd.officer"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.content
    text = text_of(pdf)
    assert doc_no in text
    assert thai.date_th(thai.today()) in text
    assert "ปฏิบัติราชการแทน" in text and "อธิบดีกรมบัญชีกลาง" in text
    assert "รองอธิบดีกรมบัญชีกลาง" in text
    assert [check.ok for check in await pyhanko_check(pdf)] == [True]
    spoiled = flip_one_byte(pdf)
    assert [check.ok for check in await pyhanko_check(spoiled)] == [False]
    assert pdfsig_available(), "poppler's pdfsig is needed to verify the signed PDF independently"
    assert await pdfsig_check(pdf) == [True]
    assert await pdfsig_check(spoiled) == [False]
    # Those who signed it and the registry that dispatches it read the same signed PDF.
    for reader in ("cgd.deputy", "cgd.dg", "cgd.clerk"):
        seen_by = await api.get(f"/api/v1/drafts/{draft_id}/pdf", headers=h[reader])
        assert (seen_by.status_code, seen_by.content) == (200, pdf), reader

    # An earlier version is still there, as it was, without the number.
    first = await api.get(f"/api/v1/drafts/{draft_id}/pdf?version=1", headers=h["cgd.officer"])
    assert first.status_code == 200, first.text
    assert "ภายในวันที่" not in text_of(first.content)
    assert doc_no not in text_of(first.content)

    # The registry sends it: from here on it is a sent letter like any other.
    to_dispatch = await ok(await api.get("/api/v1/drafts?box=to_dispatch", headers=h["cgd.clerk"]))
    assert draft_id in [item["id"] for item in to_dispatch["items"]]
    sent = await step(api, h["cgd.clerk"], draft_id, "dispatch")
    assert (sent["doc_no"], sent["status"]) == (doc_no, "sent")
    assert [d["status"] for d in sent["deliveries"]] == ["pending"]
    assert [d["recipient_org_id"] for d in sent["deliveries"]] == [orgs["rd"]]
    letter_id = sent["id"]
    item = await eventually(lambda: inbox_item(api, h["rd.clerk"], letter_id))
    assert item["doc_no"] == doc_no

    async def verified():
        found = await ok(await api.get(f"/api/v1/letters/{letter_id}/signatures", headers=h["rd.clerk"]))
        return found or None

    [signature] = await eventually(verified)
    assert (signature["valid"], signature["trusted"]) == (True, True)
    assert signature["signer"] and signature["signed_at"]

    received = await ok(await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=h["rd.clerk"]))
    assert received["receive_no"]

    async def stamped():
        response = await api.get(f"/api/v1/deliveries/{item['delivery_id']}/stamped", headers=h["rd.clerk"])
        return response.content if response.status_code == 200 else None

    # The receipt stamp (ตรารับ) is added after the signed bytes, which stay as they were, so the signature
    # still verifies.
    copy = await eventually(stamped)
    assert copy.startswith(pdf) and len(copy) > len(pdf)
    fields = [annotation.get_object().get("/T") for annotation in PdfReader(io.BytesIO(copy)).pages[0]["/Annots"]]
    assert "receipt" in fields
    assert [check.ok for check in await pyhanko_check(copy)] == [True]


async def test_bad_requests_on_the_line_are_refused_and_change_nothing(api):
    h = await people(api)
    orgs = await org_ids(api, h["cgd.clerk"])

    async def unchanged(draft_id: str, before: dict) -> None:
        now = await ok(await api.get(f"/api/v1/drafts/{draft_id}", headers=h["cgd.officer"]))
        keys = ("status", "version", "current", "doc_no", "signed_by", "history")
        assert {k: now[k] for k in keys} == {k: before[k] for k in keys}

    async def refused(response: httpx.Response, status: int, *words: str) -> dict:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        for word in words:
            assert word in response.json()["detail"]
        return response.json()

    # Drafts that cannot be made: classified above the author's clearance (ลับ is his), a signer who is not an
    # executive, a reviewer who does not exist.
    mine = await ok(await api.get("/api/v1/drafts?box=mine", headers=h["cgd.officer"]))
    for body, field in (
        (a_draft(orgs, secrecy="secret"), None),
        (a_draft(orgs, signer="cgd.officer"), "signer"),
        (a_draft(orgs, signer="cgd.clerk"), "signer"),
        (a_draft(orgs, reviewers=["cgd.head", "nobody.here"]), "reviewers.1"),
    ):
        problem = await refused(await api.post("/api/v1/drafts", headers=h["cgd.officer"], json=body), 422)
        if field:
            assert field in [error["field"] for error in problem["errors"]]
    assert await ok(await api.get("/api/v1/drafts?box=mine", headers=h["cgd.officer"])) == mine

    draft = await ok(await api.post("/api/v1/drafts", headers=h["cgd.officer"], json=a_draft(orgs)), 201)
    draft_id = draft["id"]
    proposed = await step(api, h["cgd.officer"], draft_id, "propose")

    # A reviewer out of turn: the director before the head has endorsed.
    await refused(await api.post(f"/api/v1/drafts/{draft_id}/endorse", headers=h["cgd.director"]), 409, "in_review")
    await unchanged(draft_id, proposed)
    await step(api, h["cgd.head"], draft_id, "endorse")
    awaiting = await step(api, h["cgd.director"], draft_id, "endorse")

    # Signing without authority: an executive who is neither the signer nor his delegate.
    sign = f"/api/v1/drafts/{draft_id}/sign"
    await refused(await api.post(sign, headers=h["cgd.head"]), 403, "ไม่มีอำนาจลงนาม")
    # Outside the delegation's dates: one that starts tomorrow gives nothing today; a revoked one neither. (The
    # director sees the draft anyway, as a reviewer of his unit: the answer is about his authority.)
    tomorrow = thai.today() + timedelta(days=1)
    later = delegation(
        to_username="cgd.director", valid_from=tomorrow.isoformat(), valid_to=(tomorrow + timedelta(days=7)).isoformat()
    )
    await ok(await api.post("/api/v1/delegations", headers=h["cgd.dg"], json=later), 201)
    await refused(await api.post(sign, headers=h["cgd.director"]), 403, "ไม่มีอำนาจลงนาม")
    revoked = await ok(
        await api.post("/api/v1/delegations", headers=h["cgd.dg"], json=delegation(to_username="cgd.director")), 201
    )
    await ok(await api.post(f"/api/v1/delegations/{revoked['id']}/revoke", headers=h["cgd.dg"]))
    await refused(await api.post(sign, headers=h["cgd.director"]), 403, "ไม่มีอำนาจลงนาม")
    # The deputy, holding no delegation in force, has no part in the draft at all.
    await refused(await api.post(sign, headers=h["cgd.deputy"]), 404)
    # A delegation for a unit other than the signer's is refused when it is recorded.
    other_unit = delegation(org_key="cgd.budget")
    await refused(await api.post("/api/v1/delegations", headers=await login(api, "admin"), json=other_unit), 422)
    await unchanged(draft_id, awaiting)

    # The signer signs; a second signature, by him or by anyone, and editing afterwards are refused.
    signed = await step(api, h["cgd.dg"], draft_id, "sign")
    assert signed["status"] == "signed" and signed["signed_by"] == "cgd.dg" and signed["on_behalf_of"] is None
    await refused(await api.post(sign, headers=h["cgd.dg"]), 409, "signed")
    edit = await api.put(f"/api/v1/drafts/{draft_id}", headers=h["cgd.officer"], json=a_draft(orgs, subject="แก้"))
    await refused(edit, 409, "signed")
    await refused(await api.post(f"/api/v1/drafts/{draft_id}/return", headers=h["cgd.dg"], json={"reason": "x"}), 409)
    await unchanged(draft_id, signed)

    # Outside the unit and off the line, the draft does not exist.
    for outsider in ("rd.clerk",):
        await refused(await api.get(f"/api/v1/drafts/{draft_id}", headers=h[outsider]), 404)
        await refused(await api.get(f"/api/v1/drafts/{draft_id}/pdf", headers=h[outsider]), 404)


class LosesOneAnswer(httpx.AsyncBaseTransport):
    """Storage as the gateway reaches it, except that the answer to the first signing request is lost on the
    way back (storage did sign and store the PDF): the gateway sees the connection fail."""

    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner = inner
        self.lost = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/signed-pdf") and not self.lost:
            self.lost = True
            await response.aclose()
            raise httpx.ReadError("connection reset", request=request)
        return response


@pytest.fixture
async def flaky_storage(tmp_path):
    """The embedded deployment, with the gateway's way to storage replaced by LosesOneAnswer."""
    deployment = embedded(Settings(demo=True, data_dir=tmp_path, consumer_retry_seconds=0.05))
    await deployment.start()
    services = deployment.app.state.services
    original = services.clients["storage"]
    transport = LosesOneAnswer(StreamingASGITransport(deployment.services["storage"].app))
    services.clients["storage"] = httpx.AsyncClient(transport=transport, base_url="http://storage")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=deployment.app), base_url="http://sarabun"
    ) as client:
        yield client, transport
    await services.clients["storage"].aclose()
    services.clients["storage"] = original
    await deployment.stop()


async def test_signing_interrupted_midway_stays_signing_and_signing_again_completes_it(flaky_storage):
    api, storage = flaky_storage
    h = await people(api)
    orgs = await org_ids(api, h["cgd.clerk"])
    draft_id = (await up_to_signature(api, h, orgs))["id"]

    failed = await api.post(f"/api/v1/drafts/{draft_id}/sign", headers=h["cgd.dg"])
    assert storage.lost
    assert failed.status_code == 503, failed.text
    midway = await ok(await api.get(f"/api/v1/drafts/{draft_id}", headers=h["cgd.officer"]))
    assert midway["status"] == "signing" and midway["doc_no"]  # the number is taken and kept
    assert midway["letter_id"] is None

    # Nobody else can step in meanwhile; the signer signing again completes it with the same number.
    assert (await api.post(f"/api/v1/drafts/{draft_id}/sign", headers=h["cgd.head"])).status_code == 403
    signed = await step(api, h["cgd.dg"], draft_id, "sign")
    assert (signed["status"], signed["doc_no"]) == ("signed", midway["doc_no"])
    assert signed["letter_id"] and signed["signed_pdf_id"]
    pdf = (await api.get(f"/api/v1/drafts/{draft_id}/pdf", headers=h["cgd.officer"])).content
    assert [check.ok for check in await pyhanko_check(pdf)] == [True]
    sent = await step(api, h["cgd.clerk"], draft_id, "dispatch")
    assert sent["doc_no"] == midway["doc_no"]


async def test_the_live_preview_lays_out_what_is_typed_with_the_signers_name(api):
    officer = await login(api, "cgd.officer")
    typed = {"type": "external", "subject": "ทดลองดูตัวอย่าง", "body": "ข้อความที่กำลังพิมพ์", "signer": "cgd.dg",
             "reviewers": ["cgd.head"], "recipient_org_ids": []}  # fmt: skip
    response = await api.post("/api/v1/drafts/preview", headers=officer, json=typed)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = text_of(response.content)
    for part in ("ทดลองดูตัวอย่าง", "ข้อความที่กำลังพิมพ์", "นายประเสริฐ การคลัง", "อธิบดีกรมบัญชีกลาง"):
        assert part in text
    assert (await api.get("/api/v1/drafts?box=mine", headers=officer)).json()["items"] == []  # nothing stored


async def test_a_signed_letter_cancelled_before_dispatch_keeps_its_number_and_is_never_sent(api):
    h = await people(api)
    orgs = await org_ids(api, h["cgd.clerk"])
    draft_id = (await up_to_signature(api, h, orgs))["id"]
    signed = await step(api, h["cgd.dg"], draft_id, "sign")
    letter_id = signed["letter_id"]
    # The division's own clerk cancels it: the letter is the division's, numbered in its send register.
    clerk = {
        "username": "budget.clerk",
        "display_name": "นางสาวสมใจ ทะเบียนดี",
        "org_key": "cgd.budget",
        "roles": ["clerk"],
        "clearance": "normal",
        "password": PASSWORD,
    }
    await ok(await api.post("/api/v1/admin/users", headers=await login(api, "admin"), json=clerk), 201)
    reason = {"reason": "ข้อมูลในหนังสือเปลี่ยนแปลง"}
    budget_clerk = await login(api, "budget.clerk")
    cancel = await api.post(f"/api/v1/letters/{letter_id}/cancel", headers=budget_clerk, json=reason)
    cancelled = await ok(cancel)
    assert (cancelled["status"], cancelled["doc_no"]) == ("cancelled", signed["doc_no"])
    dispatch = await api.post(f"/api/v1/drafts/{draft_id}/dispatch", headers=h["cgd.clerk"])
    assert dispatch.status_code == 409, dispatch.text
    assert not [
        i
        for i in (await ok(await api.get("/api/v1/inbox", headers=h["rd.clerk"])))["items"]
        if i["letter_id"] == letter_id
    ]


@pytest.fixture
async def dispatching_on_signing(tmp_path):
    """A deployment set to send letters as soon as they are signed (SARABUN_DISPATCH_ON_SIGNING)."""
    deployment = embedded(Settings(demo=True, data_dir=tmp_path, dispatch_on_signing=True))
    await deployment.start()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=deployment.app), base_url="http://sarabun"
    ) as client:
        yield client
    await deployment.stop()


async def test_where_units_dispatch_on_signing_the_signature_sends_the_letter(dispatching_on_signing):
    api = dispatching_on_signing
    h = await people(api)
    orgs = await org_ids(api, h["cgd.clerk"])
    draft_id = (await up_to_signature(api, h, orgs))["id"]
    signed = await step(api, h["cgd.dg"], draft_id, "sign")
    assert (signed["status"], signed["history"][-1]["type"]) == ("dispatched", "dispatched")
    item = await eventually(lambda: inbox_item(api, h["rd.clerk"], signed["letter_id"]))
    assert item["doc_no"] == signed["doc_no"]
    to_dispatch = await ok(await api.get("/api/v1/drafts?box=to_dispatch", headers=h["cgd.clerk"]))
    assert draft_id not in [entry["id"] for entry in to_dispatch["items"]]
