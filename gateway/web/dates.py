"""Dates as people read them: "23 พ.ย. 2569 14:05 น." in Asia/Bangkok with the Buddhist-era year."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from shared import thai

# The abbreviations of the regulation's own forms; the full names are in shared.thai.MONTHS.
MONTHS_SHORT = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def moment(value) -> datetime | date | None:
    """An API value (ISO text, with or without an offset) as a Bangkok datetime, or a plain date."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime | date):
        parsed = value
    else:
        text = str(value).replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)
        except ValueError:
            return None
    if isinstance(parsed, datetime):
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)  # the services store UTC
        return parsed.astimezone(thai.BANGKOK)
    return parsed


def short_date(value, lang: str = "th") -> str:
    found = moment(value)
    if found is None:
        return ""
    if lang == "en":
        return f"{found.day} {MONTHS_EN[found.month - 1]} {found.year}"
    return f"{found.day} {MONTHS_SHORT[found.month - 1]} {found.year + thai.BE_OFFSET}"


def date_time(value, lang: str = "th") -> str:
    """`23 พ.ย. 2569 14:05 น.`; a plain date stays a date."""
    found = moment(value)
    if found is None:
        return ""
    day = short_date(found, lang)
    if not isinstance(found, datetime):
        return day
    clock = found.strftime("%H:%M")
    return f"{day}, {clock}" if lang == "en" else f"{day} {clock} น."


def long_date(value) -> str:
    found = moment(value)
    return thai.date_th(found) if found is not None else ""


def bangkok_day(value) -> date | None:
    found = moment(value)
    if found is None:
        return None
    return found.date() if isinstance(found, datetime) else found


# What people type into a date field: the Buddhist-era year always, the month as a number, a Thai name or
# abbreviation (with or without its dots) or an English one, and for a moment a time after the date.
EARLIEST_BE = 2400  # a smaller year is a Gregorian year typed by mistake (2026), never meant as 2026 BE
LATEST_BE = 2800
END_OF_OFFICE_HOURS = time(16, 30)  # a deadline given as a day alone runs to the end of that working day
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_MONTH_WORDS = {
    **{name: n for n, name in enumerate(thai.MONTHS, 1)},
    **{short.replace(".", ""): n for n, short in enumerate(MONTHS_SHORT, 1)},
    **{name.lower(): n for n, name in enumerate(MONTHS_EN, 1)},
    **{
        name: n
        for n, name in enumerate(
            (
                "january",
                "february",
                "march",
                "april",
                "may",
                "june",
                "july",
                "august",
                "september",
                "october",
                "november",
                "december",
            ),
            1,
        )
    },
}
_NUMERIC = re.compile(r"^(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{1,4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_WORDS = re.compile(r"^(\d{1,2})\s*([^\d\s]+(?:\s*[^\d\s]+)*?)\s*(\d{1,4})$")
_CLOCK = re.compile(r"(?:\s+|\s*,\s*|\s*เวลา\s*)(\d{1,2})\s*[:.]\s*(\d{2})\s*(?:น\.?|นาฬิกา)?$")


class DateRefused(ValueError):
    """What was typed is not a date the system can take; the message says why, Thai first."""


def parse_day(text: str) -> date | None:
    """`2/12/2569`, `2 ธ.ค. 2569`, `2 ธันวาคม 2569`, `๒ ธ.ค. ๒๕๖๙` → date(2026, 12, 2); "" → None."""
    cleaned = " ".join(thai.clean(text or "").translate(THAI_DIGITS).replace("พ.ศ.", " ").split())
    cleaned = re.sub(r"^วันที่\s*", "", cleaned)
    if not cleaned:
        return None
    day, month, year = _parts(cleaned)
    if year < EARLIEST_BE:
        raise DateRefused(
            f"ปี {year} เป็นปีคริสต์ศักราช กรุณาใช้ปีพุทธศักราช เช่น {year + thai.BE_OFFSET} "
            f"(use the Buddhist-era year, e.g. {year + thai.BE_OFFSET})"
        )
    if year > LATEST_BE:
        raise DateRefused(f"ปี พ.ศ. {year} ไม่ถูกต้อง (year {year} is out of range)")
    try:
        return date(year - thai.BE_OFFSET, month, day)
    except ValueError:
        raise DateRefused(
            f"ไม่มีวันที่ {day} {thai.MONTHS[month - 1]} {year} (no such day)"
            if 1 <= month <= 12
            else f"ไม่มีเดือนที่ {month} (no month {month})"
        ) from None


def parse_moment(text: str, default: time = END_OF_OFFICE_HOURS) -> datetime | None:
    """A day with an optional time (`2/12/2569 14:30`, `2 ธ.ค. 2569 เวลา 14.30 น.`) in Bangkok time;
    without a time, `default` of that day."""
    cleaned = " ".join(thai.clean(text or "").translate(THAI_DIGITS).split())
    if not cleaned:
        return None
    clock = _CLOCK.search(cleaned)
    at = default
    if clock:
        hour, minute = int(clock.group(1)), int(clock.group(2))
        if hour > 23 or minute > 59:
            raise DateRefused(f"เวลา {hour}:{minute:02d} ไม่ถูกต้อง (no such time)")
        at = time(hour, minute)
        cleaned = cleaned[: clock.start()]
    day = parse_day(cleaned)
    return datetime.combine(day, at, tzinfo=thai.BANGKOK) if day else None


def _parts(text: str) -> tuple[int, int, int]:
    if found := _NUMERIC.match(text):
        return int(found.group(1)), int(found.group(2)), int(found.group(3))
    if found := _ISO.match(text):
        return int(found.group(3)), int(found.group(2)), int(found.group(1))
    if found := _WORDS.match(text):
        word = re.sub(r"[\s.]", "", found.group(2)).lower()
        month = _MONTH_WORDS.get(word) or _month_by_prefix(word)
        if month:
            return int(found.group(1)), month, int(found.group(3))
    raise DateRefused(f"อ่านวันที่ “{text}” ไม่ได้ กรุณาพิมพ์เช่น 2/12/2569 หรือ 2 ธ.ค. 2569 (not a date)")


def _month_by_prefix(word: str) -> int | None:
    """`ธันวา`, `sept`: a month named by the start of its name, if only one month starts so."""
    if len(word) < 3:
        return None
    months = {n for name, n in _MONTH_WORDS.items() if name.startswith(word)}
    return months.pop() if len(months) == 1 else None


def typed_day(value) -> str:
    """A date in the form people type it back: `2/12/2569`."""
    found = moment(value)
    if found is None:
        return ""
    return f"{found.day}/{found.month}/{found.year + thai.BE_OFFSET}"


def typed_moment(value) -> str:
    """`2/12/2569 14:30` in Bangkok time."""
    found = moment(value)
    if not isinstance(found, datetime):
        return typed_day(found)
    return f"{typed_day(found)} {found:%H:%M}"
