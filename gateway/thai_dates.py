"""Every date people see is also given in Thai with the Buddhist-era year ("23 พฤศจิกายน 2569"), next to
its ISO value: `sent_at` gains `sent_at_th`, and so on."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.thai import date_th

DATED = ("_at", "_date", "deliver_by", "deadline")


def with_thai_dates(value):
    if isinstance(value, list):
        return [with_thai_dates(v) for v in value]
    if not isinstance(value, dict):
        return value
    result = {}
    for key, item in value.items():
        result[key] = with_thai_dates(item)
        if isinstance(item, str) and key.endswith(DATED) and f"{key}_th" not in value:
            result[f"{key}_th"] = _thai(item)
    return result


def _thai(text: str) -> str | None:
    try:
        moment = datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
    except ValueError:
        return None
    if isinstance(moment, datetime) and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # services store UTC
    return date_th(moment)
