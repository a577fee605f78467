"""signatures: the signed PDF of each draft, and what verification found about a sent letter's signatures

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signed_drafts",
        sa.Column("draft_id", sa.Uuid(), nullable=False),
        sa.Column("attachment_id", sa.Uuid(), nullable=False),
        sa.Column("signer", sa.String(length=100), nullable=False),
        sa.Column("signer_name", sa.String(length=300), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["attachment_id"], ["attachments.id"]),
        sa.PrimaryKeyConstraint("draft_id"),
        sa.UniqueConstraint("attachment_id"),
    )
    op.create_table(
        "signature_checks",
        sa.Column("letter_id", sa.Uuid(), nullable=False),
        sa.Column("attachment_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=210), nullable=False),
        sa.Column("signer", sa.String(length=300), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("trusted", sa.Boolean(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("problem", sa.String(length=16), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["attachment_id"], ["attachments.id"]),
        sa.ForeignKeyConstraint(["letter_id"], ["sent_letters.letter_id"]),
        sa.PrimaryKeyConstraint("letter_id", "attachment_id", "field"),
    )


def downgrade() -> None:
    op.drop_table("signature_checks")
    op.drop_table("signed_drafts")
