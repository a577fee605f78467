"""An attachment's metadata through the public API: name, size, type, SHA-256, flags and, for a PDF, its page
count; seen by exactly those who may download the file, and nobody else learns it exists."""

from __future__ import annotations

import hashlib

from fpdf import FPDF

from tests.e2e.helpers import eventually, login, org_ids


def pdf_of(pages: int) -> bytes:
    document = FPDF(unit="pt", format="A4")
    document.set_font("Helvetica", size=12)
    for number in range(1, pages + 1):
        document.add_page()
        document.text(72, 72, f"page {number}")
    return bytes(document.output())


async def test_the_uploader_and_the_recipients_read_name_size_and_pages_others_get_404(api):
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    data = pdf_of(4)
    upload = await api.post(
        "/api/v1/attachments", headers=ops, files={"file": ("รายงานการประชุม.pdf", data, "application/pdf")}
    )
    assert upload.status_code == 201, upload.text
    path = f"/api/v1/attachments/{upload.json()['id']}/meta"

    meta = await api.get(path, headers=ops)
    assert meta.status_code == 200, meta.text
    assert meta.json() == {
        "id": upload.json()["id"],
        "filename": "รายงานการประชุม.pdf",
        "content_type": "application/pdf",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "flags": [],
        "pages": 4,
    }

    cgd, td = await login(api, "cgd.clerk"), await login(api, "td.clerk")
    assert (await api.get(path, headers=cgd)).status_code == 404  # not sent to cgd yet
    body = {"type": "external", "subject": "ส่งรายงาน", "recipient_org_ids": [orgs["cgd"]]}
    sent = await api.post("/api/v1/letters", headers=ops, json=body | {"attachment_ids": [upload.json()["id"]]})
    assert sent.status_code == 201, sent.text

    async def readable_by_cgd():
        answer = await api.get(path, headers=cgd)
        return answer.json() if answer.status_code == 200 else None

    assert (await eventually(readable_by_cgd))["pages"] == 4
    refused = await api.get(path, headers=td)
    assert refused.status_code == 404 and refused.headers["content-type"].startswith("application/problem+json")
    assert "รายงานการประชุม" not in refused.text
    assert (await api.get(path, headers=await login(api, "auditor"))).status_code == 403
    assert (await api.get(path)).status_code == 401


async def test_a_file_that_is_not_a_pdf_has_no_page_count(api):
    ops = await login(api, "ops.clerk")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
    upload = await api.post("/api/v1/attachments", headers=ops, files={"file": ("ผัง.png", png, "image/png")})
    assert upload.status_code == 201, upload.text
    meta = await api.get(f"/api/v1/attachments/{upload.json()['id']}/meta", headers=ops)
    assert meta.json()["content_type"] == "image/png" and meta.json()["pages"] is None
