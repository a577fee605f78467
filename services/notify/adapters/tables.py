"""Notify's tables: the people and letters it has heard of (read-models from events), the orders whose
deadlines it watches, each person's choices, the notifications (the in-page list), the mail outbox, inbox."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from shared.db import UTCDateTime
from shared.outbox import inbox_table

metadata = MetaData()

# From user.created / user.changed (unit, roles, active) and user.contact (e-mail). Each half keeps the time of
# the event it came from, so an older event arriving late changes nothing.
people = Table(
    "people",
    metadata,
    Column("username", String(200), primary_key=True),
    Column("org_id", Uuid, nullable=True, index=True),
    Column("roles", JSON, nullable=False),
    Column("active", Boolean, nullable=True),  # None: known only by an e-mail address so far
    Column("access_at", UTCDateTime(), nullable=True),
    Column("email", String(320), nullable=True),
    Column("contact_at", UTCDateTime(), nullable=True),
)

# From letter.sent: what a notification about a delivery names (number; subject only of a normal letter) and
# whether the letter is urgent.
letters = Table(
    "letters",
    metadata,
    Column("letter_id", Uuid, primary_key=True),
    Column("doc_no", String(100), nullable=False),
    Column("subject", Text, nullable=True),  # None for a classified letter: never shown in a notification
    Column("urgency", String(16), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=False),
)

# From delivery.ordered: the orders with a deadline, for the reminders. A later order superseding it, or the
# unit closing the matter, makes it inactive; suspending pauses it and resuming moves the deadline on by the
# time it was suspended.
orders = Table(
    "orders",
    metadata,
    Column("order_id", Uuid, primary_key=True),
    Column("delivery_id", Uuid, nullable=False, index=True),
    Column("letter_id", Uuid, nullable=False),
    Column("deadline", UTCDateTime(), nullable=False),
    Column("assignees", JSON, nullable=False),  # usernames reminded
    Column("head", String(200), nullable=True),  # who gave it; told too when the deadline passes
    Column("active", Boolean, nullable=False),
    Column("suspended_at", UTCDateTime(), nullable=True),
    Column("ordered_at", UTCDateTime(), nullable=False),
    Index("ix_orders_active_deadline", "active", "deadline"),
)

# A person's choice per kind; no row: the default (by e-mail, at once).
preferences = Table(
    "preferences",
    metadata,
    Column("username", String(200), primary_key=True),
    Column("kind", String(40), primary_key=True),
    Column("choice", String(16), nullable=False),  # immediate | digest | off
    Column("changed_at", UTCDateTime(), nullable=False),
)

# The in-page list. One per (event, person): a redelivered or replayed event makes none again; reminders take
# an id made from their order and kind. `by_mail` is how it went out by e-mail when it was made (immediate,
# digest, or None: the page only); `digested_at` when a digest took it.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("event_id", Uuid, nullable=False),
    Column("username", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("facts", JSON, nullable=False),  # ids, number, urgency, deadline, version: what the text is made of
    Column("created_at", UTCDateTime(), nullable=False),
    Column("read_at", UTCDateTime(), nullable=True),
    Column("by_mail", String(16), nullable=True),
    Column("digested_at", UTCDateTime(), nullable=True),
    UniqueConstraint("event_id", "username", name="uq_notifications_event_person"),
    Index("ix_notifications_person", "username", "created_at"),
    Index("ix_notifications_digest", "by_mail", "digested_at"),
)

# The mail outbox, relayed to the SMTP server. `key` makes each mail once: the notification's id, or
# `digest:<username>:<day>`. A mail is claimed for a while (`claimed_until`) before it is sent and marked sent
# as soon as the server has taken it; until then it is tried again at `next_attempt_at`. A permanent refusal
# (5xx) ends it with `failed_at`.
mails = Table(
    "mails",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("key", String(300), nullable=False, unique=True),
    Column("username", String(200), nullable=False),
    Column("to_address", String(320), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("claimed_until", UTCDateTime(), nullable=True),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("failed_at", UTCDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    Index("ix_mails_due", "sent_at", "failed_at", "next_attempt_at"),
)

inbox = inbox_table(metadata)
