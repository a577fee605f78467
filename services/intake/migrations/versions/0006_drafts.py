"""drafts: letters written in the system, their versions, proposal line and history, numbered at signing

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:47:22.858935
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("org_name", sa.Text(), nullable=False),
        sa.Column("letter_code", sa.String(length=100), nullable=False),
        sa.Column("register_org_id", sa.Uuid(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("current_username", sa.String(length=100), nullable=True),
        sa.Column("last_step", sa.String(length=16), nullable=False),
        sa.Column("reviewers", sa.JSON(), nullable=False),
        sa.Column("signer", sa.JSON(), nullable=False),
        sa.Column("signer_username", sa.String(length=100), nullable=False),
        sa.Column("secrecy", sa.String(length=16), nullable=False),
        sa.Column("register", sa.String(length=32), nullable=True),
        sa.Column("register_no", sa.Integer(), nullable=True),
        sa.Column("register_year", sa.Integer(), nullable=True),
        sa.Column("doc_no", sa.String(length=100), nullable=True),
        sa.Column("doc_date", sa.Date(), nullable=True),
        sa.Column("signed_by", sa.String(length=100), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("on_behalf_of", sa.String(length=100), nullable=True),
        sa.Column("delegation_kind", sa.String(length=16), nullable=True),
        sa.Column("delegation_id", sa.Uuid(), nullable=True),
        sa.Column("letter_id", sa.Uuid(), nullable=True),
        sa.Column("signed_pdf_id", sa.Uuid(), nullable=True),
        sa.Column("signed_pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["letter_id"],
            ["letters.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("author", "idempotency_key", name="uq_drafts_idempotency_key"),
        sa.UniqueConstraint(
            "register_org_id", "register", "register_year", "register_no", name="uq_drafts_register_no"
        ),
    )
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drafts_author"), ["author"], unique=False)
        batch_op.create_index(batch_op.f("ix_drafts_current_username"), ["current_username"], unique=False)
        batch_op.create_index("ix_drafts_org_updated", ["org_id", "updated_at"], unique=False)
        batch_op.create_index("ix_drafts_register_status", ["register_org_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_drafts_signer_username"), ["signer_username"], unique=False)

    op.create_table(
        "draft_line",
        sa.Column("draft_id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["drafts.id"],
        ),
        sa.PrimaryKeyConstraint("draft_id", "username"),
    )
    with op.batch_alter_table("draft_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_draft_line_username"), ["username"], unique=False)

    op.create_table(
        "draft_steps",
        sa.Column("draft_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["drafts.id"],
        ),
        sa.PrimaryKeyConstraint("draft_id", "seq"),
    )
    op.create_table(
        "draft_versions",
        sa.Column("draft_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["drafts.id"],
        ),
        sa.PrimaryKeyConstraint("draft_id", "version"),
    )


def downgrade() -> None:
    op.drop_table("draft_versions")
    op.drop_table("draft_steps")
    with op.batch_alter_table("draft_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_draft_line_username"))

    op.drop_table("draft_line")
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drafts_signer_username"))
        batch_op.drop_index("ix_drafts_register_status")
        batch_op.drop_index("ix_drafts_org_updated")
        batch_op.drop_index(batch_op.f("ix_drafts_current_username"))
        batch_op.drop_index(batch_op.f("ix_drafts_author"))

    op.drop_table("drafts")
