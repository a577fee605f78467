"""checkpoints_append_only: on PostgreSQL the signed checkpoints cannot be changed or removed either, so the
database cannot be rolled back to a state where a rewritten history gets signed afresh.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 03:20:00.000000
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # audit_refuse_change() is created by 0004.
    op.execute(
        "CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON checkpoints "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS checkpoints_append_only ON checkpoints")
