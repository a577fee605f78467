"""the work on received letters: proposals, orders and whom they name, acknowledgements, the other steps, and
on each delivery its stage, the order in force, when it is due and when it was closed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 03:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

DELIVERY_COLUMNS = (
    ("stage", sa.String(length=16)),
    ("order_id", sa.Uuid()),
    ("proposed_to", sa.String(length=100)),
    ("due_at", sa.DateTime(timezone=True)),
    ("suspended_at", sa.DateTime(timezone=True)),
    ("closed_at", sa.DateTime(timezone=True)),
    ("closed_by", sa.String(length=100)),
    ("result", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        for name, kind in DELIVERY_COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
        batch_op.add_column(sa.Column("paused_seconds", sa.Integer(), nullable=False, server_default=sa.text("0")))
    op.create_table(
        "proposals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), sa.ForeignKey("deliveries.id"), nullable=False),
        sa.Column("to_username", sa.String(length=100), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.String(length=100), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_proposals_delivery_id", "proposals", ["delivery_id"])
    op.create_index("ix_proposals_to_username", "proposals", ["to_username"])
    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), sa.ForeignKey("deliveries.id"), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decision_text", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ordered_by", sa.String(length=100), nullable=False),
        sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("supersedes", sa.Uuid(), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_orders_delivery_id", "orders", ["delivery_id"])
    op.create_table(
        "order_people",
        sa.Column("order_id", sa.Uuid(), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "role", "username"),
    )
    op.create_index("ix_order_people_username", "order_people", ["username"])
    op.create_table(
        "order_units",
        sa.Column("order_id", sa.Uuid(), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "org_id"),
    )
    op.create_table(
        "acknowledgements",
        sa.Column("delivery_id", sa.Uuid(), sa.ForeignKey("deliveries.id"), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", "username"),
    )
    op.create_table(
        "work_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.Uuid(), sa.ForeignKey("deliveries.id"), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_work_steps_delivery_id", "work_steps", ["delivery_id"])


def downgrade() -> None:
    for table in ("work_steps", "acknowledgements", "order_units", "order_people", "orders", "proposals"):
        op.drop_table(table)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("paused_seconds")
        for name, _ in reversed(DELIVERY_COLUMNS):
            batch_op.drop_column(name)
