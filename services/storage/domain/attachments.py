"""Rules of an attachment (สิ่งที่ส่งมาด้วย): which file types are accepted, how a filename is cleaned, where the
bytes are kept and how a download is named. No I/O here."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable
from urllib.parse import quote

from shared import thai

# Enough of the head of a file to recognise every accepted type by its magic bytes.
SNIFF_BYTES = 512
MAX_FILENAME = 255
FALLBACK_NAME = "attachment"

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
# Not a type that is stored: a ZIP container that still has to show which office document it is.
ZIP_CONTAINER = "application/zip"

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"PK\x03\x04", ZIP_CONTAINER),
)

# Office Open XML: the part every document of the kind must have (ECMA-376 part 2).
_OOXML_MAIN_PART = {
    "word/document.xml": DOCX,
    "xl/workbook.xml": XLSX,
    "ppt/presentation.xml": PPTX,
}
# OpenDocument: the uncompressed `mimetype` member names the kind (ODF 1.2 part 3, 3.3).
_ODF_MIMETYPES = {ODT, ODS, ODP}


class UploadRefused(Exception):
    """An upload the rules do not accept; `status` is the HTTP answer it deserves (413, 415, 422)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def sniff(head: bytes) -> str | None:
    """The type the first bytes of a file prove, whatever the client declared; None if not accepted."""
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    return None


def office_type(member_names: Iterable[str], odf_mimetype: bytes | None) -> str | None:
    """Which office document a ZIP container is, from its member names and its ODF `mimetype` member.
    A ZIP that is no office document is refused: an archive could carry anything past the type check."""
    if odf_mimetype is not None:
        declared = odf_mimetype.strip().decode("ascii", errors="replace")
        if declared in _ODF_MIMETYPES:
            return declared
    names = set(member_names)
    if "[Content_Types].xml" not in names:
        return None
    for part, content_type in _OOXML_MAIN_PART.items():
        if part in names:
            return content_type
    return None


def refuse_type() -> UploadRefused:
    return UploadRefused(
        415,
        "ไม่รับไฟล์ชนิดนี้ รับเฉพาะ PDF, PNG, JPEG, TIFF และเอกสารสำนักงาน (DOCX, XLSX, PPTX, ODT, ODS, ODP) "
        "(unsupported file type)",
    )


def clean_filename(raw: str | None) -> str:
    """The client's filename as harmless metadata: NFC, no control or bidi characters, no directories.
    It never becomes a storage key, but it is shown to people and put in a download header."""
    name = thai.clean(raw or "")
    # thai.clean keeps newlines and tabs (fine in text, not in a name) and knows only C0 controls.
    name = "".join(" " if ch in "\n\t" else ch for ch in name if unicodedata.category(ch) != "Cc" or ch in "\n\t")
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if name in ("", ".", ".."):
        return FALLBACK_NAME
    if len(name) > MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            name = stem[: MAX_FILENAME - len(extension) - 1] + dot + extension
        else:
            name = name[:MAX_FILENAME]
    return name


def storage_key(attachment_id: uuid.UUID) -> str:
    """Where the bytes live: named by the attachment id only, never by anything the client sent."""
    return f"attachments/{attachment_id}"


def stamped_storage_key(delivery_id: uuid.UUID, attachment_id: uuid.UUID) -> str:
    """Where a receipt-stamped copy lives: named by ids only, so rendering it again after a crash overwrites the
    same object instead of leaving another behind."""
    return f"stamped/{delivery_id}/{attachment_id}"


STAMPED_SUFFIX = "-ตรารับ"


def stamped_filename(original: str) -> str:
    """`หนังสือเชิญ.pdf` -> `หนังสือเชิญ-ตรารับ.pdf`: the copy is told apart from the original at a glance."""
    stem, dot, extension = original.rpartition(".")
    if not dot or not stem or extension.lower() != "pdf":
        stem = original
    stem = stem[: MAX_FILENAME - len(STAMPED_SUFFIX) - len(".pdf")] or FALLBACK_NAME
    return f"{stem}{STAMPED_SUFFIX}.pdf"


def content_disposition(filename: str) -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''...` (RFC 6266 with RFC 8187): every client gets a
    safe ASCII name, and those that read `filename*` get the Thai name exactly."""
    return f"attachment; filename=\"{_ascii_fallback(filename)}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _ascii_fallback(filename: str) -> str:
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    stem, extension = _printable_ascii(stem).strip(" ."), _printable_ascii(extension).strip(" ")
    if not stem:
        # A Thai name has no ASCII letters left; a neutral name with the extension is more useful than "_____".
        stem = FALLBACK_NAME
    return f"{stem}.{extension}" if extension else stem


def _printable_ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    # Quotes and backslashes would end or escape the quoted-string; drop them with everything non-ASCII.
    return "".join(ch for ch in decomposed if " " <= ch <= "~" and ch not in '"\\')


# PDF features a reader should be warned about: encryption hides content from checks, and actions or
# scripts run when the file is opened. Their names are PDF keywords, found in the raw bytes.
PDF_RISKS = {
    b"/Encrypt": "encrypted",
    b"/JavaScript": "script",
    b"/JS": "script",
    b"/Launch": "launch",
    b"/EmbeddedFile": "embedded_file",
}
_LONGEST = max(len(marker) for marker in PDF_RISKS)


def pdf_flags(chunks) -> list[str]:
    """The risky features a PDF carries, from its bytes read in order (a marker may straddle two chunks)."""
    found: set[str] = set()
    tail = b""
    for chunk in chunks:
        window = tail + chunk
        found.update(flag for marker, flag in PDF_RISKS.items() if marker in window)
        tail = window[-_LONGEST:]
    return sorted(found)


# Downloads are files, never pages: nothing in them may run or load anything in the browser.
DOWNLOAD_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}
