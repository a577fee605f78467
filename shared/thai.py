"""Thai text and dates: NFC on the way in, Buddhist-era dates in Asia/Bangkok on the way out."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BANGKOK = ZoneInfo("Asia/Bangkok")
BE_OFFSET = 543
MONTHS = (
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
)
# Control characters (C0, DEL, C1) and bidi overrides that can disguise text; ordinary newlines and tabs stay.
_STRIP = {chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in "\n\t"} | {
    "\u061c",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
}


# สระอำ is often typed as nikhahit + sara aa, sometimes with the tone mark in between (น + ํ + ้ + า).
# NFC leaves that alone (the two forms are only compatibility-equivalent), so it is composed here, or a
# search for "นำ" would miss "นํา".
_SARA_AM = re.compile("\u0e4d([\u0e48-\u0e4b]?)\u0e32")


# Lone UTF-16 surrogates: JSON's "\\ud800" escape decodes to one, but no text can be stored or sent with it.
_SURROGATES = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """NFC-normalised, สระอำ composed, without control, bidi-override or lone surrogate characters, trimmed."""
    text = _SARA_AM.sub("\\1\u0e33", unicodedata.normalize("NFC", _SURROGATES.sub("", text)))
    return "".join(ch for ch in text if ch not in _STRIP).strip()


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """The date in Bangkok: the directory's validity dates are Bangkok days."""
    return now().astimezone(BANGKOK).date()


def buddhist_year(moment: datetime | date | None = None) -> int:
    """The Buddhist-era calendar year in Bangkok; registers restart on 1 January of it."""
    moment = moment or now()
    if isinstance(moment, datetime):
        moment = moment.astimezone(BANGKOK)
    return moment.year + BE_OFFSET


def date_th(moment: datetime | date) -> str:
    """`23 พฤศจิกายน 2569`."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(BANGKOK)
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year + BE_OFFSET}"
