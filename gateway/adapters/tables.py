"""The gateway's own tables: people and their credentials."""

from sqlalchemy import JSON, Boolean, Column, Integer, MetaData, String, Table, Text, Uuid

from shared.db import UTCDateTime
from shared.outbox import outbox_table

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("username", String(100), primary_key=True),
    Column("display_name", Text, nullable=False),
    Column("org_id", Uuid, nullable=False),
    Column("roles", JSON, nullable=False),
    Column("clearance", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),  # Argon2id
    Column("active", Boolean, nullable=False, default=True),
)

# Failed sign-ins per username, kept in the database so every gateway replica counts the same attempts.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False, index=True),
    Column("failed_at", UTCDateTime(), nullable=False),
)

# The gateway's own events (failed sign-ins, refused actions) leave through the same outbox as every service's.
outbox = outbox_table(metadata)
