"""Reading an upload as it arrives: a multipart/form-data body whose `file` part is counted, hashed and
handed on chunk by chunk, so no file is ever held whole in memory. Pure: the caller brings the bytes in and
takes the file's bytes away."""

from __future__ import annotations

import hashlib

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from services.storage.domain.attachments import SNIFF_BYTES, UploadRefused

FILE_FIELD = "file"
# Room for the multipart framing and small form fields around the file; the file itself has its own limit.
FORM_OVERHEAD = 64 * 1024


def _too_large(max_bytes: int) -> UploadRefused:
    return UploadRefused(413, f"ไฟล์ใหญ่เกินกำหนด {max_bytes:,} ไบต์ (file larger than the limit of {max_bytes:,} bytes)")


class FormUpload:
    """Feed it the request body with `feed`, take the file's bytes with `take`, then call `finish`."""

    def __init__(self, content_type: str, max_bytes: int):
        media_type, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if media_type != b"multipart/form-data" or not boundary:
            raise UploadRefused(
                415, "ต้องส่งไฟล์แบบ multipart/form-data ในช่อง file (expected multipart/form-data with a file)"
            )
        self.max_bytes = max_bytes
        self.size = 0
        self.head = b""
        self.filename: str | None = None
        self._sha256 = hashlib.sha256()
        self._received = 0
        self._pending = bytearray()
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._in_file = False
        self._file_seen = False
        self._file_done = False
        self._ended = False
        try:
            self._parser = MultipartParser(
                boundary,
                callbacks={
                    "on_part_begin": self._part_begin,
                    "on_header_field": self._header_field,
                    "on_header_value": self._header_value_data,
                    "on_header_end": self._header_end,
                    "on_headers_finished": self._headers_finished,
                    "on_part_data": self._part_data,
                    "on_part_end": self._part_end,
                    "on_end": self._end,
                },
            )
        except FormParserError:
            raise UploadRefused(422, "ขอบเขต multipart ไม่ถูกต้อง (invalid multipart boundary)") from None

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    def feed(self, chunk: bytes) -> None:
        """Parses the next piece of the body; raises UploadRefused the moment the upload breaks a rule."""
        self._received += len(chunk)
        if self._received > self.max_bytes + FORM_OVERHEAD:
            raise _too_large(self.max_bytes)
        try:
            self._parser.write(chunk)
        except FormParserError:
            raise UploadRefused(422, "ข้อมูล multipart ไม่ถูกต้อง (malformed multipart body)") from None

    def take(self) -> bytes:
        """The file bytes parsed since the last call, for the caller to write away."""
        data = bytes(self._pending)
        self._pending.clear()
        return data

    def finish(self) -> None:
        """Checks, at the end of the body, that a complete, non-empty `file` part arrived."""
        try:
            self._parser.finalize()
        except FormParserError:
            raise UploadRefused(422, "ข้อมูล multipart ไม่ถูกต้อง (malformed multipart body)") from None
        if not self._file_seen:
            raise UploadRefused(422, "ต้องแนบไฟล์ในช่อง file (the file field is required)")
        if not (self._file_done and self._ended):
            raise UploadRefused(422, "ได้รับไฟล์ไม่ครบ (the multipart body ended early)")
        if self.size == 0:
            raise UploadRefused(422, "ไฟล์ว่างเปล่า (the file is empty)")

    # Parser callbacks: the parser reports each piece of a part's headers and data as it reads it.

    def _part_begin(self) -> None:
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.decode("latin-1").strip().lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        # Header bytes go through latin-1 unchanged, so a UTF-8 filename comes back out byte for byte.
        disposition, params = parse_options_header(self._headers.get("content-disposition", b"").decode("latin-1"))
        name = params.get(b"name", b"").decode("utf-8", errors="replace")
        self._in_file = disposition == b"form-data" and name == FILE_FIELD
        if not self._in_file:
            return
        if self._file_seen:
            raise UploadRefused(422, "ส่งไฟล์ได้ครั้งละหนึ่งไฟล์ (send one file per request)")
        self._file_seen = True
        filename = params.get(b"filename")
        self.filename = filename.decode("utf-8", errors="replace") if filename is not None else None

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_file:
            return
        piece = data[start:end]
        self.size += len(piece)
        if self.size > self.max_bytes:
            raise _too_large(self.max_bytes)
        if len(self.head) < SNIFF_BYTES:
            self.head += piece[: SNIFF_BYTES - len(self.head)]
        self._sha256.update(piece)
        self._pending += piece

    def _part_end(self) -> None:
        if self._in_file:
            self._file_done = True
        self._in_file = False

    def _end(self) -> None:
        self._ended = True
