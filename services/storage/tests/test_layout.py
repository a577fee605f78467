"""The official layout: the parts of หนังสือภายนอก and บันทึกข้อความ in the regulation's order with their Thai
intact, the blanks of a draft, the marks in red, the garuda only when configured, and an empty signature field
above the typed name."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import UTC, datetime

from PIL import Image
from pypdf import PdfReader

from services.storage.domain.layout import PAGE_HEIGHT, SIGNATURE_FIELD, render_letter, wrap
from services.storage.tests.signed import letter

RED_FILL = re.compile(rb"0\.78\d* 0(\.0+)? 0(\.0+)? rg")


def _text(pdf: bytes) -> str:
    """All pages' text with the line breaks and spaces taken out: Thai words may be broken across lines."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return "".join(re.sub(r"\s+", "", page.extract_text()) for page in pages)


def _in_order(text: str, parts: list[str]) -> None:
    at = 0
    for part in parts:
        found = text.find(re.sub(r"\s+", "", part), at)
        assert found >= 0, f"{part!r} missing, or out of order, after position {at}"
        at = found + 1


def test_an_external_letter_has_its_parts_in_the_regulations_order():
    pdf = render_letter(letter("external"))

    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == (595.28, 841.89)  # A4
    _in_order(
        _text(pdf),
        [
            "ที่ กค 0402/123",
            "กรมบัญชีกลาง ถนนพระรามที่ 6 กรุงเทพฯ 10400",  # ส่วนราชการเจ้าของหนังสือ
            "24 พฤศจิกายน 2569",  # วันที่, Buddhist era, the month's Thai name
            "เรื่อง ขอเชิญประชุมคณะทำงานพัฒนาระบบสารบรรณอิเล็กทรอนิกส์",
            "เรียน อธิบดีกรมสรรพากร",
            "อ้างถึง ที่ กค 0402/99 ลงวันที่ 1 พฤศจิกายน 2569 เรื่อง การประชุมครั้งที่ 2",
            "สิ่งที่ส่งมาด้วย 1. กำหนดการประชุม 2. แบบตอบรับการเข้าร่วมประชุม",
            "ด้วยกรมบัญชีกลางกำหนดจัดประชุมคณะทำงาน",
            "จึงเรียนมาเพื่อโปรดพิจารณา",
            "ขอแสดงความนับถือ",  # คำลงท้าย of an external letter when none is given
            "(นายสมศักดิ์ รักงาน)",
            "รองอธิบดีกรมบัญชีกลาง",
            "ปฏิบัติราชการแทน อธิบดีกรมบัญชีกลาง",
            "กองงบประมาณ",  # ส่วนราชการเจ้าของเรื่อง
            "โทร. 0 2127 7000 ต่อ 4321",
            "ไปรษณีย์อิเล็กทรอนิกส์ budget@cgd.go.th",
        ],
    )


def test_a_memo_has_the_memo_heading_and_no_closing():
    pdf = render_letter(letter("internal", closing=""))

    text = _text(pdf)
    _in_order(
        text,
        [
            "บันทึกข้อความ",
            "ส่วนราชการ กรมบัญชีกลาง ถนนพระรามที่ 6 กรุงเทพฯ 10400 โทร. 0 2127 7000 ต่อ 4321",
            "ที่ กค 0402/123",
            "วันที่ 24 พฤศจิกายน 2569",
            "เรื่อง ขอเชิญประชุม",
            "เรียน อธิบดีกรมสรรพากร",
            "ด้วยกรมบัญชีกลาง",
            "(นายสมศักดิ์ รักงาน)",
            "ปฏิบัติราชการแทน อธิบดีกรมบัญชีกลาง",
        ],
    )
    assert "ขอแสดงความนับถือ" not in text


def test_thai_comes_out_as_it_went_in():
    subject = "น้ำท่วมที่ทำการ ฯลฯ สำนักงานปฏิบัติ ๓๐"
    text = PdfReader(io.BytesIO(render_letter(letter(subject=subject)))).pages[0].extract_text()
    # Exactly these code points: stacked vowels and tone marks neither lost, reordered nor decomposed, and สระอำ
    # (two glyphs for one character) without a made-up character after it.
    assert f"เรื่อง {subject}\n" in text
    assert unicodedata.is_normalized("NFC", text)


def test_a_draft_without_number_or_date_leaves_them_blank():
    text = PdfReader(io.BytesIO(render_letter(letter(doc_no=None, doc_date=None)))).pages[0].extract_text()
    assert re.search(r"ที่ \.{6,}", text)
    assert "กค 0402/123" not in text and "24 พฤศจิกายน 2569" not in text


def test_urgency_and_secrecy_are_printed_in_red_on_every_page():
    long_body = "\n".join(f"ข้อ {n}. ข้อความทดสอบการขึ้นหน้าใหม่ของหนังสือราชการ" for n in range(80))
    pdf = render_letter(letter(urgency="most_urgent", secrecy="confidential", body=long_body))

    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) > 1
    assert "ด่วนที่สุด" in pages[0].extract_text()
    for number, page in enumerate(pages, start=1):
        text = page.extract_text()
        assert text.count("ลับ") >= 2, f"page {number}: secrecy at top and bottom"
        assert RED_FILL.search(page.get_contents().get_data())
        if number > 1:
            assert f"- {number} -" in text  # page numbers from the second page
    plain = render_letter(letter())
    assert not RED_FILL.search(PdfReader(io.BytesIO(plain)).pages[0].get_contents().get_data())


def test_the_deadline_of_an_urgent_letter_is_shown_with_its_urgency():
    pdf = render_letter(letter(urgency="urgent", deliver_by=datetime(2026, 11, 25, 5, 0, tzinfo=UTC)))
    assert "ด่วนภายใน 25 พฤศจิกายน 2569 เวลา 12.00 น." in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_the_garuda_is_drawn_only_when_an_image_is_configured(tmp_path):
    image = tmp_path / "garuda.png"
    Image.new("RGB", (90, 100), (120, 80, 20)).save(image)

    assert len(PdfReader(io.BytesIO(render_letter(letter()))).pages[0].images) == 0
    external = PdfReader(io.BytesIO(render_letter(letter(), garuda=image))).pages[0]
    memo = PdfReader(io.BytesIO(render_letter(letter("internal"), garuda=image))).pages[0]
    assert len(external.images) == 1 and len(memo.images) == 1
    # 3 cm high and centred on an external letter; 1.5 cm high at the left margin of a memo.
    for page, height_cm, centred in ((external, 3.0, True), (memo, 1.5, False)):
        content = page.get_contents().get_data().decode("latin-1")
        width, _, _, height, x, _ = _image_matrix(content)
        assert abs(height - height_cm / 2.54 * 72) < 0.5
        assert abs((x + width / 2) - 595.28 / 2) < 1 if centred else abs(x - 3 / 2.54 * 72) < 0.5


def _image_matrix(content: str) -> tuple[float, ...]:
    match = re.search(r"q\s+([\d.]+) 0 0 ([\d.]+) ([\d.]+) ([\d.]+) cm\s*/I", content)
    assert match, "the image is drawn with a plain scale-and-move matrix"
    width, height, x, y = (float(v) for v in match.groups())
    return width, 0.0, 0.0, height, x, y


def test_an_empty_signature_field_sits_above_the_typed_name():
    pdf = render_letter(letter())
    reader = PdfReader(io.BytesIO(pdf))
    fields = reader.get_fields()
    assert set(fields) == {SIGNATURE_FIELD}
    assert fields[SIGNATURE_FIELD].get("/FT") == "/Sig" and "/V" not in fields[SIGNATURE_FIELD]  # not signed yet
    page = reader.pages[0]
    widget = next(a.get_object() for a in page["/Annots"] if a.get_object().get("/T") == SIGNATURE_FIELD)
    left, bottom, right, top = (float(v) for v in widget["/Rect"])

    name_y = []
    page.extract_text(visitor_text=lambda text, cm, tm, *_: name_y.append(tm[5]) if "สมศักดิ์" in text else None)
    closing_y = []
    page.extract_text(visitor_text=lambda text, cm, tm, *_: closing_y.append(tm[5]) if "นับถือ" in text else None)
    assert name_y and closing_y
    assert closing_y[0] > top > bottom > name_y[-1]  # between the closing and the (typed name)
    assert left < 130 / 25.4 * 72 < right  # over the signature column
    assert top < PAGE_HEIGHT / 25.4 * 72


def test_thai_lines_break_at_spaces_and_never_split_a_consonant_from_its_marks():
    def measure(text: str) -> float:
        return len(text)

    assert wrap("ขอเชิญ ประชุม ด่วน", 8, measure) == ["ขอเชิญ", "ประชุม", "ด่วน"]
    # A short line takes the next run's first syllables, cut after a syllable that surely ends there (ะ).
    assert wrap("ขอ ประชุมด่วน", 8, measure) == ["ขอ ประ", "ชุมด่วน"]
    run = "ด้วยกรมบัญชีกลางมีความประสงค์จะจัดประชุมคณะทำงานพัฒนาระบบ"
    lines = wrap(run, 10, measure)
    assert "".join(lines) == run and all(len(line) <= 10 for line in lines)
    for line in lines[1:]:
        assert unicodedata.category(line[0]) != "Mn" and line[0] not in "ะาำ"  # no mark starts a line
    for line in lines[:-1]:
        assert line[-1] not in "เแโใไ"  # a leading vowel stays with its consonant
    assert wrap("", 10, measure) == [] and wrap("ก" * 25, 10, measure) == ["ก" * 10, "ก" * 10, "ก" * 5]
