"""Routing's directory announcements as intake receives them, for the tests that need units intake knows."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from services.intake.consumers import DIRECTORY, consumers
from shared.contracts import DirectoryUnit, DirectoryUnitAdded, Envelope
from shared.db import Database


def announcement(
    org_id: uuid.UUID,
    kind: str = "department",
    parent: uuid.UUID | None = None,
    *,
    cls=DirectoryUnitAdded,
    valid_from: date | None = None,
    valid_to: date | None = None,
    at: datetime | None = None,
    **extra,
) -> Envelope:
    """A `directory.unit.*` envelope as routing stages it: the whole unit after the change."""
    unit = DirectoryUnit(
        key=f"unit-{org_id.hex[:8]}",
        name="หน่วยงานทดสอบ",
        code="กค 0000",
        kind=kind,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    event = cls(org_id=org_id, parent_org_id=parent, unit=unit, occurred_at=at or datetime.now(UTC), **extra)
    return event.envelope(source="sarabun/routing", subject=str(org_id), actor="admin", correlation_id=None)


async def hear(db: Database, *envelopes: Envelope) -> None:
    """Hands the envelopes to intake's directory consumer, as the bus would."""
    handle = consumers(db)[DIRECTORY]
    for envelope in envelopes:
        await handle([envelope])


async def ministry(db: Database, ministry_id: uuid.UUID, *department_ids: uuid.UUID) -> None:
    """A ministry and departments under it, all in force."""
    await hear(
        db,
        announcement(ministry_id, "ministry"),
        *(announcement(org, "department", ministry_id) for org in department_ids),
    )
