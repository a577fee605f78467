"""Rules about the directory of agencies. No I/O."""

from __future__ import annotations

import uuid


def ministry_of(org_id: uuid.UUID, orgs: dict[uuid.UUID, dict]) -> uuid.UUID | None:
    """The ministry a unit sits under (itself if it is one), following parents; None if there is none."""
    seen = set()
    current = orgs.get(org_id)
    while current is not None and current["id"] not in seen:
        if current["kind"] == "ministry":
            return current["id"]
        seen.add(current["id"])
        current = orgs.get(current["parent_id"])
    return None


def outside_ministry(sender: uuid.UUID, recipients: list[uuid.UUID], orgs: dict[uuid.UUID, dict]) -> list:
    """Recipients not in the sender's ministry: an internal memo (หนังสือภายใน) may not go to them."""
    home = ministry_of(sender, orgs)
    return [r for r in recipients if home is None or ministry_of(r, orgs) != home]
