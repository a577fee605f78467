"""Storage's pure rules: type by magic bytes, filename cleaning, the download header, the upload reader."""

from __future__ import annotations

import hashlib
import uuid
from urllib.parse import unquote

import pytest

from services.storage.domain.attachments import (
    DOCX,
    JPEG,
    ODS,
    ODT,
    PDF,
    PNG,
    TIFF,
    XLSX,
    ZIP_CONTAINER,
    UploadRefused,
    clean_filename,
    content_disposition,
    office_type,
    sniff,
    storage_key,
)
from services.storage.domain.upload import FormUpload
from services.storage.tests import files


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.4\n...", PDF),
        (b"\x89PNG\r\n\x1a\n\x00\x00", PNG),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", JPEG),
        (b"II*\x00\x08\x00\x00\x00", TIFF),
        (b"MM\x00*\x00\x00\x00\x08", TIFF),
        (b"PK\x03\x04\x14\x00", ZIP_CONTAINER),
    ],
)
def test_accepted_types_are_recognised_by_their_magic_bytes(head, expected):
    assert sniff(head) == expected


@pytest.mark.parametrize(
    "head",
    [
        b"<html><script>alert(1)</script>",
        b"MZ\x90\x00\x03",  # a Windows executable
        b"#!/bin/sh\nrm -rf /",
        b" %PDF-1.4",  # the marker must open the file, not merely appear in it
        b"PK\x05\x06",  # an empty ZIP has no members to prove it is a document
        b"",
    ],
)
def test_other_content_is_not_recognised(head):
    assert sniff(head) is None


def test_office_documents_are_told_apart_by_their_members():
    assert office_type(["[Content_Types].xml", "_rels/.rels", "word/document.xml"], None) == DOCX
    assert office_type(["[Content_Types].xml", "xl/workbook.xml"], None) == XLSX
    assert office_type(["mimetype", "content.xml"], b"application/vnd.oasis.opendocument.text") == ODT
    assert office_type(["mimetype"], b"application/vnd.oasis.opendocument.spreadsheet\n") == ODS


def test_a_zip_that_is_no_office_document_is_refused():
    assert office_type(["readme.txt", "setup.exe"], None) is None
    assert office_type(["word/document.xml"], None) is None  # no [Content_Types].xml: not OOXML
    assert office_type(["mimetype"], b"application/x-msdownload") is None


def test_filename_is_nfc_without_controls_bidi_or_directories():
    decomposed = "เอกสาร" + "e\u0301"  # "é" as e + combining acute: NFC joins it
    assert clean_filename(decomposed + ".pdf") == "เอกสารé.pdf"
    assert clean_filename("หนังสือ\u202egpj.exe") == "หนังสือgpj.exe"  # the bidi override is gone
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("C:\\Users\\สมชาย\\รายงาน.docx") == "รายงาน.docx"
    assert clean_filename("a\x00b\x1fc\x7fd\x85e.pdf") == "abcde.pdf"
    assert clean_filename("two\nlines\t.pdf") == "two lines .pdf"


@pytest.mark.parametrize("raw", [None, "", "   ", "..", "dir/", "\u202e\u2066"])
def test_a_filename_with_nothing_left_gets_a_neutral_name(raw):
    assert clean_filename(raw) == "attachment"


def test_a_long_filename_is_cut_keeping_its_extension():
    name = clean_filename("ก" * 400 + ".pdf")
    assert len(name) == 255
    assert name.endswith("ก.pdf")


def test_storage_key_comes_from_the_id_only():
    attachment_id = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert storage_key(attachment_id) == "attachments/12345678-1234-5678-1234-567812345678"


def test_content_disposition_carries_the_thai_name_and_an_ascii_fallback():
    header = content_disposition("หนังสือเชิญประชุม 2569.pdf")
    assert header.startswith('attachment; filename="')
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback == "2569.pdf"
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded, encoding="utf-8") == "หนังสือเชิญประชุม 2569.pdf"
    assert all(ch.isascii() and ch not in ' "' for ch in encoded)  # RFC 8187 attr-chars and %XX only


def test_content_disposition_fallback_never_breaks_the_quoted_string():
    header = content_disposition('ra"port\\x.pdf')
    assert 'filename="raportx.pdf"' in header
    assert content_disposition("ภาพ.png").startswith('attachment; filename="attachment.png"; ')
    assert content_disposition("café.pdf").startswith('attachment; filename="cafe.pdf"; ')


_CLOSE = f"--{files.BOUNDARY}--\r\n".encode()


def _read(body: bytes, max_bytes: int = 1_000_000, chunk: int = 7) -> tuple[FormUpload, bytes]:
    upload = FormUpload(files.CONTENT_TYPE, max_bytes)
    received = bytearray()
    for start in range(0, len(body), chunk):
        upload.feed(body[start : start + chunk])
        received += upload.take()
    upload.finish()
    return upload, bytes(received)


def test_upload_reader_hands_on_the_file_counted_and_hashed_across_any_chunking():
    data = files.pdf(5000)
    body = files.multipart(data, "สัญญา.pdf", extra_fields={"note": "ignored"})
    for chunk in (1, 7, 4096, len(body)):
        upload, received = _read(body, chunk=chunk)
        assert received == data
        assert upload.size == len(data)
        assert upload.sha256 == hashlib.sha256(data).hexdigest()
        assert upload.head == data[:512]
        assert upload.filename == "สัญญา.pdf"


def test_upload_reader_stops_as_soon_as_the_file_passes_the_limit():
    upload = FormUpload(files.CONTENT_TYPE, max_bytes=100)
    body = files.multipart(files.pdf(10_000))
    fed = 0
    with pytest.raises(UploadRefused) as refused:
        for start in range(0, len(body), 50):
            upload.feed(body[start : start + 50])
            fed += 50
    assert refused.value.status == 413
    assert fed < 400  # headers plus a little over 100 bytes of file, not the whole body


def test_upload_reader_allows_a_file_of_exactly_the_limit():
    data = files.pdf(100)
    upload, received = _read(files.multipart(data), max_bytes=100)
    assert received == data


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (files.multipart(b"", "empty.pdf"), "the file is empty"),
        (files.multipart(files.pdf(), field="document"), "the file field is required"),
        (files.multipart(files.pdf())[:-40], "ended early"),  # cut off before the closing boundary
        (files.multipart(files.pdf()).removesuffix(_CLOSE) + files.multipart(files.pdf()), "one file per request"),
    ],
)
def test_upload_reader_refuses_incomplete_forms(body, reason):
    with pytest.raises(UploadRefused) as refused:
        _read(body)
    assert refused.value.status == 422
    assert reason in refused.value.message


@pytest.mark.parametrize("content_type", ["application/json", "multipart/form-data", "", "text/plain; boundary=x"])
def test_upload_reader_wants_multipart_with_a_boundary(content_type):
    with pytest.raises(UploadRefused) as refused:
        FormUpload(content_type, 100)
    assert refused.value.status == 415


def test_risky_pdf_features_are_found_even_across_chunk_borders():
    from services.storage.domain.attachments import pdf_flags

    body = b"%PDF-1.7\n1 0 obj<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj trailer<</Encrypt 5 0 R>>"
    assert pdf_flags([body]) == ["encrypted", "script"]
    assert pdf_flags([body[i : i + 3] for i in range(0, len(body), 3)]) == ["encrypted", "script"]
    assert pdf_flags([b"%PDF-1.7\n", b"/Launch", b"/EmbeddedFile"]) == ["embedded_file", "launch"]
    assert pdf_flags([b"%PDF-1.4 plain text only %%EOF"]) == []
