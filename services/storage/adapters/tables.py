"""Storage's tables: attachments (metadata only; the bytes are in the object store), read grants, the letters
that carried them, stamped copies, signed drafts and what verification found, outbox, inbox."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    text,
)

from shared.db import UTCDateTime
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
    Column("flags", JSON, nullable=True),  # risky PDF features found on upload: encrypted, script, ...
    Column("pages", Integer, nullable=True),  # a PDF's page count, read on upload; None for other files
    Column("storage_key", String(200), nullable=False, unique=True),
    Column("created_by", String(100), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_attachments_org", "org_id", "created_at"),
)

# Units other than the owner that may read an attachment: the recipients of a letter that carried it.
grants = Table(
    "attachment_grants",
    metadata,
    Column("attachment_id", Uuid, ForeignKey("attachments.id"), primary_key=True),
    Column("org_id", Uuid, primary_key=True, index=True),
    Column("letter_id", Uuid, nullable=False),  # the first letter (or signed draft) that granted it, to explain why
    Column("granted_at", UTCDateTime(), nullable=False),
)

# Letters whose `letter.sent` storage has handled. A receipt for a letter not here yet means that event is
# still on its way (the bus delivers each queue in its own order), so the receipt waits and is retried; a
# letter that carried no attachment is here too, so its receipt does not wait for grants that never come.
# Its secrecy (ชั้นความลับ) classifies what it carried: an attachment is as secret as the most secret letter
# that carried it.
sent_letters = Table(
    "sent_letters",
    metadata,
    Column("letter_id", Uuid, primary_key=True),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("secrecy", String(16), nullable=False, server_default=text("'normal'")),
)

# Which attachments each letter carried (those its sender owned). A grant names only the first letter that
# let a unit read an attachment; this names every letter, so a second letter carrying the same file gets
# its own receipt stamp too.
letter_attachments = Table(
    "letter_attachments",
    metadata,
    Column("letter_id", Uuid, ForeignKey("sent_letters.letter_id"), primary_key=True),
    Column("attachment_id", Uuid, ForeignKey("attachments.id"), primary_key=True),
    Column("ordinal", Integer, nullable=False),  # its place in the letter's list: the first is the main document
)

# Copies of a received letter's PDF attachments with the recipient's receipt stamp (ตรารับ). The original
# object is never changed; a copy is its own object, keyed by ids only, and at most one per delivery and
# attachment.
stamped_copies = Table(
    "stamped_copies",
    metadata,
    Column("delivery_id", Uuid, primary_key=True),
    Column("attachment_id", Uuid, ForeignKey("attachments.id"), primary_key=True),
    Column("recipient_org_id", Uuid, nullable=False),  # the only unit that may read the copy
    Column("ordinal", Integer, nullable=False),  # the original's place in the letter: the first is shown first
    Column("storage_key", String(200), nullable=False, unique=True),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# The signed PDF of each draft (ลงนาม): an attachment like an upload, owned by the draft's unit, so the letter's
# recipients read it through the same grants. One per draft: signing again answers the same file.
signed_drafts = Table(
    "signed_drafts",
    metadata,
    Column("draft_id", Uuid, primary_key=True),
    Column("attachment_id", Uuid, ForeignKey("attachments.id"), nullable=False, unique=True),
    Column("signer", String(100), nullable=False),  # the username whose key signed
    Column("signer_name", String(300), nullable=False),  # the signer as their certificate names them
    Column("signed_at", UTCDateTime(), nullable=False),
)

# What verification found, when a letter was sent, about each signature in the PDFs it carried. A field of ""
# stands for a PDF that could not be read as a signed file at all.
signature_checks = Table(
    "signature_checks",
    metadata,
    Column("letter_id", Uuid, ForeignKey("sent_letters.letter_id"), primary_key=True),
    Column("attachment_id", Uuid, ForeignKey("attachments.id"), primary_key=True),
    Column("field", String(210), primary_key=True),  # the signature field's name in the PDF
    Column("signer", String(300), nullable=False),  # as the signer's certificate names them
    Column("valid", Boolean, nullable=False),  # intact, correct, and not changed by what was added later
    Column("trusted", Boolean, nullable=False),  # chains to a configured trust root, within its validity
    Column("signed_at", UTCDateTime(), nullable=True),
    Column("problem", String(16), nullable=True),  # modified | untrusted | broken | expired; None when all is well
    Column("checked_at", UTCDateTime(), nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
