"""Intake's tables: letters, their recipients, the send register counters, idempotency keys, its read-model of
the directory, drafts on their way to signing (with their versions, line and history), outbox, inbox."""

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

# ร่างหนังสือ: a letter being written, proposed up the line and signed. It takes its number only at signing
# (register .. doc_date), and becomes a letter row (letter_id) once its PDF is signed.
drafts = Table(
    "drafts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("org_id", Uuid, nullable=False),  # the unit that owns it (ส่วนราชการเจ้าของเรื่อง)
    Column("org_name", Text, nullable=False),
    Column("letter_code", String(100), nullable=False),  # the code its number will start with
    Column("register_org_id", Uuid, nullable=False),  # whose send register will number it
    Column("author", String(100), nullable=False, index=True),
    Column("status", String(24), nullable=False),
    Column("version", Integer, nullable=False),  # the current one
    Column("step", Integer, nullable=False),  # which reviewer's turn, while in review
    Column("current_username", String(100), nullable=True, index=True),  # whose turn it is
    Column("last_step", String(16), nullable=False),  # the last step of its history: may the author recall?
    Column("reviewers", JSON, nullable=False),  # [{username, display_name, position}], in order
    Column("signer", JSON, nullable=False),  # {username, display_name, position}
    Column("signer_username", String(100), nullable=False, index=True),
    Column("secrecy", String(16), nullable=False),  # the current version's, so reads are scoped by clearance
    Column("register", String(32), nullable=True),
    Column("register_no", Integer, nullable=True),
    Column("register_year", Integer, nullable=True),  # Buddhist era
    Column("doc_no", String(100), nullable=True),
    Column("doc_date", Date, nullable=True),
    Column("signed_by", String(100), nullable=True),
    Column("signed_at", UTCDateTime(), nullable=True),
    Column("on_behalf_of", String(100), nullable=True),  # the signer, when signed for them under a delegation
    Column("delegation_kind", String(16), nullable=True),  # delegated (ปฏิบัติราชการแทน) | acting (รักษาราชการแทน)
    Column("delegation_id", Uuid, nullable=True),
    Column("letter_id", Uuid, ForeignKey("letters.id"), nullable=True),
    Column("signed_pdf_id", Uuid, nullable=True),
    Column("signed_pdf_sha256", String(64), nullable=True),
    Column("idempotency_key", String(200), nullable=True),
    Column("request_hash", String(64), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("author", "idempotency_key", name="uq_drafts_idempotency_key"),
    # A number is given once: two drafts never share one (letters keep the same rule).
    UniqueConstraint("register_org_id", "register", "register_year", "register_no", name="uq_drafts_register_no"),
    Index("ix_drafts_org_updated", "org_id", "updated_at"),
    Index("ix_drafts_register_status", "register_org_id", "status"),
)

# The people a draft's line names (reviewers and signer), one row each, so that "is this person on the line"
# is asked inside the query that reads the draft.
draft_line = Table(
    "draft_line",
    metadata,
    Column("draft_id", Uuid, ForeignKey("drafts.id"), primary_key=True),
    Column("username", String(100), primary_key=True, index=True),
    Column("role", String(16), nullable=False),  # reviewer | signer
)

# Every version is kept and can be read again.
draft_versions = Table(
    "draft_versions",
    metadata,
    Column("draft_id", Uuid, ForeignKey("drafts.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("fields", JSON, nullable=False),  # the letter's fields, body and org_name, as written
    Column("created_by", String(100), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# The line as a timeline: who did what, when, on which version.
draft_steps = Table(
    "draft_steps",
    metadata,
    Column("draft_id", Uuid, ForeignKey("drafts.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("type", String(16), nullable=False),  # created | edited | proposed | endorsed | returned | ...
    Column("actor", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("reason", Text, nullable=True),
    Column("at", UTCDateTime(), nullable=False),
)

counters = counters_table(metadata)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
