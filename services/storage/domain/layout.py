"""The official layout of a letter (รูปแบบหนังสือราชการ) as a PDF: หนังสือภายนอก for external letters and the
other types, บันทึกข้อความ for internal memos, after the regulation's appendices. Pure: a letter in, bytes out.

The page is A4 with the regulation's margins: 3 cm on the left, 2 cm on the right and at the bottom; the garuda
emblem (ตราครุฑ) 1.5 cm from the top edge, 3 cm high and centred on an external letter, 1.5 cm high at the left
margin on a memo. Its place is kept empty unless an image of it is configured. The parts come in the
regulation's order: ที่, ส่วนราชการเจ้าของหนังสือ, วันที่, เรื่อง, คำขึ้นต้น, อ้างถึง, สิ่งที่ส่งมาด้วย, the body,
คำลงท้าย, the signer's typed name in brackets and position (with the ปฏิบัติราชการแทน line), then
ส่วนราชการเจ้าของเรื่อง and how to reach it. Urgency (ชั้นความเร็ว) is printed in red, large, at the top; secrecy
(ชั้นความลับ) in red at the top and bottom centre of every page.

The text is Sarabun shaped by HarfBuzz, as for the receipt stamp (stamp.py). Thai has no spaces between words,
so a line breaks at a space when it can, and otherwise between letters where no vowel or tone mark would be
cut from its consonant.

An empty signature field named `signer` sits above the typed name. It is created with the document, before
anyone signs, so the signature fills a field that was already there instead of adding one: later signatures
(a second signer, a timestamp) leave the first one valid.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from fpdf import FPDF
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, append_signature_field

from services.storage.domain.stamp import FONT_FAMILY, FONT_FILE
from services.storage.domain.tounicode import glyphs_without_text, map_to_nothing
from shared import thai

BOLD_FONT_FILE: Path = FONT_FILE.with_name("Sarabun-Bold.ttf")
SIGNATURE_FIELD = "signer"

# Millimetres: the regulation gives its measures in centimetres.
PAGE_WIDTH, PAGE_HEIGHT = 210.0, 297.0
LEFT, RIGHT, BOTTOM = 30.0, 20.0, 20.0
GARUDA_TOP = 15.0
GARUDA_HEIGHT = {"external": 30.0, "memo": 15.0}
TOP_OF_NEXT_PAGES = 22.0  # below the page number
SECRECY_TOP, SECRECY_BOTTOM = 4.0, PAGE_HEIGHT - 13.0
PAGE_NUMBER_TOP = 12.0
TEXT_WIDTH = PAGE_WIDTH - LEFT - RIGHT
CENTRE = PAGE_WIDTH / 2
PARAGRAPH_INDENT = 25.0  # ย่อหน้า: 2.5 cm from the left margin
ISSUER_LEFT = 120.0  # ส่วนราชการเจ้าของหนังสือ stands on the right, level with ที่
SIGNATURE_CENTRE = 130.0  # the closing, the signature and the typed name share one column
SIGNATURE_FIELD_SIZE = (66.0, 20.0)
SIGNATURE_SPACE = 24.0  # between the closing and the typed name: where the signature goes

# Points. Sarabun's letters are larger than TH Sarabun PSK's at the same size; 15 pt here reads like the
# 16 pt the regulation's examples use.
TEXT_SIZE = 15.0
LINE = TEXT_SIZE * 1.45 * 25.4 / 72  # Thai needs room above and below the line for stacked marks
MEMO_TITLE_SIZE = 26.0
URGENCY_SIZE = 24.0
SECRECY_SIZE = 20.0
RED = (200, 0, 0)
BLACK = (0, 0, 0)

BLANK = "............................"
URGENCY_TH = {"urgent": "ด่วน", "very_urgent": "ด่วนมาก", "most_urgent": "ด่วนที่สุด"}
SECRECY_TH = {"confidential": "ลับ", "secret": "ลับมาก", "top_secret": "ลับที่สุด"}


@dataclass(frozen=True)
class Reference:
    """อ้างถึง: an earlier letter by its number, date and subject."""

    doc_no: str
    doc_date: date | None = None
    subject: str = ""

    def text(self) -> str:
        parts = [f"ที่ {self.doc_no}"]
        if self.doc_date:
            parts.append(f"ลงวันที่ {thai.date_th(self.doc_date)}")
        if self.subject:
            parts.append(f"เรื่อง {self.subject}")
        return " ".join(parts)


@dataclass(frozen=True)
class Letter:
    """What the page says. A draft has no number or date yet: their places are left blank."""

    letter_type: str
    org_name: str  # ส่วนราชการเจ้าของหนังสือ
    subject: str
    body: str = ""
    salutation: str = ""  # คำขึ้นต้น; เรียน when not given
    to_text: str = ""  # ถึง, e.g. อธิบดีกรมบัญชีกลาง
    references: tuple[Reference, ...] = ()
    enclosures: tuple[str, ...] = ()
    closing: str = ""  # คำลงท้าย; ขอแสดงความนับถือ on an external letter when not given
    signer_name: str = ""
    signer_position: str = ""
    on_behalf_text: str = ""  # e.g. ปฏิบัติราชการแทน อธิบดีกรมบัญชีกลาง
    owning_unit: str = ""  # ส่วนราชการเจ้าของเรื่อง
    phone: str = ""
    email: str = ""
    urgency: str = "normal"
    secrecy: str = "normal"
    deliver_by: datetime | None = None  # ด่วนภายใน
    doc_no: str | None = None
    doc_date: date | None = None
    created_at: datetime | None = None  # the PDF's creation date; fixed, the same letter gives the same bytes

    @property
    def is_memo(self) -> bool:
        return self.letter_type == "internal"


@dataclass(frozen=True)
class SignatureBox:
    """Where the signature field is: a page (from 0) and a rectangle in PDF points from the lower left."""

    page: int
    rect: tuple[float, float, float, float]


@dataclass
class _Cursor:
    y: float
    page_count: int = 1
    signature: SignatureBox | None = field(default=None)


def render_letter(letter: Letter, garuda: Path | None = None) -> bytes:
    """The letter in its official layout, with an empty signature field `signer` above the typed name."""
    pdf, box = _draw(letter, garuda)
    return _with_signature_field(bytes(pdf.output()), box, glyphs_without_text(pdf))


def _draw(letter: Letter, garuda: Path | None) -> tuple[FPDF, SignatureBox]:
    pdf = _LetterPdf(letter)
    page = _Page(pdf)
    pdf.add_page()
    if letter.is_memo:
        _memo_head(page, letter, garuda)
    else:
        _external_head(page, letter, garuda)
    _references_and_enclosures(page, letter)
    _body(page, letter.body)
    box = _signature_block(page, letter)
    if not letter.is_memo:
        _owning_unit(page, letter)
    return pdf, box


class _LetterPdf(FPDF):
    """A4 pages whose header and footer carry the secrecy mark and, from page 2, the page number."""

    def __init__(self, letter: Letter):
        super().__init__(unit="mm", format="A4")
        self.letter = letter
        self.set_auto_page_break(False)  # pages are broken by _Page, which knows what must stay together
        self.set_margins(LEFT, GARUDA_TOP, RIGHT)
        self.c_margin = 0
        if letter.created_at is not None:
            self.set_creation_date(letter.created_at)
        self.set_lang("th")
        self.set_title(letter.subject or "หนังสือราชการ")
        self.set_creator("Sarabun")
        self.add_font(FONT_FAMILY, "", FONT_FILE)
        self.add_font(FONT_FAMILY, "B", BOLD_FONT_FILE)
        self.set_text_shaping(True, script="thai", language="th")

    def header(self) -> None:
        self._secrecy(SECRECY_TOP)
        if self.page_no() > 1:
            # Page numbers from the second page on, centred at the top: - 2 -
            self._centred(f"- {self.page_no()} -", PAGE_NUMBER_TOP, TEXT_SIZE, BLACK, "")

    def footer(self) -> None:
        self._secrecy(SECRECY_BOTTOM)

    def _secrecy(self, y: float) -> None:
        mark = SECRECY_TH.get(self.letter.secrecy)
        if mark:
            self._centred(mark, y, SECRECY_SIZE, RED, "B")

    def _centred(self, text: str, y: float, size: float, colour: tuple[int, int, int], style: str) -> None:
        self.set_font(FONT_FAMILY, style, size)
        self.set_text_color(*colour)
        self.set_xy(0, y)
        self.cell(w=PAGE_WIDTH, h=size * 0.5, text=text, align="C")
        self.set_text_color(*BLACK)


class _Page:
    """Writes lines down the pages, starting a new page when the next lines would not fit."""

    def __init__(self, pdf: _LetterPdf):
        self.pdf = pdf
        self.y = GARUDA_TOP

    def measure(self, size: float = TEXT_SIZE, style: str = "") -> Callable[[str], float]:
        """The width of a text in millimetres, from the font's advance widths without shaping: for Thai they
        are the shaped widths (marks take no room), kerning only ever narrows Latin text, and shaping every
        candidate line (a millisecond each) would make a long letter take half a minute."""
        self.pdf.set_font(FONT_FAMILY, style, size)
        advances = self.pdf.current_font.cw
        scale = size / 1000 / self.pdf.k

        def width(text: str) -> float:
            return sum(advances[ord(ch)] for ch in text) * scale

        return width

    def room_for(self, height: float) -> None:
        if self.y + height > PAGE_HEIGHT - BOTTOM:
            self.pdf.add_page()
            self.y = TOP_OF_NEXT_PAGES

    def write(
        self,
        text: str,
        x: float,
        width: float,
        *,
        align: str = "L",
        size: float = TEXT_SIZE,
        style: str = "",
        colour: tuple[int, int, int] = BLACK,
        advance: bool = True,
    ) -> None:
        """One line at the cursor."""
        height = LINE * size / TEXT_SIZE
        self.room_for(height)
        self.pdf.set_font(FONT_FAMILY, style, size)
        self.pdf.set_text_color(*colour)
        self.pdf.set_xy(x, self.y)
        self.pdf.cell(w=width, h=height, text=text, align=align)
        self.pdf.set_text_color(*BLACK)
        if advance:
            self.y += height

    def labelled(self, label: str, text: str, x: float = LEFT) -> None:
        """`label  text`, the text wrapped under itself (hanging indent), as เรื่อง and อ้างถึง are set."""
        width = PAGE_WIDTH - RIGHT - x
        label_width = self.measure(style="B")(label) + 4.0 if label else 0.0
        lines = wrap(text, width - label_width, self.measure()) or [""]
        for i, line in enumerate(lines):
            if i == 0 and label:
                self.write(label, x, label_width, style="B", advance=False)
            self.write(line, x + label_width, width - label_width)

    def paragraph(self, text: str, indent: float = PARAGRAPH_INDENT) -> None:
        """A paragraph of the body: the first line indented, the others from the left margin."""
        lines = wrap(text, TEXT_WIDTH, self.measure(), first_width=TEXT_WIDTH - indent)
        for i, line in enumerate(lines):
            x = LEFT + (indent if i == 0 else 0.0)
            self.write(line, x, PAGE_WIDTH - RIGHT - x)


def _external_head(page: _Page, letter: Letter, garuda: Path | None) -> None:
    pdf = page.pdf
    _urgency(page, letter, LEFT, "L")
    if garuda is not None:
        pdf.image(str(garuda), x="C", y=GARUDA_TOP, h=GARUDA_HEIGHT["external"])
    page.y = GARUDA_TOP + GARUDA_HEIGHT["external"] + 2.0
    top = page.y
    page.write(f"ที่ {letter.doc_no or BLANK}", LEFT, ISSUER_LEFT - LEFT - 2.0, advance=False)
    issuer_width = PAGE_WIDTH - RIGHT - ISSUER_LEFT
    for line in _lines(letter.org_name, issuer_width, page):
        page.write(line, ISSUER_LEFT, issuer_width)
    page.y = max(page.y, top + LINE)
    # วันที่ starts at the centre of the page, below the issuer.
    page.write(thai.date_th(letter.doc_date) if letter.doc_date else BLANK, CENTRE, PAGE_WIDTH - RIGHT - CENTRE)
    page.labelled("เรื่อง", letter.subject)
    page.labelled(letter.salutation or "เรียน", letter.to_text)


def _memo_head(page: _Page, letter: Letter, garuda: Path | None) -> None:
    pdf = page.pdf
    _urgency(page, letter, PAGE_WIDTH - RIGHT - 60.0, "R", width=60.0)
    if garuda is not None:
        pdf.image(str(garuda), x=LEFT, y=GARUDA_TOP, h=GARUDA_HEIGHT["memo"])
    page.y = GARUDA_TOP + GARUDA_HEIGHT["memo"] - LINE * MEMO_TITLE_SIZE / TEXT_SIZE
    page.write("บันทึกข้อความ", LEFT, TEXT_WIDTH, align="C", size=MEMO_TITLE_SIZE, style="B")
    page.y = max(page.y, GARUDA_TOP + GARUDA_HEIGHT["memo"]) + 2.0
    unit = " ".join(part for part in (letter.org_name, f"โทร. {letter.phone}" if letter.phone else "") if part)
    page.labelled("ส่วนราชการ", unit)
    page.write("ที่", LEFT, 8.0, style="B", advance=False)
    page.write(letter.doc_no or BLANK, LEFT + 8.0, CENTRE - LEFT - 10.0, advance=False)
    page.write("วันที่", CENTRE, 12.0, style="B", advance=False)
    page.write(thai.date_th(letter.doc_date) if letter.doc_date else BLANK, CENTRE + 12.0, 60.0)
    page.labelled("เรื่อง", letter.subject)
    page.y += LINE / 3
    page.labelled(letter.salutation or "เรียน", letter.to_text)


def _urgency(page: _Page, letter: Letter, x: float, align: str, width: float = 60.0) -> None:
    mark = URGENCY_TH.get(letter.urgency)
    if not mark:
        return
    page.y = GARUDA_TOP
    page.write(mark, x, width, align=align, size=URGENCY_SIZE, style="B", colour=RED)
    if letter.deliver_by is not None:
        local = letter.deliver_by.astimezone(thai.BANGKOK)
        due = f"ด่วนภายใน {thai.date_th(letter.deliver_by)} เวลา {local:%H.%M} น."
        page.write(due, x, width, align=align, size=TEXT_SIZE - 2, colour=RED)


def _references_and_enclosures(page: _Page, letter: Letter) -> None:
    _listed(page, "อ้างถึง", [reference.text() for reference in letter.references])
    _listed(page, "สิ่งที่ส่งมาด้วย", list(letter.enclosures))


def _listed(page: _Page, label: str, items: list[str]) -> None:
    """One item on the label's line; several numbered, each on its own line."""
    if len(items) == 1:
        page.labelled(label, items[0])
    elif items:
        label_width = page.measure(style="B")(label) + 4.0
        page.write(label, LEFT, label_width, style="B", advance=False)
        for number, item in enumerate(items, start=1):
            page.labelled(f"{number}.", item, x=LEFT + label_width)


def _body(page: _Page, body: str) -> None:
    page.y += LINE / 3
    for text in body.splitlines():
        if text.strip():
            page.paragraph(text.strip())


def _signature_block(page: _Page, letter: Letter) -> SignatureBox:
    """คำลงท้าย, room for the signature with its field, (typed name), position and the on-behalf line, kept on one
    page together."""
    closing = letter.closing or ("" if letter.is_memo else "ขอแสดงความนับถือ")
    below = [f"({letter.signer_name})" if letter.signer_name else f"({BLANK})"]
    below += [line for line in (letter.signer_position, letter.on_behalf_text) if line]
    column = 2 * min(SIGNATURE_CENTRE - CENTRE + 40.0, PAGE_WIDTH - RIGHT - SIGNATURE_CENTRE)
    left = SIGNATURE_CENTRE - column / 2
    page.y += LINE / 2
    page.room_for(LINE * (len(below) + 1) + SIGNATURE_SPACE)
    if closing:
        page.write(closing, left, column, align="C")
    width, height = SIGNATURE_FIELD_SIZE
    top = page.y + (SIGNATURE_SPACE - height) / 2
    box = SignatureBox(
        page=page.pdf.page_no() - 1,
        rect=(
            _pt(SIGNATURE_CENTRE - width / 2),
            _pt(PAGE_HEIGHT - top - height),
            _pt(SIGNATURE_CENTRE + width / 2),
            _pt(PAGE_HEIGHT - top),
        ),
    )
    page.y += SIGNATURE_SPACE
    for line in below:
        for part in _lines(line, column, page):
            page.write(part, left, column, align="C")
    return box


def _owning_unit(page: _Page, letter: Letter) -> None:
    """ส่วนราชการเจ้าของเรื่อง and how to reach it, at the left margin below the signature."""
    lines = [letter.owning_unit]
    if letter.phone:
        lines.append(f"โทร. {letter.phone}")
    if letter.email:
        lines.append(f"ไปรษณีย์อิเล็กทรอนิกส์ {letter.email}")
    lines = [line for line in lines if line]
    if not lines:
        return
    page.y += LINE
    page.room_for(LINE * len(lines))
    for line in lines:
        page.labelled("", line)


def _lines(text: str, width: float, page: _Page) -> list[str]:
    return [line for paragraph in text.splitlines() for line in wrap(paragraph, width, page.measure())]


def _pt(mm: float) -> float:
    return round(mm * 72 / 25.4, 2)


def _with_signature_field(pdf: bytes, box: SignatureBox, unmapped: dict[str, list[int]]) -> bytes:
    """Adds the empty signature field `signer` as an incremental update of the rendered document, with the text
    map made whole (tounicode.py)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    map_to_nothing(writer, unmapped)
    append_signature_field(
        writer,
        SigFieldSpec(SIGNATURE_FIELD, on_page=box.page, box=box.rect, readable_field_name="ลงนาม"),
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# Line breaking. Thai is written without spaces between words; a space separates phrases and sentences. A line
# breaks at a space when it can. A run too long for the rest of the line breaks between letters, never before a
# vowel or tone mark written above, below or after its consonant, nor after a vowel written before it; and
# rather where a syllable surely ends (after ะ ำ or the silent mark ์, before เ แ โ ใ ไ) when one is near.
_FOLLOWING = set("ะาำๅๆฯ")
_LEADING = set("เแโใไ")
_ENDS_SYLLABLE = set("ะำ์ๆฯ")
_LOOK_BACK = 8  # letters: how far back a syllable end is worth a shorter line
FILL_BELOW = 2 / 3  # a line shorter than this share of its width takes the first syllables of the next run


def wrap(text: str, width: float, measure: Callable[[str], float], first_width: float | None = None) -> list[str]:
    """`text` in lines no wider than `width` (the first no wider than `first_width`), by `measure`."""
    lines: list[str] = []
    line = ""

    def room() -> float:
        return first_width if first_width is not None and not lines else width

    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if measure(candidate) <= room():
            line = candidate
            continue
        if line:
            # A Thai run goes whole to the next line when this one is full enough; otherwise its first syllables
            # fill this one, rather than leave a gap a third of the line wide. Other scripts move the word.
            head, rest = "", word
            if _is_thai(word) and measure(line) < FILL_BELOW * room():
                head, rest = _split(word, room() - measure(f"{line} "), measure)
            lines.append(f"{line} {head}" if head else line)
            word = rest
        while word:
            head, rest = _split(word, room(), measure)
            if not rest:
                break  # the rest of the run fits on a line
            if not head:  # not one syllable fits a whole line: cut after the first letter and its marks
                cut = next((i for i in range(1, len(word)) if _may_break_before(word, i)), len(word))
                head, rest = word[:cut], word[cut:]
            lines.append(head)
            word = rest
        line = word
    if line:
        lines.append(line)
    return lines


def _is_thai(word: str) -> bool:
    return any("\u0e00" <= ch <= "\u0e7f" for ch in word)


def _split(word: str, width: float, measure: Callable[[str], float]) -> tuple[str, str]:
    """The longest head of `word` that fits in `width`, cut where a break is allowed (preferring a syllable's
    end), and the rest: (word, "") when all of it fits, ("", word) when not even one syllable does. Measures
    only as far as a line reaches, so a run of any length costs no more than a line's worth."""
    fits, reached = 0, 0.0
    for i in range(1, len(word) + 1):
        if i < len(word) and not _may_break_before(word, i):
            continue
        # Widths add up letter by letter (no kerning in the measure), so only the new part is measured.
        reached += measure(word[fits:i]) if fits else measure(word[:i])
        if reached > width:
            break
        if i == len(word):
            return word, ""
        fits = i
    if fits == 0:
        return "", word
    for i in range(fits, max(fits - _LOOK_BACK, 0), -1):
        if _may_break_before(word, i) and (word[i - 1] in _ENDS_SYLLABLE or word[i] in _LEADING):
            return word[:i], word[i:]
    return word[:fits], word[fits:]


def _may_break_before(word: str, i: int) -> bool:
    here, before = word[i], word[i - 1]
    return unicodedata.category(here) != "Mn" and here not in _FOLLOWING and before not in _LEADING
