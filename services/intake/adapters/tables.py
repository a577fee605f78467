"""Intake's tables: letters, their recipients, the send register counters, idempotency keys, its read-model of
the directory, outbox, inbox."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    false,
)

from shared.counters import counters_table
from shared.db import UTCDateTime
from shared.outbox import inbox_table, outbox_table

metadata = MetaData()

letters = Table(
    "letters",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("doc_no", String(100), nullable=False),
    Column("register", String(32), nullable=False),
    Column("register_no", Integer, nullable=False),
    Column("register_year", Integer, nullable=False),  # Buddhist era
    Column("sender_org_id", Uuid, nullable=False),
    # Whose send register gave register_no: the sender's, or its central registry's (สารบรรณกลาง).
    Column("register_org_id", Uuid, nullable=False),
    Column("letter_type", String(32), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("secrecy", String(16), nullable=False),
    Column("circular", Boolean, nullable=False),
    Column("salutation", Text, nullable=False),
    Column("signer_name", Text, nullable=False),
    Column("signer_position", Text, nullable=False),
    Column("attachment_ids", JSON, nullable=False),
    Column("reference_letter_ids", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=False),
    Column("sent_by", String(100), nullable=False),
    Column("doc_date", Date, nullable=True),  # ลงวันที่; the Bangkok date of sending when not given
    Column("deliver_by", UTCDateTime(), nullable=True),  # ด่วนภายใน
    Column("details", JSON, nullable=True),  # the other parts of an external letter, as given
    # ยกเลิก: the row and its number stay; only these mark it cancelled.
    Column("cancelled_at", UTCDateTime(), nullable=True),
    Column("cancel_reason", Text, nullable=True),
    UniqueConstraint("register_org_id", "register", "register_year", "register_no", name="uq_letters_register_no"),
    Index("ix_letters_sender_sent", "sender_org_id", "sent_at"),
)

recipients = Table(
    "letter_recipients",
    metadata,
    Column("delivery_id", Uuid, primary_key=True),
    Column("letter_id", Uuid, ForeignKey("letters.id"), nullable=False, index=True),
    Column("recipient_org_id", Uuid, nullable=False, index=True),
    Column("position", Integer, nullable=False),
    # True for units the letter reached by forwarding (ส่งต่อ): readers, but not addressees of the sender.
    Column("forwarded", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("letter_id", "recipient_org_id", name="uq_recipient_once"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("org_id", Uuid, primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("letter_id", Uuid, ForeignKey("letters.id"), nullable=False),
)

# What intake knows of routing's directory, from its `directory.unit.*` events: enough to refuse a letter to a
# unit that is unknown or not in force, and an internal memo leaving the sender's ministry. `as_of` is when
# routing made the change the row holds, so an older event arriving late never overwrites a newer one.
directory_units = Table(
    "directory_units",
    metadata,
    Column("org_id", Uuid, primary_key=True),
    Column("parent_org_id", Uuid, nullable=True),
    Column("kind", String(16), nullable=False),  # ministry | ops | department | division | section
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),  # its last day
    Column("as_of", UTCDateTime(), nullable=False),
)

counters = counters_table(metadata)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
