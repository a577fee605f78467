"""The gateway's own tables: people and their credentials."""

from sqlalchemy import JSON, Boolean, Column, MetaData, String, Table, Text, Uuid

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
