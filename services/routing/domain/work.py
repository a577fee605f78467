"""Rules of the work a unit does on a letter it registered: orders, who may act, the deadline clock, the
agency a head may assign within, and the numbers of the follow-up. No I/O; the states are in deliveries.py."""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

# เกษียนสั่งการ: ทราบ, ดำเนินการ, เห็นชอบ, ไม่เห็นชอบ, or the head's own words (`other` with `decision_text`).
DECISIONS = {
    "acknowledged": "ทราบ",
    "act": "ดำเนินการ",
    "approved": "เห็นชอบ",
    "not_approved": "ไม่เห็นชอบ",
    "other": "อื่น ๆ",
}
TEXT_MAX = 5000  # a summary, a note, a result
# The units that are an agency of their own (ส่วนราชการ): a head assigns only within his.
AGENCY_KINDS = ("department", "ops")
MAX_ASSIGNEES = 50
OPEN = ("delivered", "received")  # still the unit's to act on


@dataclass(frozen=True)
class Refusal:
    field: str
    message: str


def check_text(field: str, text: str, required: bool = True) -> Refusal | None:
    if required and not text.strip():
        return Refusal(field, f"ต้องระบุ {field} ({field} is required)")
    if len(text) > TEXT_MAX:
        return Refusal(field, f"{field} ยาวเกิน {TEXT_MAX} ตัวอักษร ({field} is too long)")
    return None


def check_order(
    decision: str,
    decision_text: str,
    deadline: datetime | None,
    now: datetime,
    assignee_org_ids: list[uuid.UUID],
    assignee_usernames: list[str],
    for_information: list[str],
) -> list[Refusal]:
    """What is wrong with an order as written; empty when it may be given."""
    refusals = []
    if decision not in DECISIONS:
        refusals.append(Refusal("decision", f"ไม่รู้จักคำสั่ง {decision} ใช้ได้: {', '.join(DECISIONS)} (unknown decision)"))
    if decision == "other" and not decision_text.strip():
        refusals.append(Refusal("decision_text", "คำสั่งอื่น ๆ ต้องระบุข้อความ (decision other needs decision_text)"))
    if deadline is not None and deadline <= now:
        refusals.append(Refusal("deadline", "กำหนดเสร็จต้องเป็นเวลาในอนาคต (the deadline must be in the future)"))
    if deadline is not None and decision == "acknowledged" and not (assignee_org_ids or assignee_usernames):
        refusals.append(Refusal("deadline", "คำสั่ง ทราบ ที่ไม่มีผู้รับมอบหมาย ไม่มีกำหนดเสร็จ (a deadline needs someone to act)"))
    if len(assignee_org_ids) + len(assignee_usernames) + len(for_information) > MAX_ASSIGNEES:
        refusals.append(Refusal("assignee_usernames", f"มอบหมายได้ไม่เกิน {MAX_ASSIGNEES} ราย (too many assignees)"))
    return refusals


def agency_of(chain: list[dict]) -> uuid.UUID:
    """The agency a unit belongs to, from the unit up to the top of the directory (each row with `id` and
    `kind`): the nearest department (or OPS), or the top when there is none (a ministry's own units)."""
    for unit in chain:
        if unit["kind"] in AGENCY_KINDS:
            return unit["id"]
    return chain[-1]["id"]


def in_agency(chain: list[dict], agency: uuid.UUID) -> bool:
    """Whether the unit whose chain (the unit up to the top) this is belongs to the agency."""
    return any(unit["id"] == agency for unit in chain)


def may_act(username: str, order: dict | None, people: list[str]) -> bool:
    """Closing, suspending, resuming: a person assigned by the order in force, or the head who gave it."""
    if order is None:
        return False
    return username == order["ordered_by"] or username in people


def resumed_due(due_at: datetime | None, suspended_at: datetime, now: datetime) -> datetime | None:
    """The deadline clock paused while the matter was suspended: the due moment moves by the pause."""
    return due_at + (now - suspended_at) if due_at else None


def paused_seconds(suspended_at: datetime, now: datetime) -> int:
    return max(0, int((now - suspended_at).total_seconds()))


def overdue(due_at: datetime | None, stage: str | None, status: str, now: datetime) -> bool:
    """Past its due moment and still being worked on; a suspended matter's clock stands still."""
    return due_at is not None and status in OPEN and stage != "suspended" and due_at < now


def month_start(now_local: datetime) -> datetime:
    """The first moment of the month `now_local` (an aware Bangkok time) is in."""
    return now_local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass
class Tally:
    """การติดตาม of one unit or one person: open, overdue, closed this month, median time to close."""

    open: int = 0
    overdue: int = 0
    closed_this_month: int = 0
    durations: list[timedelta] | None = None

    def add(self, status: str, stage: str | None, due_at, started_at, closed_at, now, month_from) -> None:
        if status in OPEN:
            self.open += 1
            self.overdue += overdue(due_at, stage, status, now)
        elif status == "closed" and closed_at is not None and closed_at >= month_from:
            self.closed_this_month += 1
            if started_at is not None:
                self.durations = [*(self.durations or []), closed_at - started_at]

    def as_dict(self) -> dict:
        median = statistics.median(self.durations) if self.durations else None
        return {
            "open": self.open,
            "overdue": self.overdue,
            "closed_this_month": self.closed_this_month,
            # Of the matters closed this month, from registration (a person: from the order) to closing.
            "median_hours_to_close": round(median.total_seconds() / 3600, 1) if median is not None else None,
        }
