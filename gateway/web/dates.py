"""Dates as people read them: "23 พ.ย. 2569 14:05 น." in Asia/Bangkok with the Buddhist-era year."""

from __future__ import annotations

from datetime import UTC, date, datetime

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
