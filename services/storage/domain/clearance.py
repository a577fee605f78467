"""Secrecy (ชั้นความลับ) of an attachment: it is as secret as the most secret letter that carried it. Who may
read it is decided by the principal's clearance (shared.principal.Principal.cleared_for). No I/O here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

NORMAL = "normal"  # ปกติ


@dataclass(frozen=True)
class Classification:
    """An attachment's level and the letter that gave it that level (none when no letter carried it)."""

    level: str = NORMAL
    letter_id: uuid.UUID | None = None


def is_classified(level: str) -> bool:
    """ลับ and above: every download of such a file is audited. An unknown level counts as classified."""
    return level != NORMAL
