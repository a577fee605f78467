"""The gateway's own tables: people and their credentials."""

from sqlalchemy import JSON, Boolean, Column, Date, Index, Integer, MetaData, String, Table, Text, Uuid

from shared.db import UTCDateTime
from shared.outbox import outbox_table

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("username", String(100), primary_key=True),  # normalised: gateway/people/rules.py
    Column("display_name", Text, nullable=False),
    # None only for an administrator made before the directory had any unit (shared.principal.NO_UNIT).
    Column("org_id", Uuid, nullable=True),
    Column("roles", JSON, nullable=False),
    Column("clearance", String(16), nullable=False),
    # Argon2id; None for people who sign in only through the identity provider or a one-time link.
    Column("password_hash", Text, nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("email", String(320), nullable=True),
    Column("position", Text, nullable=True),  # ตำแหน่ง
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# One-time sign-in links: only the SHA-256 of the random token is kept, so the table cannot sign anyone in.
sign_in_links = Table(
    "sign_in_links",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("username", String(100), nullable=False, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
    Column("voided_at", UTCDateTime(), nullable=True),  # a newer link for the same person replaced it
)

# Failed sign-ins per username, kept in the database so every gateway replica counts the same attempts.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False, index=True),
    Column("failed_at", UTCDateTime(), nullable=False),
)

# Delegations of signing authority (การมอบอำนาจ): `from_username` lets `to_username` sign for him, for the
# letters of one unit, between two Bangkok dates (both included). `kind` is what the signature block prints:
# delegated → ปฏิบัติราชการแทน (a standing delegation), acting → รักษาราชการแทน (while the holder is away).
# Never deleted: a revoked one keeps its row, so a letter signed under it can still be explained.
delegations = Table(
    "delegations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("from_username", String(100), nullable=False),
    Column("to_username", String(100), nullable=False),
    Column("org_id", Uuid, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_by", String(100), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Index("ix_delegations_to_username", "to_username"),
    Index("ix_delegations_from_username", "from_username"),
)

# The gateway's own events (failed sign-ins, refused actions) leave through the same outbox as every service's.
outbox = outbox_table(metadata)
