"""Text that can be copied and searched out of the PDFs drawn here, Thai included.

A PDF says which characters each glyph stands for in the font's ToUnicode map. Shaping can draw one character
with two glyphs: Sarabun draws สระอำ (ำ) as a nikhahit above the consonant and a sara aa after it, so "ทำ" is
three glyphs for two characters. fpdf2 gives the first of the two glyphs the character and leaves the second
out of the map, and a reader then invents a character for it (pypdf gives its code, often "&" or a control
character): "ทำ" would come out as "ทำ&". Mapping that glyph to nothing makes the text come out as it went in.
"""

from __future__ import annotations

from fpdf import FPDF
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

BFCHAR_LIMIT = 100  # entries in one beginbfchar block, as CMaps allow


def glyphs_without_text(pdf: FPDF) -> dict[str, list[int]]:
    """For each font of `pdf` (by its resource name, /F1 ...), the codes of glyphs its map leaves out: those
    drawn as the second part of a character. Read before or after `pdf.output()`."""
    found: dict[str, list[int]] = {}
    for font in pdf.fonts.values():
        subset = getattr(font, "subset", None)
        if subset is None:
            continue
        codes = sorted(code for glyph, code in subset.items() if glyph is not None and not glyph.unicode)
        if codes:
            found[f"/F{font.i}"] = codes
    return found


def map_to_nothing(writer: IncrementalPdfFileWriter, unmapped: dict[str, list[int]]) -> None:
    """Adds the `unmapped` codes to their fonts' ToUnicode maps, each standing for no text, in the writer's
    update. Fonts are found through the pages that use them; each is changed once."""
    if not unmapped:
        return
    done: set = set()
    pages = int(writer.root["/Pages"]["/Count"])
    for index in range(pages):
        _, resources = writer.find_page_for_modification(index)
        resources = resources.get_object() if resources is not None else generic.DictionaryObject()
        fonts = resources.get("/Font", generic.DictionaryObject())
        for name, codes in unmapped.items():
            reference = fonts.raw_get(name) if name in fonts else None
            if not isinstance(reference, generic.IndirectObject) or reference.reference in done:
                continue
            done.add(reference.reference)
            _complete(writer, reference.get_object(), codes)


def _complete(writer: IncrementalPdfFileWriter, font: generic.DictionaryObject, codes: list[int]) -> None:
    if "/ToUnicode" not in font:
        return
    cmap = font["/ToUnicode"].data
    blocks = b""
    for start in range(0, len(codes), BFCHAR_LIMIT):
        part = codes[start : start + BFCHAR_LIMIT]
        entries = b"".join(b"<%04X> <>\n" % code for code in part)
        blocks += b"%d beginbfchar\n%sendbfchar\n" % (len(part), entries)
    stream = generic.StreamObject(stream_data=cmap.replace(b"endcmap", blocks + b"endcmap", 1))
    stream.compress()
    font["/ToUnicode"] = writer.add_object(stream)
    writer.update_container(font)
