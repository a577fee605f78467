"""The receipt stamp (ตรารับ): what a receiving unit writes in the top-right corner of a letter's first page when
it registers it (the unit's name, เลขรับ, วันที่, เวลา), rendered onto a copy of a PDF. Pure: bytes in, bytes out.

The stamp is drawn with fpdf2 and shaped by HarfBuzz (uharfbuzz): Thai upper vowels and tone marks stack on
the consonant only when the font's GSUB/GPOS rules are applied, and without shaping a word like "วันที่"
loses or misplaces its tone mark. The font is Sarabun (OFL), the typeface Thai government documents use,
embedded (subset) in the copy so it prints the same everywhere.

The stamped copy is written as an incremental update of the original (pypdf): the original bytes are its
first part, unchanged, and only page 1 and the stamp's objects are appended. Every other page stays as it
was, and a digital signature on the original still verifies for the revision it signed.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import fontpkg_sarabun
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.errors import PyPdfError

from shared import thai

log = logging.getLogger("sarabun.storage.stamp")

FONT_FILE: Path = fontpkg_sarabun.ROOT / "files" / "Sarabun-Regular.ttf"
FONT_FAMILY = "Sarabun"

# Sizes in PDF points (1/72 inch). A paper ตรารับ is about 5 x 2.5 cm; these give the same at 13 pt.
FONT_SIZE = 13.0
LINE_HEIGHT = 1.45  # Thai needs room above and below the line for stacked vowels and tone marks
PADDING = 6.0
MARGIN = 18.0  # from the page's top and right edges, clear of most printers' unprintable border
MIN_BOX_WIDTH = 150.0
INK = (20, 40, 140)  # stamp-pad blue, set apart from the letter's own black text
BORDER_WIDTH = 1.0


class StampError(ValueError):
    """The file cannot carry a stamp: not a PDF, damaged, encrypted, or without pages."""


@dataclass(frozen=True)
class ReceiptStamp:
    """What the stamp says."""

    unit_name: str  # the receiving unit, as the directory names it
    receive_no: int  # เลขรับ in the unit's receive register
    received_at: datetime  # when it was registered; shown in Asia/Bangkok

    def lines(self) -> list[str]:
        local = self.received_at.astimezone(thai.BANGKOK)
        name = thai.clean(self.unit_name).replace("\n", " ").replace("\t", " ")
        entries = [f"เลขรับ {self.receive_no}", f"วันที่ {thai.date_th(self.received_at)}", f"เวลา {local:%H.%M} น."]
        # An event from before the name was carried has none; the register entries still stand on their own.
        return [name, *entries] if name else entries


def stamp_pdf(original: bytes, stamp: ReceiptStamp) -> bytes:
    """A copy of `original` with `stamp` in the top-right corner of page 1 as the page is shown.

    Raises StampError for anything that is not a readable, unencrypted PDF with at least one page.
    """
    if not original.startswith(b"%PDF-"):
        raise StampError("not a PDF file")
    try:
        return _stamp(original, stamp)
    except StampError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        # pypdf reports a damaged file through many exception types, depending on where the damage is.
        raise StampError(f"damaged PDF ({type(exc).__name__}: {exc})") from exc


def _stamp(original: bytes, stamp: ReceiptStamp) -> bytes:
    reader = PdfReader(io.BytesIO(original))
    if reader.is_encrypted:
        # Stamping would mean decrypting and rewriting a document its author locked; keep it as sent.
        raise StampError("encrypted PDF")
    if len(reader.pages) == 0:
        raise StampError("PDF without pages")
    writer = PdfWriter(reader, incremental=True)
    page = writer.pages[0]
    box = page.cropbox  # the visible part of the page; the stamp belongs inside it
    rotation = page.rotation % 360
    if rotation not in (0, 90, 180, 270):
        raise StampError(f"invalid page rotation {page.rotation}")
    width, height = float(box.width), float(box.height)
    shown_width, shown_height = (height, width) if rotation in (90, 270) else (width, height)
    overlay = PdfReader(io.BytesIO(render_overlay(shown_width, shown_height, stamp))).pages[0]
    page.merge_transformed_page(overlay, _shown_to_page(rotation, float(box.left), float(box.bottom), width, height))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _shown_to_page(rotation: int, left: float, bottom: float, width: float, height: float) -> Transformation:
    """Maps the page as a reader sees it (after /Rotate, origin at its lower-left) onto the page's own
    coordinates, so "top right" is top right on screen whichever way the page is rotated. /Rotate turns the
    page clockwise for display; this turns the stamp the other way by the same angle."""
    turned = Transformation().rotate(rotation)
    offsets = {0: (0.0, 0.0), 90: (width, 0.0), 180: (width, height), 270: (0.0, height)}
    dx, dy = offsets[rotation]
    return turned.translate(left + dx, bottom + dy)


def render_overlay(width: float, height: float, stamp: ReceiptStamp) -> bytes:
    """A transparent one-page PDF of `width` x `height` points with only the stamp on it, top right."""
    lines = stamp.lines()
    named = len(lines) == 4
    pdf = FPDF(unit="pt", format=(width, height))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.c_margin = 0  # the stamp's own padding places the text; a cell margin on top would push it off-centre
    # A fixed date keeps the overlay, and so the stamped copy, the same bytes for the same input.
    pdf.set_creation_date(stamp.received_at)
    pdf.add_font(FONT_FAMILY, "", FONT_FILE)
    pdf.set_text_shaping(True, script="thai", language="th")
    pdf.add_page()

    pdf.set_font(FONT_FAMILY, size=FONT_SIZE)
    text_width = max(pdf.get_string_width(line) for line in lines)
    natural_width = max(text_width + 2 * PADDING, MIN_BOX_WIDTH)
    natural_height = len(lines) * FONT_SIZE * LINE_HEIGHT + 2 * PADDING
    # A long unit name or a small page: shrink the whole stamp rather than let it run off the page.
    scale = min(1.0, (width - 2 * MARGIN) / natural_width, (height - 2 * MARGIN) / natural_height)
    if scale <= 0:
        raise StampError(f"page too small for a stamp ({width:.0f} x {height:.0f} pt)")
    size, padding, margin = FONT_SIZE * scale, PADDING * scale, MARGIN * min(1.0, scale)
    line_height = size * LINE_HEIGHT
    box_width, box_height = natural_width * scale, natural_height * scale
    x, y = width - margin - box_width, margin  # fpdf2 measures y from the top

    pdf.set_font(FONT_FAMILY, size=size)
    pdf.set_draw_color(*INK)
    pdf.set_text_color(*INK)
    pdf.set_line_width(BORDER_WIDTH * scale)
    pdf.rect(x, y, box_width, box_height)
    for i, line in enumerate(lines):
        pdf.set_xy(x + padding, y + padding + i * line_height)
        # The unit's name heads the stamp, centred; the register entries read from the left.
        pdf.cell(w=box_width - 2 * padding, h=line_height, text=line, align="C" if i == 0 and named else "L")
    return bytes(pdf.output())
