"""central registries: whose receive register numbered a delivery

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("register_org_id", sa.Uuid(), nullable=True))
    # Until now every unit numbered in its own receive register.
    op.execute("UPDATE deliveries SET register_org_id = recipient_org_id WHERE receive_no IS NOT NULL")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "uq_deliveries_receive_no", ["register_org_id", "receive_year", "receive_no"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("uq_deliveries_receive_no")
        batch_op.drop_column("register_org_id")
