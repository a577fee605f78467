"""directory as data: English names, national codes, own registers, validity, earlier names

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 03:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orgs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_en", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("national_code", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("own_registers", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("valid_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("valid_to", sa.Date(), nullable=True))
    op.create_table(
        "org_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("national_code", sa.String(length=10), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("org_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_history_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("org_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_history_org_id"))
    op.drop_table("org_history")
    with op.batch_alter_table("orgs", schema=None) as batch_op:
        batch_op.drop_column("valid_to")
        batch_op.drop_column("valid_from")
        batch_op.drop_column("own_registers")
        batch_op.drop_column("national_code")
        batch_op.drop_column("name_en")
