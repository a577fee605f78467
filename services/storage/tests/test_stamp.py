"""The receipt stamp renderer (ตรารับ): PDF bytes and what the stamp says in, a stamped copy out."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader, PdfWriter

from services.storage.domain.stamp import MARGIN, ReceiptStamp, StampError, stamp_pdf
from services.storage.tests import files

STAMP = ReceiptStamp(unit_name="กรมบัญชีกลาง", receive_no=1234, received_at=datetime(2026, 11, 24, 2, 5, tzinfo=UTC))


def page_text(data: bytes, index: int = 0) -> str:
    return PdfReader(io.BytesIO(data)).pages[index].extract_text()


def stamp_box(data: bytes) -> tuple[float, float, float, float]:
    """The stamp's border on page 1 as a reader sees the page (after /Rotate): left, bottom, right, top."""
    page = PdfReader(io.BytesIO(data)).pages[0]
    width, height = float(page.cropbox.width), float(page.cropbox.height)
    rectangles = []

    def before(operator, args, cm, _tm):
        if operator == b"re":
            x, y, w, h = (float(a) for a in args)
            rectangles.append([_apply(cm, px, py) for px, py in ((x, y), (x + w, y + h))])

    page.extract_text(visitor_operand_before=before)
    # The last rectangle drawn is the stamp's border (pypdf clips the overlay to the page with one before it).
    corners = [_shown(page.rotation % 360, width, height, u, v) for u, v in rectangles[-1]]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return min(xs), min(ys), max(xs), max(ys)


def _apply(cm, x: float, y: float) -> tuple[float, float]:
    return x * cm[0] + y * cm[2] + cm[4], x * cm[1] + y * cm[3] + cm[5]


def _shown(rotation: int, width: float, height: float, u: float, v: float) -> tuple[float, float]:
    """Page coordinates to where a reader sees them once /Rotate turned the page clockwise."""
    return {0: (u, v), 90: (v, width - u), 180: (width - u, height - v), 270: (height - v, u)}[rotation]


def test_the_stamp_says_unit_number_buddhist_era_date_and_bangkok_time():
    assert STAMP.lines() == ["กรมบัญชีกลาง", "เลขรับ 1234", "วันที่ 24 พฤศจิกายน 2569", "เวลา 09.05 น."]
    # Late on 31 December in UTC is already New Year's Day in Bangkok, and a new Buddhist-era year.
    new_year = ReceiptStamp("กรมสรรพากร", 1, datetime(2026, 12, 31, 20, 30, tzinfo=UTC))
    assert new_year.lines()[2:] == ["วันที่ 1 มกราคม 2570", "เวลา 03.30 น."]
    assert ReceiptStamp("", 5, STAMP.received_at).lines()[0] == "เลขรับ 5"


def test_page_one_carries_the_stamp_and_the_rest_is_untouched():
    original = files.real_pdf(3)
    kept = bytes(original)

    stamped = stamp_pdf(original, STAMP)

    assert original == kept
    assert len(PdfReader(io.BytesIO(stamped)).pages) == 3
    text = page_text(stamped)
    for line in STAMP.lines():
        assert line in text
    assert "Original page 1 of 3" in text
    for index in (1, 2):
        assert page_text(stamped, index) == page_text(original, index)
        assert "เลขรับ" not in page_text(stamped, index)
    # Written as an incremental update: the original file is the copy's first part, byte for byte.
    assert stamped.startswith(original)
    assert len(stamped) > len(original)


def test_the_stamp_is_drawn_in_embedded_sarabun():
    stamped = stamp_pdf(files.real_pdf(), STAMP)
    fonts = PdfReader(io.BytesIO(stamped)).pages[0]["/Resources"]["/Font"]
    embedded = [f.get_object() for f in fonts.values() if str(f.get_object()["/BaseFont"]).endswith("+Sarabun")]
    assert len(embedded) == 1, [str(f.get_object()["/BaseFont"]) for f in fonts.values()]
    descendant = embedded[0]["/DescendantFonts"][0].get_object()
    assert "/FontFile2" in descendant["/FontDescriptor"]  # the TrueType program travels with the file
    assert "/ToUnicode" in embedded[0]  # so the Thai text can be searched and copied


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_the_stamp_sits_in_the_top_right_corner_as_the_page_is_shown(rotation):
    stamped = stamp_pdf(files.real_pdf(rotate=rotation), STAMP)
    page = PdfReader(io.BytesIO(stamped)).pages[0]
    width, height = float(page.cropbox.width), float(page.cropbox.height)
    shown_width, shown_height = (height, width) if rotation in (90, 270) else (width, height)

    left, bottom, right, top = stamp_box(stamped)

    assert page.rotation == rotation  # the page itself is not turned; only the stamp is drawn turned
    assert right == pytest.approx(shown_width - MARGIN, abs=0.5)
    assert top == pytest.approx(shown_height - MARGIN, abs=0.5)
    assert left > shown_width / 2 and bottom > shown_height / 2


def test_a_long_name_on_a_small_page_shrinks_the_stamp_to_fit():
    name = "กรมบัญชีกลาง กระทรวงการคลัง ส่วนบริหารงานทั่วไป กลุ่มงานสารบรรณและธุรการ ฝ่ายรับหนังสือภายนอก"
    stamped = stamp_pdf(files.real_pdf(size=(300, 200)), ReceiptStamp(name, 98765, STAMP.received_at))

    left, bottom, right, top = stamp_box(stamped)

    assert 0 <= left < right <= 300 and 0 <= bottom < top <= 200
    assert name in page_text(stamped)


def test_the_same_input_renders_the_same_bytes():
    # A copy rendered again after a crash overwrites the stored one; it must be the same copy.
    original = files.real_pdf(2)
    first, again = stamp_pdf(original, STAMP), stamp_pdf(original, STAMP)
    assert hashlib.sha256(first).digest() == hashlib.sha256(again).digest()


def _encrypted() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(files.real_pdf())))
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _without_pages() -> bytes:
    out = io.BytesIO()
    PdfWriter().write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (files.png(), "not a PDF"),
        (b"", "not a PDF"),
        (files.pdf(2000), "damaged PDF"),  # PDF magic bytes, then noise: passes the upload check
        (files.real_pdf()[:400], "damaged PDF"),
        (_encrypted(), "encrypted PDF"),
        (_without_pages(), "without pages"),
    ],
)
def test_what_cannot_be_stamped_is_refused_with_a_clear_reason(data, reason):
    with pytest.raises(StampError, match=reason):
        stamp_pdf(data, STAMP)


def test_a_unit_name_with_sara_am_copies_out_as_it_reads():
    # สระอำ is drawn as two glyphs; the second must not come out as a made-up character.
    stamp = ReceiptStamp("สำนักงานปลัดกระทรวงการคลัง", 7, STAMP.received_at)
    assert "\nสำนักงานปลัดกระทรวงการคลัง\nเลขรับ 7\n" in page_text(stamp_pdf(files.real_pdf(1), stamp))
