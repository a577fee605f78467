"""The receipt stamp (ตรารับ): what a receiving unit writes in the top-right corner of a letter's first page when
it registers it (the unit's name, เลขรับ, วันที่, เวลา), rendered onto a copy of a PDF. Pure: bytes in, bytes out.

The stamp is drawn with fpdf2 and shaped by HarfBuzz (uharfbuzz): Thai upper vowels and tone marks stack on
the consonant only when the font's GSUB/GPOS rules are applied, and without shaping a word like "วันที่"
loses or misplaces its tone mark. The font is Sarabun (OFL), the typeface Thai government documents use,
embedded (subset) in the copy so it prints the same everywhere.

The stamped copy is written as an incremental update of the original: the original bytes are its first part,
unchanged. An unsigned PDF gets the stamp drawn into page 1 (pypdf). A signed PDF must not have its pages
changed after signing, or validators rightly report the signature as broken by what came after; its stamp is
added as a new, read-only signature field on page 1 whose appearance is the stamp (pyHanko). Adding a field
is a change the PDF standard allows after an approval signature, so the signatures stay valid, for pyHanko
and for poppler's pdfsig alike.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import fontpkg_sarabun
from fpdf import FPDF
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import SigFieldSpec, append_signature_field, enumerate_sig_fields
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.errors import PyPdfError

from services.storage.domain.tounicode import glyphs_without_text, map_to_nothing
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
RECEIPT_FIELD = "receipt"  # the stamp's field on a signed PDF; "receipt-2" and on when there is one already
READ_ONLY = 1  # field flag: nobody signs into the stamp's field


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
    except (PyPdfError, PdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        # pypdf and pyHanko report a damaged file through many exception types, depending on where the damage is.
        raise StampError(f"damaged PDF ({type(exc).__name__}: {exc})") from exc


@dataclass(frozen=True)
class _FirstPage:
    """Page 1 as the stamp needs it: its size as shown, and how the shown page maps onto the page's own space."""

    shown_width: float
    shown_height: float
    to_page: Transformation


def _first_page(reader: PdfReader) -> _FirstPage:
    if reader.is_encrypted:
        # Stamping would mean decrypting and rewriting a document its author locked; keep it as sent.
        raise StampError("encrypted PDF")
    if len(reader.pages) == 0:
        raise StampError("PDF without pages")
    page = reader.pages[0]
    box = page.cropbox  # the visible part of the page; the stamp belongs inside it
    rotation = page.rotation % 360
    if rotation not in (0, 90, 180, 270):
        raise StampError(f"invalid page rotation {page.rotation}")
    width, height = float(box.width), float(box.height)
    shown_width, shown_height = (height, width) if rotation in (90, 270) else (width, height)
    to_page = _shown_to_page(rotation, float(box.left), float(box.bottom), width, height)
    return _FirstPage(shown_width, shown_height, to_page)


def _stamp(original: bytes, stamp: ReceiptStamp) -> bytes:
    reader = PdfReader(io.BytesIO(original))
    first = _first_page(reader)
    if _is_signed(original):
        return _stamp_in_field(original, first, stamp)
    writer = PdfWriter(reader, incremental=True)
    overlay = PdfReader(io.BytesIO(render_overlay(first.shown_width, first.shown_height, stamp))).pages[0]
    writer.pages[0].merge_transformed_page(overlay, first.to_page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _is_signed(original: bytes) -> bool:
    if b"/ByteRange" not in original:  # in every signature dictionary; most PDFs are not signed
        return False
    return bool(PdfFileReader(io.BytesIO(original), strict=False).embedded_signatures)


def _stamp_in_field(original: bytes, first: _FirstPage, stamp: ReceiptStamp) -> bytes:
    """The stamp as the appearance of a new read-only signature field on page 1, appended as an incremental
    update: no page content changes, so every signature already in the file stays valid."""
    writer = IncrementalPdfFileWriter(io.BytesIO(original), strict=False)
    x, top, box_width, box_height = stamp_box(first.shown_width, first.shown_height, stamp)
    # The stamp's box in the overlay's space (PDF coordinates, from the lower left) and on the page.
    bbox = (x, first.shown_height - top - box_height, x + box_width, first.shown_height - top)
    corners = [first.to_page.apply_on(point) for point in ((bbox[0], bbox[1]), (bbox[2], bbox[3]))]
    rect = (
        min(c[0] for c in corners),
        min(c[1] for c in corners),
        max(c[0] for c in corners),
        max(c[1] for c in corners),
    )
    name = _free_field_name(writer)
    append_signature_field(writer, SigFieldSpec(name, on_page=0, box=rect, readable_field_name="ตรารับ"))
    overlay = PdfFileReader(io.BytesIO(render_overlay(first.shown_width, first.shown_height, stamp)))
    appearance = writer.import_page_as_xobject(overlay, 0)
    form = appearance.get_object()
    # Only the stamp's part of the overlay, turned as the page is turned: the appearance then fills the field.
    form["/BBox"] = generic.ArrayObject(generic.FloatObject(v) for v in bbox)
    # Rounded: a quarter turn computes cos 90° as 6e-17, which a PDF number cannot be written as.
    form["/Matrix"] = generic.ArrayObject(generic.FloatObject(round(v, 4) + 0.0) for v in first.to_page.ctm)
    field = next(ref for found, _, ref in enumerate_sig_fields(writer) if found == name).get_object()
    field["/AP"] = generic.DictionaryObject({generic.NameObject("/N"): appearance})
    field["/Ff"] = generic.NumberObject(READ_ONLY)
    writer.update_container(field)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _free_field_name(writer: IncrementalPdfFileWriter) -> str:
    taken = {name for name, _, _ in enumerate_sig_fields(writer)}
    name, n = RECEIPT_FIELD, 1
    while name in taken:
        n += 1
        name = f"{RECEIPT_FIELD}-{n}"
    return name


def _shown_to_page(rotation: int, left: float, bottom: float, width: float, height: float) -> Transformation:
    """Maps the page as a reader sees it (after /Rotate, origin at its lower-left) onto the page's own
    coordinates, so "top right" is top right on screen whichever way the page is rotated. /Rotate turns the
    page clockwise for display; this turns the stamp the other way by the same angle."""
    turned = Transformation().rotate(rotation)
    offsets = {0: (0.0, 0.0), 90: (width, 0.0), 180: (width, height), 270: (0.0, height)}
    dx, dy = offsets[rotation]
    return turned.translate(left + dx, bottom + dy)


def stamp_box(width: float, height: float, stamp: ReceiptStamp) -> tuple[float, float, float, float]:
    """Where the stamp goes on a page of `width` x `height` points as shown: (left, top, width, height), with
    top measured from the top edge."""
    return _geometry(width, height, stamp)[:4]


def _geometry(
    width: float, height: float, stamp: ReceiptStamp, pdf: FPDF | None = None
) -> tuple[float, float, float, float, float]:
    lines = stamp.lines()
    pdf = pdf or _measuring_pdf()
    pdf.set_font(FONT_FAMILY, size=FONT_SIZE)
    text_width = max(pdf.get_string_width(line) for line in lines)
    natural_width = max(text_width + 2 * PADDING, MIN_BOX_WIDTH)
    natural_height = len(lines) * FONT_SIZE * LINE_HEIGHT + 2 * PADDING
    # A long unit name or a small page: shrink the whole stamp rather than let it run off the page.
    scale = min(1.0, (width - 2 * MARGIN) / natural_width, (height - 2 * MARGIN) / natural_height)
    if scale <= 0:
        raise StampError(f"page too small for a stamp ({width:.0f} x {height:.0f} pt)")
    margin = MARGIN * min(1.0, scale)
    box_width, box_height = natural_width * scale, natural_height * scale
    return width - margin - box_width, margin, box_width, box_height, scale  # fpdf2 measures y from the top


def _measuring_pdf() -> FPDF:
    pdf = FPDF(unit="pt")
    pdf.add_font(FONT_FAMILY, "", FONT_FILE)
    pdf.set_text_shaping(True, script="thai", language="th")
    return pdf


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

    x, y, box_width, box_height, scale = _geometry(width, height, stamp, pdf)
    size, padding = FONT_SIZE * scale, PADDING * scale
    line_height = size * LINE_HEIGHT
    pdf.set_font(FONT_FAMILY, size=size)
    pdf.set_draw_color(*INK)
    pdf.set_text_color(*INK)
    pdf.set_line_width(BORDER_WIDTH * scale)
    pdf.rect(x, y, box_width, box_height)
    for i, line in enumerate(lines):
        pdf.set_xy(x + padding, y + padding + i * line_height)
        # The unit's name heads the stamp, centred; the register entries read from the left.
        pdf.cell(w=box_width - 2 * padding, h=line_height, text=line, align="C" if i == 0 and named else "L")
    overlay = bytes(pdf.output())
    unmapped = glyphs_without_text(pdf)
    if not unmapped:
        return overlay
    writer = IncrementalPdfFileWriter(io.BytesIO(overlay))
    map_to_nothing(writer, unmapped)  # "สำนักงาน" must copy out as it reads (tounicode.py)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
