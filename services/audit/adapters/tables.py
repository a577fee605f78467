"""Audit's tables: the append-only leaves, the log's size (the lock that numbers leaves), the parties of each
letter (so scope checks are queries), and the inbox."""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
)

from shared.db import UTCDateTime
from shared.outbox import inbox_table

metadata = MetaData()

# One leaf per event, never updated or deleted. `index` is the leaf's position in the Merkle tree: contiguous
# from 0, assigned from log_state inside the appending transaction.
leaves = Table(
    "leaves",
    metadata,
    Column("index", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", Uuid, nullable=False, unique=True),  # a redelivered event never gets a second leaf
    Column("type", String(100), nullable=False),  # versioned, e.g. letter.sent.v1
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("letter_id", Uuid, nullable=True),
    Column("delivery_id", Uuid, nullable=True),
    Column("org_id", Uuid, nullable=True),  # the acting org
    Column("entry", LargeBinary, nullable=False),  # the exact bytes the leaf hash covers
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Index("ix_leaves_letter", "letter_id", "index"),
    Index("ix_leaves_org_time", "org_id", "occurred_at"),
    # Keyset pages of the auditor's questions walk the index within one org or one event type.
    Index("ix_leaves_org_index", "org_id", "index"),
    Index("ix_leaves_type_index", "type", "index"),
)

# The complete subtrees of the Merkle tree: (level, index) covers leaves index * 2**level up to
# (index + 1) * 2**level, level 0 being the leaf hashes. Written with the leaf that completes them and never
# changed, so an append writes O(log n) rows and a proof or root reads O(log n) rows.
nodes = Table(
    "nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("index", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

# A single row: the number of leaves. Appending bumps it with UPDATE ... RETURNING, which takes a row lock on
# PostgreSQL and the write lock on SQLite, so concurrent consumers and replicas queue for the next index and
# a rolled-back append gives its index back.
log_state = Table(
    "log_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    CheckConstraint("id = 1", name="ck_log_state_single_row"),
)

# Every signed checkpoint, one per tree size. The private key is never here: only what anyone may read.
checkpoints = Table(
    "checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("issued_at", UTCDateTime(), nullable=False),
)

letter_parties = Table(
    "letter_parties",
    metadata,
    Column("letter_id", Uuid, primary_key=True),
    Column("org_id", Uuid, primary_key=True, index=True),
    Column("role", String(16), nullable=False),  # sender | recipient
    Column("delivery_id", Uuid, nullable=True),  # a recipient's own delivery
)

inbox = inbox_table(metadata)
