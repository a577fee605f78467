"""The auditor's questions, the parts that need no database: reading a date window and an event type from a
query string, keyset cursors, and the per-recipient summary of a letter's history. No I/O.

Dates are Bangkok dates, as every date a Thai clerk or auditor writes is: `from=2026-03-01&to=2026-03-31` is
the whole of March in Asia/Bangkok, both days included. A datetime without an offset is Bangkok time too;
one with an offset is taken as written. `from` is inclusive; a `to` datetime is exclusive, a `to` date
includes that whole day.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.contracts import EVENTS, base_type

BANGKOK = ZoneInfo("Asia/Bangkok")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_CURSOR = 2**63 - 1

# Base types (`delivery.received`) and versioned ones (`delivery.received.v1`) an auditor may filter on.
KNOWN_TYPES = frozenset(EVENTS) | frozenset(base_type(t) for t in EVENTS)
DENIED = "access.denied"

# A delivery's state changes, by the `status` their entries carry, and the summary field each one fills.
STATE_FIELDS = {"returned": "returned_at", "rejected": "rejected_at", "recalled": "recalled_at"}
SUMMARY_FIELDS = (
    "delivered_at",
    "received_at",
    "receive_no",
    "forwarded_at",
    "returned_at",
    "rejected_at",
    "recalled_at",
)


class QueryError(ValueError):
    """A parameter that cannot be read. `field` names it; the message is Thai then English."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Window:
    """start <= occurred_at < end, in UTC; either side may be open."""

    start: datetime | None = None
    end: datetime | None = None


def _moment(field: str, text: str, is_end: bool) -> datetime:
    text = text.strip()
    try:
        if _DATE.match(text):
            day = date.fromisoformat(text)
            if is_end:
                day += timedelta(days=1)  # `to` names the last day wanted, so the window ends after it
            moment = datetime.combine(day, time(), BANGKOK)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=BANGKOK)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise QueryError(
            field,
            f"{field} ต้องเป็นวันที่ (2026-03-01) หรือวันเวลา ISO 8601 "
            f"({field} must be an ISO date or datetime, e.g. 2026-03-01 or 2026-03-01T09:00:00+07:00)",
        ) from exc


def window(start: str | None, end: str | None) -> Window:
    result = Window(
        _moment("from", start, False) if start else None,
        _moment("to", end, True) if end else None,
    )
    if result.start and result.end and result.end <= result.start:
        raise QueryError("to", "to ต้องอยู่หลัง from (to must be after from)")
    return result


def event_type(text: str | None) -> str | None:
    """The type filter as given, if the log knows it; a misspelt type must not read as `nothing happened`."""
    if text is None or text == "":
        return None
    if text not in KNOWN_TYPES:
        raise QueryError("type", f"ไม่รู้จักประเภทเหตุการณ์ {text[:60]!r} (unknown event type)")
    return text


def matching_types(text: str) -> list[str]:
    """The versioned types a filter stands for: itself, or every version of a base type."""
    return sorted(t for t in EVENTS if t == text or base_type(t) == text)


def cursor(text: str | None) -> int | None:
    """The index of the last item already seen; the next page starts after it."""
    if text is None or text == "":
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_CURSOR:
        raise QueryError("cursor", "cursor ไม่ถูกต้อง ใช้ค่า next_cursor จากหน้าก่อน (invalid cursor)")
    return int(text)


def recipients(rows, whole_list: bool) -> list[dict]:
    """Per delivery of a letter, in the order the log first names it: who it was for and when it was
    delivered, registered (with the receive number), forwarded, returned, rejected or recalled. The first
    event of each kind counts. Built only from the rows given, so it shows no more than the history does;
    the recipient list of letter.sent counts only with `whole_list` (auditors and the sender), since a
    recipient is not shown the other recipients."""
    summary: dict[str, dict] = {}

    def slot(delivery_id: str, org_id: str | None) -> dict:
        item = summary.setdefault(
            delivery_id, {"org_id": org_id, "delivery_id": delivery_id} | dict.fromkeys(SUMMARY_FIELDS)
        )
        if item["org_id"] is None:
            item["org_id"] = org_id
        return item

    def first(item: dict, field: str, value) -> None:
        if item[field] is None:
            item[field] = value

    for row in rows:
        entry = json.loads(row["entry"])
        kind = base_type(row["type"])
        at = entry.get("occurred_at")
        if kind == "letter.sent":
            for ref in entry.get("deliveries", []) if whole_list else ():
                slot(ref["delivery_id"], ref["recipient_org_id"])
            continue
        delivery_id = entry.get("delivery_id")
        if delivery_id is None or not kind.startswith("delivery."):
            continue
        item = slot(delivery_id, entry.get("recipient_org_id"))
        if kind == "delivery.delivered":
            first(item, "delivered_at", at)
        elif kind == "delivery.received":
            if item["received_at"] is None:
                item["received_at"], item["receive_no"] = at, entry.get("receive_no")
        elif kind == "delivery.forwarded":
            first(item, "forwarded_at", at)
            for ref in entry.get("deliveries", []):
                slot(ref["delivery_id"], ref["recipient_org_id"])
        elif entry.get("status") in STATE_FIELDS:
            first(item, STATE_FIELDS[entry["status"]], at)
    return list(summary.values())
