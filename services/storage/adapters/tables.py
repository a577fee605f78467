"""Storage's tables: attachments (metadata only; the bytes are in the object store), read grants, outbox,
inbox."""

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, MetaData, String, Table, Uuid

from shared.outbox import inbox_table, outbox_table

metadata = MetaData()

attachments = Table(
    "attachments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("org_id", Uuid, nullable=False),  # the uploader's unit; it owns the attachment
    Column("filename", String(255), nullable=False),  # cleaned client filename, metadata only
    Column("content_type", String(100), nullable=False),  # detected from the bytes, not declared
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_key", String(200), nullable=False, unique=True),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_attachments_org", "org_id", "created_at"),
)

# Units other than the owner that may read an attachment: the recipients of a letter that carried it.
grants = Table(
    "attachment_grants",
    metadata,
    Column("attachment_id", Uuid, ForeignKey("attachments.id"), primary_key=True),
    Column("org_id", Uuid, primary_key=True, index=True),
    Column("letter_id", Uuid, nullable=False),  # the first letter that granted it, to explain why
    Column("granted_at", DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
