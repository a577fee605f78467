"""Routing's tables: the directory of agencies, deliveries (inboxes), receive register counters, outbox, inbox."""

from sqlalchemy import (
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
    Uuid,
    text,
    true,
)

from shared.counters import counters_table
from shared.db import UTCDateTime
from shared.outbox import inbox_table, outbox_table

metadata = MetaData()

orgs = Table(
    "orgs",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("code", String(64), nullable=False),  # letter code, e.g. "กค 0400"
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),  # ministry | ops | department | division | section
    Column("parent_id", Uuid, nullable=True),
    Column("name_en", Text, nullable=True),
    Column("national_code", String(10), nullable=True),  # e-CMS organisation code; the first two the ministry
    # False: the unit uses its parent's central registry (สารบรรณกลาง) instead of registers of its own.
    Column("own_registers", Boolean, nullable=False, server_default=true()),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),  # its last day; once past, the unit is retired (kept for old letters)
)

# The names and codes a unit had before it was renamed, so an old letter shows the name it was sent under.
org_history = Table(
    "org_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org_id", Uuid, nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("name_en", Text, nullable=True),
    Column("code", String(64), nullable=False),
    Column("national_code", String(10), nullable=True),
    Column("valid_from", UTCDateTime(), nullable=True),  # None: since the unit was first recorded
    Column("valid_to", UTCDateTime(), nullable=False),  # when the unit took its next name or code
)

# A circular's recipient list (กลุ่มผู้รับหนังสือเวียน), e.g. every department of the ministry.
groups = Table(
    "groups",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
)

group_members = Table(
    "group_members",
    metadata,
    Column("group_id", Uuid, ForeignKey("groups.id"), primary_key=True),
    Column("org_id", Uuid, ForeignKey("orgs.id"), primary_key=True),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("letter_id", Uuid, nullable=False, index=True),
    Column("sender_org_id", Uuid, nullable=False),
    Column("recipient_org_id", Uuid, nullable=False),
    Column("doc_no", String(100), nullable=False),
    Column("subject", Text, nullable=False),
    Column("letter_type", String(32), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("urgency_rank", Integer, nullable=False),
    Column("secrecy", String(16), nullable=False),
    Column("circular", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime(), nullable=True),
    Column("received_at", UTCDateTime(), nullable=True),
    Column("receive_no", Integer, nullable=True),
    Column("receive_year", Integer, nullable=True),  # Buddhist era
    Column("received_by", String(100), nullable=True),
    # Whose receive register gave receive_no: the recipient's, or its central registry's (สารบรรณกลาง).
    Column("register_org_id", Uuid, nullable=True),
    Column("deliver_by", UTCDateTime(), nullable=True),  # ด่วนภายใน: the recipient's deadline
    Column("status_changed_at", UTCDateTime(), nullable=True),
    Column("reason", Text, nullable=True),  # why it was returned, rejected, reported invalid or recalled
    # A forwarded delivery remembers its hop: from which delivery, by whom, with what note (ส่งต่อ).
    Column("forwarded_from", Uuid, nullable=True),
    Column("forwarded_by", String(100), nullable=True),
    Column("forward_note", Text, nullable=True),
    # The work on it once registered (domain/deliveries.py, WORK): the stage while `received` (proposed,
    # ordered, suspended), the order in force, the head it is proposed to, when it is due (the order's
    # deadline moved by the time it stood suspended), and its closing (per unit, with a result).
    Column("stage", String(16), nullable=True),
    Column("order_id", Uuid, nullable=True),
    Column("proposed_to", String(100), nullable=True),
    Column("due_at", UTCDateTime(), nullable=True),
    Column("suspended_at", UTCDateTime(), nullable=True),
    Column("paused_seconds", Integer, nullable=False, server_default=text("0")),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("closed_by", String(100), nullable=True),
    Column("result", Text, nullable=True),
    Index("ix_deliveries_inbox", "recipient_org_id", "urgency_rank", "delivered_at"),
    # One receive number per register and year, whichever unit of the registry the letter was addressed to.
    Index("uq_deliveries_receive_no", "register_org_id", "receive_year", "receive_no", unique=True),
)

counters = counters_table(metadata)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

# เกษียนหนังสือ: officers' summaries and superiors' decisions on a received letter; append-only.
annotations = Table(
    "annotations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("delivery_id", Uuid, ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("org_id", Uuid, nullable=False),
    Column("author", String(100), nullable=False),
    Column("position", Text, nullable=False),  # ตำแหน่ง of the author, as signed
    Column("text", Text, nullable=False),
    Column("decision", String(32), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

# เสนอ: the clerk puts a registered letter before a head, with a summary. Every proposal is kept.
proposals = Table(
    "proposals",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("delivery_id", Uuid, ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("to_username", String(100), nullable=False, index=True),
    Column("summary", Text, nullable=False),
    Column("proposed_by", String(100), nullable=False),
    Column("proposed_at", UTCDateTime(), nullable=False),
)

# เกษียนสั่งการ: a head's order on a delivery, never changed once given; a later order supersedes it and both
# stay. `decision_text` is the head's own words for `other`.
orders = Table(
    "orders",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("delivery_id", Uuid, ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("org_id", Uuid, nullable=False),
    Column("decision", String(16), nullable=False),
    Column("decision_text", Text, nullable=True),
    Column("note", Text, nullable=True),
    Column("deadline", UTCDateTime(), nullable=True),
    Column("ordered_by", String(100), nullable=False),
    Column("ordered_at", UTCDateTime(), nullable=False),
    Column("supersedes", Uuid, nullable=True),
    Column("superseded_at", UTCDateTime(), nullable=True),
)

# The people an order names: assigned to act (`assignee`), or given it for information (`information`).
order_people = Table(
    "order_people",
    metadata,
    Column("order_id", Uuid, ForeignKey("orders.id"), primary_key=True),
    Column("role", String(16), primary_key=True),
    Column("username", String(100), primary_key=True, index=True),
)

# The units an order assigns, each with the delivery of the letter it got to register (ส่งต่อ by the order).
order_units = Table(
    "order_units",
    metadata,
    Column("order_id", Uuid, ForeignKey("orders.id"), primary_key=True),
    Column("org_id", Uuid, primary_key=True),
    Column("delivery_id", Uuid, nullable=False),
)

# รับทราบ: once per person and delivery, never undone.
acknowledgements = Table(
    "acknowledgements",
    metadata,
    Column("delivery_id", Uuid, ForeignKey("deliveries.id"), primary_key=True),
    Column("username", String(100), primary_key=True),
    Column("order_id", Uuid, nullable=False),
    Column("acknowledged_at", UTCDateTime(), nullable=False),
)

# The other steps of the work, with their words: suspended (why), resumed, closed (the result), reopened.
work_steps = Table(
    "work_steps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", Uuid, ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("action", String(16), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("text", Text, nullable=True),
)
