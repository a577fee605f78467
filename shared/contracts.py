"""Message contracts between services: one envelope, versioned event types, pydantic data models.

A breaking change to any of these fails the snapshot test (shared/tests/test_contracts.py); add a new
version (`letter.sent.v2`) instead of changing one in place.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

EXCHANGE = "sarabun.events"

Urgency = Literal["normal", "urgent", "very_urgent", "most_urgent"]
Secrecy = Literal["normal", "confidential", "secret", "top_secret"]
LetterType = Literal["external", "internal", "stamped", "directive", "public_relations", "evidence"]


class Envelope(BaseModel):
    """CloudEvents-style envelope around every event; `type` is also the routing key."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    source: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    actor: str | None = None
    data: dict

    def encode(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def decode(cls, body: bytes) -> Envelope:
        return cls.model_validate_json(body)


class Event(BaseModel):
    """Base of event payloads; `TYPE` is the versioned event type."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    TYPE: ClassVar[str] = ""

    def envelope(self, *, source: str, subject: str, actor: str | None, correlation_id: str | None) -> Envelope:
        return Envelope(
            type=self.TYPE,
            source=source,
            subject=subject,
            actor=actor,
            correlation_id=correlation_id,
            data=self.model_dump(mode="json"),
        )


class DeliveryRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    delivery_id: uuid.UUID
    recipient_org_id: uuid.UUID


class LetterSent(Event):
    TYPE: ClassVar[str] = "letter.sent.v1"
    letter_id: uuid.UUID
    doc_no: str
    sender_org_id: uuid.UUID
    letter_type: LetterType
    subject: str
    urgency: Urgency
    secrecy: Secrecy
    circular: bool
    sent_at: datetime
    attachment_ids: list[uuid.UUID]
    deliveries: list[DeliveryRef]
    deliver_by: datetime | None = None  # ด่วนภายใน; added compatibly


class DeliveryDelivered(Event):
    TYPE: ClassVar[str] = "delivery.delivered.v1"
    delivery_id: uuid.UUID
    letter_id: uuid.UUID
    sender_org_id: uuid.UUID
    recipient_org_id: uuid.UUID
    delivered_at: datetime


class DeliveryReceived(Event):
    TYPE: ClassVar[str] = "delivery.received.v1"
    delivery_id: uuid.UUID
    letter_id: uuid.UUID
    sender_org_id: uuid.UUID
    recipient_org_id: uuid.UUID
    receive_no: int
    register_year: int  # Buddhist era
    received_at: datetime
    recipient_org_name: str = ""  # printed in the receipt stamp (ตรารับ); added compatibly, defaults empty
    # Whose receive register gave the number: the recipient's own, or its central registry's (สารบรรณกลาง).
    # Added compatibly: None in events from before, when it was always the recipient's.
    register_org_id: uuid.UUID | None = None


class AttachmentStored(Event):
    TYPE: ClassVar[str] = "attachment.stored.v1"
    attachment_id: uuid.UUID
    org_id: uuid.UUID
    sha256: str
    size: int
    content_type: str
    stored_at: datetime


class DeliveryStateChanged(Event):
    """A delivery left the inbox flow: recalled by the sender, or returned, rejected or reported invalid by
    its recipient. `reason` is the clerk's note (free text)."""

    delivery_id: uuid.UUID
    letter_id: uuid.UUID
    sender_org_id: uuid.UUID
    recipient_org_id: uuid.UUID
    status: str
    reason: str = ""
    occurred_at: datetime


class DeliveryRecalled(DeliveryStateChanged):
    TYPE: ClassVar[str] = "delivery.recalled.v1"  # ดึงคืน


class DeliveryReturned(DeliveryStateChanged):
    TYPE: ClassVar[str] = "delivery.returned.v1"  # คืนเรื่อง


class DeliveryRejected(DeliveryStateChanged):
    TYPE: ClassVar[str] = "delivery.rejected.v1"  # ปฏิเสธ


class DeliveryReportedInvalid(DeliveryStateChanged):
    TYPE: ClassVar[str] = "delivery.reported-invalid.v1"  # แจ้งหนังสือผิด/ส่งผิด


class DeliveryForwarded(Event):
    """ส่งต่อ: a received letter passed on to other units; each gets a new delivery of the same letter."""

    TYPE: ClassVar[str] = "delivery.forwarded.v1"
    delivery_id: uuid.UUID
    letter_id: uuid.UUID
    sender_org_id: uuid.UUID
    recipient_org_id: uuid.UUID  # the unit that forwards
    note: str = ""
    deliveries: list[DeliveryRef]
    occurred_at: datetime


class DeliveryAnnotated(Event):
    """เกษียนหนังสือ: an annotation was added (its text stays in routing; the log keeps that it happened)."""

    TYPE: ClassVar[str] = "delivery.annotated.v1"
    delivery_id: uuid.UUID
    letter_id: uuid.UUID
    sender_org_id: uuid.UUID
    recipient_org_id: uuid.UUID
    annotation_id: uuid.UUID
    decision: str | None = None
    annotated_at: datetime


class LetterCancelled(Event):
    """ยกเลิก: the letter keeps its number and register row, marked cancelled."""

    TYPE: ClassVar[str] = "letter.cancelled.v1"
    letter_id: uuid.UUID
    sender_org_id: uuid.UUID
    reason: str
    cancelled_at: datetime


class RegisterNumberSet(Event):
    """An administrator set where a register's numbering continues (an agency moving from paper mid-year).
    Skipping numbers could hide letters, so every such change is logged."""

    TYPE: ClassVar[str] = "register.number-set.v1"
    org_id: uuid.UUID
    register_name: str  # send | send_circular | receive
    year: int  # Buddhist era
    next_number: int
    set_at: datetime


class ClassifiedViewed(Event):
    """Someone read the content of a classified letter (ลับ, ลับมาก): every such view is logged."""

    TYPE: ClassVar[str] = "letter.viewed.v1"
    letter_id: uuid.UUID
    org_id: uuid.UUID
    secrecy: Secrecy
    viewed_at: datetime


class AttachmentDownloaded(Event):
    """Someone downloaded an attachment of a classified letter."""

    TYPE: ClassVar[str] = "attachment.downloaded.v1"
    attachment_id: uuid.UUID
    letter_id: uuid.UUID | None = None
    org_id: uuid.UUID
    secrecy: Secrecy
    downloaded_at: datetime


class SignInFailed(Event):
    """A sign-in with a wrong password or an unknown name. The name is kept only as a hash, so the log holds
    no personal data yet still shows repeated guessing at one account."""

    TYPE: ClassVar[str] = "auth.sign-in-failed.v1"
    username_sha256: str
    failed_at: datetime


class ExternalSignInRefused(Event):
    """A sign-in through the agency's identity provider that was refused, and why. The name, when the provider
    gave one, is kept only as a hash, as for a failed password sign-in."""

    TYPE: ClassVar[str] = "auth.external-sign-in-refused.v1"
    reason: Literal["state", "provider_error", "code", "id_token", "no_username", "unknown_user", "disabled_user"]
    username_sha256: str | None = None
    refused_at: datetime


class AccountRequested(Event):
    """Someone the identity provider vouched for but who had no account here: a disabled account was made for
    an administrator to approve (a unit and roles are given then)."""

    TYPE: ClassVar[str] = "auth.account-requested.v1"
    username: str
    display_name: str
    requested_at: datetime


class RequestDenied(Event):
    """The gateway's policy refused an action to a role that may never take it."""

    TYPE: ClassVar[str] = "request.denied.v1"
    action: str
    org_id: uuid.UUID
    denied_at: datetime


class AccessDenied(Event):
    """A request for classified content was refused for lack of clearance."""

    TYPE: ClassVar[str] = "access.denied.v1"
    resource: Literal["letter", "attachment"]
    resource_id: uuid.UUID
    letter_id: uuid.UUID | None = None
    org_id: uuid.UUID
    secrecy: Secrecy
    denied_at: datetime


class UserCreated(Event):
    """An account was made: by an administrator, an import, the command line (actor `cli`). Only what decides
    access is carried: never a name, an e-mail address, a password or its hash."""

    TYPE: ClassVar[str] = "user.created.v1"
    username: str
    org_id: uuid.UUID | None  # None: an administrator made before the directory had any unit
    roles: list[str]
    clearance: Secrecy
    active: bool
    password_set: bool
    created_at: datetime


class UserChanged(Event):
    """An account was changed: the names of the fields that changed, and the account's access afterwards."""

    TYPE: ClassVar[str] = "user.changed.v1"
    username: str
    fields: list[str]  # e.g. ["org", "roles", "active", "password"]
    org_id: uuid.UUID | None
    roles: list[str]
    clearance: Secrecy
    active: bool
    password_set: bool  # a new password was set (never the password itself)
    changed_at: datetime


class SignInLinkIssued(Event):
    """An administrator made a one-time sign-in link for someone (any older one stops working)."""

    TYPE: ClassVar[str] = "user.sign-in-link-issued.v1"
    username: str
    expires_at: datetime
    issued_at: datetime


class SignedInByLink(Event):
    """Someone signed in with a one-time link, which can never be used again."""

    TYPE: ClassVar[str] = "user.signed-in-by-link.v1"
    username: str
    signed_in_at: datetime


class DirectoryUnit(BaseModel):
    """A unit of the directory as routing keeps it and as the import file states it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    key: str
    name: str
    name_en: str | None = None
    code: str  # the letter-number prefix, e.g. "กค 0402"
    national_code: str | None = None  # 10 digits, the first two the ministry
    kind: Literal["ministry", "ops", "department", "division", "section"]
    parent_key: str | None = None
    own_registers: bool = True  # False: it uses its parent's central registry (สารบรรณกลาง)
    valid_from: date | None = None
    valid_to: date | None = None  # its last day


class DirectoryUnitEvent(Event):
    """A change to the directory (routing owns it); other services keep what they need of the unit."""

    org_id: uuid.UUID
    parent_org_id: uuid.UUID | None = None
    unit: DirectoryUnit
    occurred_at: datetime


class DirectoryUnitAdded(DirectoryUnitEvent):
    TYPE: ClassVar[str] = "directory.unit.added.v1"


class DirectoryUnitChanged(DirectoryUnitEvent):
    TYPE: ClassVar[str] = "directory.unit.changed.v1"
    changed_fields: list[str]  # names of the fields that differ, e.g. ["name", "code"]


class DirectoryUnitRetired(DirectoryUnitEvent):
    """The unit's last day has passed (unit.valid_to): no new letters to it; old ones still name it."""

    TYPE: ClassVar[str] = "directory.unit.retired.v1"


# ── Drafting and signing (ร่าง → เสนอ → ลงนาม → ส่ง) ─────────────────────────────────────────────────────────


class DraftStep(Event):
    """A step on a draft's way to its signer: who (the envelope's actor), when, on which version. Drafts take
    no number; `org_id` is the unit that owns the draft."""

    draft_id: uuid.UUID
    org_id: uuid.UUID
    version: int
    occurred_at: datetime
    reason: str | None = None  # why it was returned (คืนแก้ไข)
    # Whose turn it is after the step (a reviewer, the signer, or the author); added compatibly.
    current: str | None = None
    # The draft's status after the step (draft | in_review | awaiting_signature | returned), which tells a
    # reviewer's turn from the signer's; added compatibly.
    status: str | None = None


class DraftCreated(DraftStep):
    TYPE: ClassVar[str] = "draft.created.v1"


class DraftEdited(DraftStep):
    """A new version; the earlier ones are kept."""

    TYPE: ClassVar[str] = "draft.edited.v1"


class DraftProposed(DraftStep):
    """เสนอ: the author sends it up the line, to the first reviewer (or the signer when there is none)."""

    TYPE: ClassVar[str] = "draft.proposed.v1"


class DraftEndorsed(DraftStep):
    TYPE: ClassVar[str] = "draft.endorsed.v1"


class DraftReturned(DraftStep):
    """Sent back to the author with a reason, by a reviewer or the signer."""

    TYPE: ClassVar[str] = "draft.returned.v1"


class DraftRecalled(DraftStep):
    """The author took it back before the next person acted."""

    TYPE: ClassVar[str] = "draft.recalled.v1"


class DraftSigned(Event):
    """ลงนาม: the letter took its number and date in the send register and its PDF was signed (PAdES).
    `signer` signed; `on_behalf_of` is set when they signed under a delegation (ปฏิบัติราชการแทน: `delegated`,
    รักษาราชการแทน: `acting`)."""

    TYPE: ClassVar[str] = "draft.signed.v1"
    draft_id: uuid.UUID
    org_id: uuid.UUID
    version: int
    letter_id: uuid.UUID
    doc_no: str
    signer: str
    on_behalf_of: str | None = None
    delegation_kind: Literal["delegated", "acting"] | None = None
    signed_at: datetime
    pdf_attachment_id: uuid.UUID
    pdf_sha256: str


class SignatureInvalid(Event):
    """A signed PDF of a sent letter failed verification when it was delivered; recipients are warned."""

    TYPE: ClassVar[str] = "letter.signature-invalid.v1"
    letter_id: uuid.UUID
    attachment_id: uuid.UUID
    sender_org_id: uuid.UUID
    problem: str
    checked_at: datetime


# ── Work on a received letter (เสนอ → สั่งการ → มอบหมาย → ดำเนินการ → เรื่องเสร็จ) ───────────────────────────────────


class DeliveryWorkStep(Event):
    """A step of the work a receiving unit does on its delivery of a letter; who is the envelope's actor. Free
    text (a summary, a note, a result, a reason) stays with routing and never travels in these events."""

    delivery_id: uuid.UUID
    letter_id: uuid.UUID
    org_id: uuid.UUID  # the unit whose delivery it is
    sender_org_id: uuid.UUID
    occurred_at: datetime


class DeliveryProposed(DeliveryWorkStep):
    """เสนอ: the unit's clerk puts the letter before a head, with a summary."""

    TYPE: ClassVar[str] = "delivery.proposed.v1"
    to_username: str


class DeliveryOrdered(DeliveryWorkStep):
    """เกษียนสั่งการ: a head's order, locked once given; a later order supersedes it. Divisions assigned get a
    delivery of their own (as by forwarding); people assigned act; `for_information` must acknowledge."""

    TYPE: ClassVar[str] = "delivery.ordered.v1"
    order_id: uuid.UUID
    decision: str  # acknowledged | act | approved | not_approved | other
    deadline: datetime | None = None
    assignee_org_ids: list[uuid.UUID] = []
    assignee_usernames: list[str] = []
    for_information: list[str] = []
    supersedes: uuid.UUID | None = None


class DeliverySuspended(DeliveryWorkStep):
    """The assignee suspends the matter (the deadline clock pauses)."""

    TYPE: ClassVar[str] = "delivery.suspended.v1"


class DeliveryResumed(DeliveryWorkStep):
    TYPE: ClassVar[str] = "delivery.resumed.v1"


class DeliveryClosed(DeliveryWorkStep):
    """เรื่องเสร็จ for this unit; the sender sees when each recipient unit closed it."""

    TYPE: ClassVar[str] = "delivery.closed.v1"


class DeliveryReopened(DeliveryWorkStep):
    TYPE: ClassVar[str] = "delivery.reopened.v1"


class DeliveryAcknowledged(DeliveryWorkStep):
    """รับทราบ by a person given the letter for information; once, never undone."""

    TYPE: ClassVar[str] = "delivery.acknowledged.v1"
    username: str


class UserContact(Event):
    """Where a person is reached (their e-mail address), for notifications; published when it is set or
    changed. The audit log keeps only that it changed, never the address."""

    TYPE: ClassVar[str] = "user.contact.v1"
    username: str
    email: str | None
    changed_at: datetime


EVENTS: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        LetterSent,
        LetterCancelled,
        DeliveryDelivered,
        DeliveryReceived,
        DeliveryRecalled,
        DeliveryReturned,
        DeliveryRejected,
        DeliveryReportedInvalid,
        DeliveryForwarded,
        DeliveryAnnotated,
        AttachmentStored,
        ClassifiedViewed,
        AttachmentDownloaded,
        AccessDenied,
        RegisterNumberSet,
        UserCreated,
        UserChanged,
        SignInLinkIssued,
        SignedInByLink,
        SignInFailed,
        ExternalSignInRefused,
        AccountRequested,
        RequestDenied,
        DirectoryUnitAdded,
        DirectoryUnitChanged,
        DirectoryUnitRetired,
        DraftCreated,
        DraftEdited,
        DraftProposed,
        DraftEndorsed,
        DraftReturned,
        DraftRecalled,
        DraftSigned,
        SignatureInvalid,
        DeliveryProposed,
        DeliveryOrdered,
        DeliverySuspended,
        DeliveryResumed,
        DeliveryClosed,
        DeliveryReopened,
        DeliveryAcknowledged,
        UserContact,
    )
}


def parse(envelope: Envelope) -> Event:
    """The typed payload of an envelope; raises ValueError for an unknown type or invalid data."""
    cls = EVENTS.get(envelope.type)
    if cls is None:
        raise ValueError(f"unknown event type {envelope.type!r}")
    return cls.model_validate(envelope.data)


def base_type(event_type: str) -> str:
    """`letter.sent.v1` -> `letter.sent`, the name shown to people."""
    head, _, version = event_type.rpartition(".")
    return head if version.startswith("v") and version[1:].isdigit() else event_type
