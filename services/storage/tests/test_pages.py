"""A PDF's page count is read once on upload and kept with its metadata; other files and PDFs pypdf cannot read
have none, and are still accepted."""

from __future__ import annotations

import io

from fpdf import FPDF

from services.storage.domain.pages import page_count
from services.storage.tests import files
from services.storage.tests.test_service import ORG_A


def pdf_of(pages: int) -> bytes:
    document = FPDF(unit="pt", format="A4")
    document.set_font("Helvetica", size=12)
    for number in range(1, pages + 1):
        document.add_page()
        document.text(72, 72, f"page {number}")
    return bytes(document.output())


def test_page_count_reads_the_page_tree():
    assert page_count(io.BytesIO(pdf_of(3))) == 3
    assert page_count(io.BytesIO(pdf_of(1))) == 1


def test_a_file_that_only_starts_like_a_pdf_has_no_page_count():
    assert page_count(io.BytesIO(files.pdf(4096))) is None
    assert page_count(io.BytesIO(b"%PDF-1.7\n")) is None


async def test_the_count_is_stored_on_upload_and_returned_with_the_metadata(start):
    storage = await start()
    created = await storage.upload(ORG_A, files.multipart(pdf_of(3), "รายงาน.pdf"))
    assert created.status_code == 201, created.text
    assert created.json()["pages"] == 3

    meta = await storage.client.get(f"/objects/{created.json()['id']}", headers=storage.headers(ORG_A))
    assert meta.status_code == 200
    assert meta.json()["pages"] == 3


async def test_images_and_unreadable_pdfs_are_accepted_without_a_count(start):
    storage = await start()
    image = await storage.upload(ORG_A, files.multipart(files.png(), "รูป.png", declared_type="image/png"))
    broken = await storage.upload(ORG_A, files.multipart(files.pdf(2048), "เสีย.pdf"))
    assert image.status_code == broken.status_code == 201
    for created in (image, broken):
        meta = await storage.client.get(f"/objects/{created.json()['id']}", headers=storage.headers(ORG_A))
        assert meta.json()["pages"] is None
