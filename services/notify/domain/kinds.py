"""The kinds of notification, how a person may take each (immediately by e-mail, in a daily digest, or not by
e-mail), and who is told what when an event arrives. Pure rules: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

URGENT_LETTER = "urgent_letter"  # a letter ด่วน or above arrived for one's unit (its clerks)
PROPOSED_TO_YOU = "proposed_to_you"  # เสนอ: a letter put before one
ASSIGNED_TO_YOU = "assigned_to_you"  # มอบหมาย: one is to act on a letter
FOR_INFORMATION = "for_information"  # เพื่อทราบ: one is to acknowledge a letter
DEADLINE_TOMORROW = "deadline_tomorrow"
DEADLINE_PASSED = "deadline_passed"
DRAFT_TO_REVIEW = "draft_to_review"  # a draft waits for one as a reviewer
AWAITING_SIGNATURE = "awaiting_signature"  # a draft waits for one's signature

Kind = Literal[
    "urgent_letter",
    "proposed_to_you",
    "assigned_to_you",
    "for_information",
    "deadline_tomorrow",
    "deadline_passed",
    "draft_to_review",
    "awaiting_signature",
]
KINDS: tuple[str, ...] = get_args(Kind)
KIND_LABELS = {
    URGENT_LETTER: ("หนังสือด่วนถึงหน่วยงาน", "An urgent letter for my unit"),
    PROPOSED_TO_YOU: ("หนังสือเสนอถึงท่าน", "A letter proposed to me"),
    ASSIGNED_TO_YOU: ("หนังสือที่ได้รับมอบหมาย", "A letter assigned to me"),
    FOR_INFORMATION: ("หนังสือเพื่อทราบ", "A letter for my information"),
    DEADLINE_TOMORROW: ("ครบกำหนดพรุ่งนี้", "A deadline tomorrow"),
    DEADLINE_PASSED: ("เลยกำหนดแล้ว", "A deadline passed"),
    DRAFT_TO_REVIEW: ("ร่างหนังสือรอพิจารณา", "A draft to review"),
    AWAITING_SIGNATURE: ("ร่างหนังสือรอลงนาม", "A draft awaiting my signature"),
}

Choice = Literal["immediate", "digest", "off"]
IMMEDIATE, DIGEST, OFF = "immediate", "digest", "off"
CHOICES = (IMMEDIATE, DIGEST, OFF)
# A person who never chose gets every kind by e-mail at once (API.md).
DEFAULT_CHOICE = IMMEDIATE

URGENT = ("urgent", "very_urgent", "most_urgent")  # ด่วน, ด่วนมาก, ด่วนที่สุด


def choices_of(stored: dict[str, str]) -> dict[str, str]:
    """Every kind with the person's choice, the default where they made none."""
    return {kind: stored.get(kind, DEFAULT_CHOICE) for kind in KINDS}


def by_mail(choice: str, mail_enabled: bool, address: str | None) -> str | None:
    """How a new notification reaches the person by e-mail: `immediate`, `digest`, or None (the page only).
    The in-page list always has it; `off` stops the e-mail only."""
    if not mail_enabled or not address or choice == OFF:
        return None
    return choice


@dataclass(frozen=True)
class Person:
    """The people read-model's row as the rules see it."""

    username: str
    org_id: object | None
    roles: tuple[str, ...]
    active: bool | None  # None: no account event seen yet (only an address)
    email: str | None


def clerks(people: list[Person], org_id) -> list[str]:
    """The active clerks (เจ้าหน้าที่สารบรรณ) of a unit, who are told when an urgent letter arrives."""
    return sorted(p.username for p in people if p.org_id == org_id and p.active and "clerk" in p.roles)


def draft_kind(status: str | None) -> str | None:
    """Which kind a draft step makes for the person whose turn follows; None when it is nobody's to act on
    (the author's own draft, a returned or recalled one)."""
    if status == "awaiting_signature":
        return AWAITING_SIGNATURE
    if status == "in_review":
        return DRAFT_TO_REVIEW
    return None


def order_kinds(assignees: list[str], for_information: list[str], actor: str | None) -> dict[str, str]:
    """Who an order tells what: the assignees that they act, the others that it is for their information; a
    person named twice is told once, as an assignee, and the head is not told of his own order."""
    told = {name: FOR_INFORMATION for name in for_information}
    told |= {name: ASSIGNED_TO_YOU for name in assignees}
    told.pop(actor, None)
    return told
