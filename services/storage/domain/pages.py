"""How many pages a PDF has, read once on upload so lists and dashboards never open the file again."""

from __future__ import annotations

import logging
from typing import BinaryIO

from pypdf import PdfReader

log = logging.getLogger("sarabun.storage.pages")


def page_count(pdf: BinaryIO) -> int | None:
    """The number of pages, or None for a file pypdf cannot read (damaged, oddly built, without pages).

    The reader is given the open file, not its bytes: pypdf then seeks to the cross-reference table and reads
    only the objects of the page tree, never the page contents."""
    pdf.seek(0)
    try:
        count = len(PdfReader(pdf, strict=False).pages)
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds of error on a broken file; all mean "unknown"
        log.info("page count not readable: %s", exc)
        return None
    return count if count > 0 else None
