"""announce the directory kept so far: one directory.unit.added per unit, for the services' copies of it

Services that check recipients keep their own copy of the directory, fed by routing's `directory.unit.*`
events. A deployment upgraded to that version has its units in routing and none of them announced (the
sample directory published nothing until then), so this stages one `directory.unit.added.v1` per unit, as it
is now and by the actor "system", in the outbox; the relay publishes them once routing runs. On a fresh
database there is nothing to announce: every unit is announced when it is imported.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 03:00:00.000000
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from shared.contracts import DirectoryUnit, DirectoryUnitAdded

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SOURCE = "sarabun/routing"

orgs = sa.table(
    "orgs",
    sa.column("id", sa.Uuid()),
    sa.column("key", sa.String()),
    sa.column("code", sa.String()),
    sa.column("name", sa.Text()),
    sa.column("name_en", sa.Text()),
    sa.column("national_code", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("parent_id", sa.Uuid()),
    sa.column("own_registers", sa.Boolean()),
    sa.column("valid_from", sa.Date()),
    sa.column("valid_to", sa.Date()),
)
outbox = sa.table(
    "outbox",
    sa.column("id", sa.Uuid()),
    sa.column("type", sa.String()),
    sa.column("body", sa.Text()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    bind = op.get_bind()
    rows = [row._mapping for row in bind.execute(sa.select(orgs).order_by(orgs.c.code, orgs.c.key))]
    if not rows:
        return
    keys = {row["id"]: row["key"] for row in rows}
    now = datetime.now(UTC)
    staged = []
    for row in rows:
        event = _added(row, keys, now)
        envelope = event.envelope(source=SOURCE, subject=str(row["id"]), actor="system", correlation_id=None)
        staged.append({"id": envelope.id, "type": envelope.type, "body": envelope.model_dump_json(), "created_at": now})
    bind.execute(sa.insert(outbox), staged)


def _added(row, keys: dict, now: datetime) -> DirectoryUnitAdded:
    unit = DirectoryUnit(
        key=row["key"],
        name=row["name"],
        name_en=row["name_en"],
        code=row["code"],
        national_code=row["national_code"],
        kind=row["kind"],
        parent_key=keys.get(row["parent_id"]),
        own_registers=row["own_registers"],
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
    )
    return DirectoryUnitAdded(org_id=row["id"], parent_org_id=row["parent_id"], unit=unit, occurred_at=now)


def downgrade() -> None:
    pass  # what was announced stays announced; the copies elsewhere keep what they learnt
