"""The receipt stamp (ตรารับ) through the public API: when กรมบัญชีกลาง registers a letter, its clerk can
download the letter's PDF with the stamp in the top-right corner of page 1, while the original stays as sent
and no other unit can see the stamped copy."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime

from fpdf import FPDF
from pypdf import PdfReader

from shared import thai
from tests.e2e.helpers import eventually, inbox_item, login, org_ids


def one_page_pdf() -> bytes:
    document = FPDF(unit="pt", format="A4")
    document.add_page()
    document.set_font("Helvetica", size=16)
    document.text(72, 120, "Invitation to the working group meeting")
    return bytes(document.output())


async def test_a_received_letter_has_a_stamped_copy_for_the_receiving_unit_only(api):
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    original = one_page_pdf()
    upload = await api.post(
        "/api/v1/attachments", headers=ops, files={"file": ("หนังสือเชิญประชุม.pdf", original, "application/pdf")}
    )
    assert upload.status_code == 201, upload.text
    attachment = upload.json()
    sent = await api.post(
        "/api/v1/letters",
        headers=ops,
        json={
            "type": "external",
            "subject": "ขอเชิญประชุมคณะทำงาน",
            "recipient_org_ids": [orgs["cgd"], orgs["rd"]],
            "attachment_ids": [attachment["id"]],
        },
    )
    assert sent.status_code == 201, sent.text
    letter = sent.json()

    cgd, rd = await login(api, "cgd.clerk"), await login(api, "rd.clerk")
    item = await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    assert await eventually(lambda: inbox_item(api, rd, letter["id"]))
    path = f"/api/v1/deliveries/{item['delivery_id']}/stamped"
    # Not registered yet: there is no receipt to stamp.
    assert (await api.get(path, headers=cgd)).status_code == 404

    received = await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=cgd)
    assert received.status_code == 200, received.text
    receive_no = received.json()["receive_no"]
    received_at = datetime.fromisoformat(received.json()["received_at"])

    async def stamped_copy():
        response = await api.get(path, headers=cgd)
        return response if response.status_code == 200 else None

    response = await eventually(stamped_copy)
    assert response.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    assert response.content.startswith(b"%PDF-")
    pages = PdfReader(io.BytesIO(response.content)).pages
    assert len(pages) == 1
    text = pages[0].extract_text()
    assert "Invitation to the working group meeting" in text  # the letter itself is still there
    assert "กรมบัญชีกลาง" in text
    assert f"เลขรับ {receive_no}" in text
    assert str(thai.buddhist_year(received_at)) in text
    assert f"วันที่ {thai.date_th(received_at)}" in text
    assert f"เวลา {received_at.astimezone(thai.BANGKOK):%H.%M} น." in text
    fonts = [str(font.get_object()["/BaseFont"]) for font in pages[0]["/Resources"]["/Font"].values()]
    assert any(name.endswith("+Sarabun") for name in fonts), fonts

    download = await api.get(f"/api/v1/attachments/{attachment['id']}/content", headers=cgd)
    assert download.content == original
    assert hashlib.sha256(download.content).hexdigest() == attachment["sha256"]

    for outsider in (rd, ops):  # another recipient of the same letter, and the sender
        refused = await api.get(path, headers=outsider)
        assert refused.status_code == 404
        assert refused.headers["content-type"] == "application/problem+json"
    assert (await api.get("/api/v1/deliveries/not-a-uuid/stamped", headers=cgd)).status_code == 422
    assert (await api.get(path)).status_code == 401
