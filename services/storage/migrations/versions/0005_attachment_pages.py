"""attachment_pages

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 02:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: attachments stored before this column, and files that are not readable PDFs, have no count.
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pages", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_column("pages")
