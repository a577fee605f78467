"""What intake knows of the directory (routing owns it and announces every change) and the two rules it checks
with it before numbering a letter: every recipient is a unit in force today, and an internal memo
(หนังสือภายใน) stays within the sender's ministry. No I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from services.intake.domain.letters import LetterRefused

INTERNAL = "internal"  # หนังสือภายใน (บันทึกข้อความ)
OUTSIDE_MINISTRY = "internal memo outside the ministry"


@dataclass(frozen=True)
class KnownUnit:
    """A unit as routing last announced it: where it sits, what it is, when it is in force, and when routing
    made that change (`as_of`), so a late, older announcement is recognised and ignored."""

    org_id: uuid.UUID
    parent_org_id: uuid.UUID | None
    kind: str
    valid_from: date | None
    valid_to: date | None  # its last day
    as_of: datetime

    def in_force(self, today: date) -> bool:
        """Started, and its last day (inclusive) not yet past: as routing decides, on the Bangkok date."""
        started = self.valid_from is None or self.valid_from <= today
        return started and (self.valid_to is None or self.valid_to >= today)


def ministry_of(org_id: uuid.UUID, units: dict[uuid.UUID, KnownUnit]) -> uuid.UUID | None:
    """The ministry a unit sits under (itself if it is one), following parents; None if there is none."""
    seen = set()
    current = units.get(org_id)
    while current is not None and current.org_id not in seen:
        if current.kind == "ministry":
            return current.org_id
        seen.add(current.org_id)
        current = units.get(current.parent_org_id)
    return None


def outside_ministry(sender: uuid.UUID, recipients, units: dict[uuid.UUID, KnownUnit]) -> list[uuid.UUID]:
    """Recipients not in the sender's ministry: an internal memo may not go to them."""
    home = ministry_of(sender, units)
    return [r for r in recipients if home is None or ministry_of(r, units) != home]


def check_recipients(
    letter_type: str, sender: uuid.UUID, recipients, units: dict[uuid.UUID, KnownUnit], today: date
) -> None:
    """Raises LetterRefused for a letter to a unit that is unknown or not in force, or an internal memo leaving
    the ministry. `units` holds what is known of the recipients and, for a memo, of the sender and the units
    above them all. Only units in force count, so a retired parent leads to no ministry."""
    current = {org: unit for org, unit in units.items() if unit.in_force(today)}
    if letter_type == INTERNAL and outside_ministry(sender, recipients, current):
        message = (
            "หนังสือภายใน (บันทึกข้อความ) ใช้ติดต่อภายในกระทรวงเดียวกันเท่านั้น ให้ใช้หนังสือภายนอก "
            "(an internal memo stays within one ministry; use an external letter)"
        )
        raise LetterRefused("type", message, errors=[{"field": "type", "message": OUTSIDE_MINISTRY}])
    if unknown := [r for r in recipients if r not in current]:
        raise LetterRefused(
            "recipient_org_ids",
            "ไม่พบหน่วยงานผู้รับในทะเบียนหน่วยงาน (unknown recipient_org_ids)",
            errors=[{"field": "recipient_org_ids", "message": f"unknown: {u}"} for u in unknown],
        )
