"""Sample files and multipart bodies for storage's tests, built byte by byte so every case is exact."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

BOUNDARY = "sarabun-test-boundary-7d1f"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def pdf(size: int = 1000) -> bytes:
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    body = bytes((i * 7 + 3) % 256 for i in range(max(size - len(head) - 6, 0)))
    return head + body + b"\n%%EOF"


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            # ODF requires its `mimetype` member first and uncompressed; the rest may be deflated.
            compression = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=compression)
    return buffer.getvalue()


def docx() -> bytes:
    return zipped(
        {
            "[Content_Types].xml": b"<Types/>",
            "_rels/.rels": b"<Relationships/>",
            "word/document.xml": b"<w:document/>",
        }
    )


def xlsx() -> bytes:
    return zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})


def odt() -> bytes:
    return zipped({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office:document/>"})


def multipart(
    data: bytes,
    filename: str | None = "file.pdf",
    *,
    field: str = "file",
    declared_type: str = "application/pdf",
    extra_fields: dict[str, str] | None = None,
) -> bytes:
    """A multipart/form-data body as a browser would send it: UTF-8 filename bytes, CRLF framing."""
    parts = []
    for name, value in (extra_fields or {}).items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode() + b"\r\n"
        )
    disposition = f'form-data; name="{field}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    parts.append(
        f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\nContent-Type: {declared_type}\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def real_pdf(pages: int = 1, *, size: tuple[float, float] = (595.28, 841.89), rotate: int = 0) -> bytes:
    """A well-formed PDF with `pages` pages of A4 (in points), each saying which page it is in a core font.
    `rotate` sets page 1's /Rotate, as a scanner does for a landscape page."""
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter

    document = FPDF(unit="pt", format=size)
    document.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
    document.set_font("Helvetica", size=14)
    for number in range(1, pages + 1):
        document.add_page()
        document.text(72, 100, f"Original page {number} of {pages}")
    data = bytes(document.output())
    if not rotate:
        return data
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.pages[0].rotate(rotate)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
