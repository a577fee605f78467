"""central registries: whose send register numbered a letter

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 03:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("register_org_id", sa.Uuid(), nullable=True))
    # Until now every unit numbered its letters in its own send register.
    op.execute("UPDATE letters SET register_org_id = sender_org_id")
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.alter_column("register_org_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_constraint("uq_letters_register_no", type_="unique")
        batch_op.create_unique_constraint(
            "uq_letters_register_no", ["register_org_id", "register", "register_year", "register_no"]
        )


def downgrade() -> None:
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.drop_constraint("uq_letters_register_no", type_="unique")
        batch_op.create_unique_constraint(
            "uq_letters_register_no", ["sender_org_id", "register", "register_year", "register_no"]
        )
        batch_op.drop_column("register_org_id")
