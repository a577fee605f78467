"""merkle_nodes: the complete subtrees of the Merkle tree, backfilled from the leaves already logged.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 02:45:00.800476
"""

import sqlalchemy as sa
from alembic import op

from services.audit.domain.merkle import complete_nodes

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    nodes = op.create_table(
        "nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "index"),
    )
    _backfill(op.get_bind(), nodes)


def _backfill(bind, nodes) -> None:
    """Builds the nodes of the leaves logged before this revision, in index order and in batches. Only the
    newest complete node of each level is ever a left sibling still needed, so that is all that is kept."""
    leaves = sa.table("leaves", sa.column("index", sa.BigInteger), sa.column("leaf_hash", sa.LargeBinary))
    frontier: dict[int, bytes] = {}
    start = 0
    while True:
        query = sa.select(leaves.c.index, leaves.c.leaf_hash).where(leaves.c.index >= start)
        rows = bind.execute(query.order_by(leaves.c.index).limit(BATCH)).all()
        if not rows:
            return
        batch = []
        for index, leaf in rows:
            for level, position, value in complete_nodes(index, leaf, lambda lv, _ix: frontier[lv]):
                frontier[level] = value
                batch.append({"level": level, "index": position, "hash": value})
        bind.execute(nodes.insert(), batch)
        start = rows[-1].index + 1


def downgrade() -> None:
    op.drop_table("nodes")
