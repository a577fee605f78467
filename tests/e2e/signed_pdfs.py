"""Checking a signed PDF the way a recipient outside Sarabun would: with pyHanko's validator and, independently,
with poppler's `pdfsig`; and spoiling one byte of it, as a forger or a broken disk would."""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


@dataclass(frozen=True)
class Checked:
    intact: bool  # the signed bytes hash to what the signature says
    valid: bool  # and the signature over that hash verifies with the signer's key
    signer: str  # the signing certificate's common name

    @property
    def ok(self) -> bool:
        return self.intact and self.valid


async def pyhanko_check(pdf: bytes) -> list[Checked]:
    """Every signature in the PDF as pyHanko judges it. Whether the signer is trusted is not asked here: the
    roots are the deployment's (GET /letters/{id}/signatures answers that); this is the document's integrity."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    found = []
    for signature in reader.embedded_signatures:
        context = ValidationContext(allow_fetching=False)
        try:
            status = await async_validate_pdf_signature(signature, context, skip_diff=True)
        except Exception:  # a spoiled file may not even parse as far as the signature: not valid either
            found.append(Checked(False, False, ""))
            continue
        found.append(Checked(status.intact, status.valid, status.signing_cert.subject.native.get("common_name", "")))
    return found


def pdfsig_available() -> bool:
    return shutil.which("pdfsig") is not None


async def pdfsig_check(pdf: bytes) -> list[bool]:
    """For each signature poppler's `pdfsig` finds, whether it says "Signature is Valid." (poppler checks the
    digest and the signature, and reports the certificate's trust on a line of its own)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "letter.pdf"
        path.write_bytes(pdf)
        result = await asyncio.to_thread(
            subprocess.run, ["pdfsig", "-nocert", str(path)], capture_output=True, text=True, timeout=60
        )
    verdicts = re.findall(r"Signature Validation: (.+)", result.stdout)
    return [verdict.strip() == "Signature is Valid." for verdict in verdicts]


def flip_one_byte(pdf: bytes) -> bytes:
    """The PDF with one byte changed inside the first content stream, which the first signature covers (the
    signature's own /Contents lies elsewhere): the file still opens, but it is not what was signed."""
    start = pdf.index(b"stream", pdf.index(b"/Length")) + len(b"stream\n") + 8
    return pdf[:start] + bytes([pdf[start] ^ 0x01]) + pdf[start + 1 :]
