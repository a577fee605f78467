"""What an event contributes to the audit log: one leaf, and the parties of the letter it concerns. No I/O.

An entry holds only ids, types, times, org ids, the actor and hashes: never a subject, a body or a person's
name. Leaves are never changed or deleted, so nothing that privacy law might one day require us to erase may
go into one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.audit.domain.log import canonical_json, leaf_hash, utc_text
from shared.contracts import (
    EVENTS,
    AccessDenied,
    AccountRequested,
    AttachmentDownloaded,
    AttachmentStored,
    ClassifiedViewed,
    DeliveryAnnotated,
    DeliveryClosed,
    DeliveryDelivered,
    DeliveryForwarded,
    DeliveryReceived,
    DeliveryStateChanged,
    DeliveryWorkStep,
    DirectoryUnitChanged,
    DirectoryUnitEvent,
    DirectoryUnitRetired,
    DraftSigned,
    DraftStep,
    Envelope,
    ExternalSignInRefused,
    LetterCancelled,
    LetterSent,
    RegisterNumberSet,
    RequestDenied,
    SignatureInvalid,
    SignedInByLink,
    SignInFailed,
    SignInLinkIssued,
    UserChanged,
    UserContact,
    UserCreated,
)

# Bumped if the mapping from events to entries ever changes, so old and new leaves can be told apart.
ENTRY_VERSION = 1

SENDER = "sender"
RECIPIENT = "recipient"


@dataclass(frozen=True)
class Party:
    """An org involved in a letter. A recipient is tied to its own delivery: it may see that delivery's
    events but not those of the other recipients (the same rule intake applies to the recipient list)."""

    org_id: uuid.UUID
    role: str  # SENDER or RECIPIENT
    delivery_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Leaf:
    event_id: uuid.UUID
    type: str  # the versioned type, e.g. letter.sent.v1
    occurred_at: datetime
    letter_id: uuid.UUID | None
    delivery_id: uuid.UUID | None
    org_id: uuid.UUID | None  # the acting org
    entry: bytes
    parties: tuple[Party, ...] = ()

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.entry)


def leaf_for(envelope: Envelope) -> Leaf:
    """The leaf of one event. Raises ValueError when a known event type carries invalid data."""
    cls = EVENTS.get(envelope.type)
    if cls is None:
        return _unknown(envelope)
    event = cls.model_validate(envelope.data)
    if isinstance(event, LetterSent):
        return _letter_sent(envelope, event)
    if isinstance(event, DeliveryDelivered | DeliveryReceived):
        return _delivery(envelope, event)
    if isinstance(event, DeliveryStateChanged):
        return _state_change(envelope, event)
    if isinstance(event, DeliveryForwarded):
        return _forwarded(envelope, event)
    if isinstance(event, DeliveryAnnotated):
        return _annotated(envelope, event)
    if isinstance(event, LetterCancelled):
        return _cancelled(envelope, event)
    if isinstance(event, AttachmentStored):
        return _attachment(envelope, event)
    if isinstance(event, ClassifiedViewed | AttachmentDownloaded | AccessDenied):
        return _access(envelope, event)
    if isinstance(event, RegisterNumberSet):
        return _number_set(envelope, event)
    if isinstance(event, SignInFailed | RequestDenied | ExternalSignInRefused | AccountRequested):
        return _refusal(envelope, event)
    if isinstance(event, UserCreated | UserChanged | SignInLinkIssued | SignedInByLink):
        return _person(envelope, event)
    if isinstance(event, DirectoryUnitEvent):
        return _directory_change(envelope, event)
    if isinstance(event, DeliveryWorkStep):
        return _work_step(envelope, event)
    if isinstance(event, UserContact):
        facts = {"username": event.username, "email_set": event.email is not None}
        return _letterless(envelope, event.changed_at, None, facts)
    if isinstance(event, DraftStep):
        return _draft_step(envelope, event)
    if isinstance(event, DraftSigned | SignatureInvalid):
        return _signature(envelope, event)
    return _unknown(envelope)  # a contract added to shared/ before this mapping learnt it


def _entry(envelope: Envelope, occurred_at: datetime, facts: dict) -> bytes:
    return canonical_json(
        {
            "v": ENTRY_VERSION,
            "event_id": str(envelope.id),
            "type": envelope.type,
            "source": envelope.source,
            "actor": envelope.actor,
            "occurred_at": utc_text(occurred_at),
            **facts,
        }
    )


def _letter_sent(envelope: Envelope, event: LetterSent) -> Leaf:
    facts = {
        "letter_id": str(event.letter_id),
        "doc_no": event.doc_no,  # the official number (ที่): an identifier built from the unit's code
        "sender_org_id": str(event.sender_org_id),
        "letter_type": event.letter_type,
        "urgency": event.urgency,
        "secrecy": event.secrecy,
        "circular": event.circular,
        "attachment_ids": [str(a) for a in event.attachment_ids],
        "deliveries": [
            {"delivery_id": str(d.delivery_id), "recipient_org_id": str(d.recipient_org_id)} for d in event.deliveries
        ],
    }
    parties = (Party(event.sender_org_id, SENDER),) + tuple(
        Party(d.recipient_org_id, RECIPIENT, d.delivery_id) for d in event.deliveries
    )
    return Leaf(
        event_id=envelope.id,
        type=envelope.type,
        occurred_at=event.sent_at,
        letter_id=event.letter_id,
        delivery_id=None,
        org_id=event.sender_org_id,
        entry=_entry(envelope, event.sent_at, facts),
        parties=parties,
    )


def _delivery(envelope: Envelope, event: DeliveryDelivered | DeliveryReceived) -> Leaf:
    facts = {
        "letter_id": str(event.letter_id),
        "delivery_id": str(event.delivery_id),
        "sender_org_id": str(event.sender_org_id),
        "recipient_org_id": str(event.recipient_org_id),
    }
    if isinstance(event, DeliveryReceived):
        occurred_at = event.received_at
        facts |= {"receive_no": event.receive_no, "register_year": event.register_year}
    else:
        occurred_at = event.delivered_at
    # Parties come from delivery events too, so scope holds even if one overtakes its letter.sent on retry.
    parties = (
        Party(event.sender_org_id, SENDER),
        Party(event.recipient_org_id, RECIPIENT, event.delivery_id),
    )
    return Leaf(
        event_id=envelope.id,
        type=envelope.type,
        occurred_at=occurred_at,
        letter_id=event.letter_id,
        delivery_id=event.delivery_id,
        org_id=event.recipient_org_id,  # the recipient is the one acting on its delivery
        entry=_entry(envelope, occurred_at, facts),
        parties=parties,
    )


def _state_change(envelope: Envelope, event: DeliveryStateChanged) -> Leaf:
    """Recalled, returned, rejected, reported invalid. The clerk's reason is free text and stays out."""
    facts = {
        "letter_id": str(event.letter_id),
        "delivery_id": str(event.delivery_id),
        "sender_org_id": str(event.sender_org_id),
        "recipient_org_id": str(event.recipient_org_id),
        "status": event.status,
    }
    recalled = event.status == "recalled"  # the sender acts on a recall, the recipient on the others
    return Leaf(
        event_id=envelope.id,
        type=envelope.type,
        occurred_at=event.occurred_at,
        letter_id=event.letter_id,
        delivery_id=event.delivery_id,
        org_id=event.sender_org_id if recalled else event.recipient_org_id,
        entry=_entry(envelope, event.occurred_at, facts),
        parties=(Party(event.sender_org_id, SENDER), Party(event.recipient_org_id, RECIPIENT, event.delivery_id)),
    )


def _forwarded(envelope: Envelope, event: DeliveryForwarded) -> Leaf:
    facts = {
        "letter_id": str(event.letter_id),
        "delivery_id": str(event.delivery_id),
        "sender_org_id": str(event.sender_org_id),
        "recipient_org_id": str(event.recipient_org_id),
        "deliveries": [
            {"delivery_id": str(d.delivery_id), "recipient_org_id": str(d.recipient_org_id)} for d in event.deliveries
        ],
    }
    parties = (Party(event.sender_org_id, SENDER), Party(event.recipient_org_id, RECIPIENT, event.delivery_id))
    parties += tuple(Party(d.recipient_org_id, RECIPIENT, d.delivery_id) for d in event.deliveries)
    return Leaf(
        event_id=envelope.id,
        type=envelope.type,
        occurred_at=event.occurred_at,
        letter_id=event.letter_id,
        delivery_id=event.delivery_id,
        org_id=event.recipient_org_id,
        entry=_entry(envelope, event.occurred_at, facts),
        parties=parties,
    )


def _annotated(envelope: Envelope, event: DeliveryAnnotated) -> Leaf:
    """That an annotation was made, and its decision; its text stays in routing."""
    facts = {
        "letter_id": str(event.letter_id),
        "delivery_id": str(event.delivery_id),
        "recipient_org_id": str(event.recipient_org_id),
        "annotation_id": str(event.annotation_id),
        "decision": event.decision,
    }
    return Leaf(
        event_id=envelope.id,
        type=envelope.type,
        occurred_at=event.annotated_at,
        letter_id=event.letter_id,
        delivery_id=event.delivery_id,
        org_id=event.recipient_org_id,
        entry=_entry(envelope, event.annotated_at, facts),
        parties=(Party(event.sender_org_id, SENDER), Party(event.recipient_org_id, RECIPIENT, event.delivery_id)),
    )


def _cancelled(envelope: Envelope, event: LetterCancelled) -> Leaf:
    facts = {"letter_id": str(event.letter_id), "sender_org_id": str(event.sender_org_id)}
    return Leaf(
        event_id=envelope.id,
        type=envelope.type,
        occurred_at=event.cancelled_at,
        letter_id=event.letter_id,
        delivery_id=None,
        org_id=event.sender_org_id,
        entry=_entry(envelope, event.cancelled_at, facts),
        parties=(Party(event.sender_org_id, SENDER),),
    )


def _attachment(envelope: Envelope, event: AttachmentStored) -> Leaf:
    facts = {
        "attachment_id": str(event.attachment_id),
        "org_id": str(event.org_id),
        "sha256": event.sha256,
        "size": event.size,
        "content_type": event.content_type,
    }
    return Leaf(
        event_id=envelope.id,
        type=envelope.type,
        occurred_at=event.stored_at,
        letter_id=None,
        delivery_id=None,
        org_id=event.org_id,
        entry=_entry(envelope, event.stored_at, facts),
    )


def _access(envelope: Envelope, event: ClassifiedViewed | AttachmentDownloaded | AccessDenied) -> Leaf:
    """Views and downloads of classified content, and refusals: who (org, actor), what (ids, level), when."""
    facts = {k: str(v) for k, v in event.model_dump().items() if v is not None and not k.endswith("_at")}
    occurred_at = getattr(event, "viewed_at", None) or getattr(event, "downloaded_at", None) or event.denied_at
    return Leaf(
        event_id=envelope.id,
        type=envelope.type,
        occurred_at=occurred_at,
        letter_id=event.letter_id,
        delivery_id=None,
        org_id=event.org_id,
        entry=_entry(envelope, occurred_at, facts),
    )


def _number_set(envelope: Envelope, event: RegisterNumberSet) -> Leaf:
    facts = {
        "org_id": str(event.org_id),
        "register": event.register_name,
        "year": event.year,
        "next_number": event.next_number,
    }
    return Leaf(
        event_id=envelope.id,
        type=envelope.type,
        occurred_at=event.set_at,
        letter_id=None,
        delivery_id=None,
        org_id=event.org_id,
        entry=_entry(envelope, event.set_at, facts),
    )


def _refusal(
    envelope: Envelope, event: SignInFailed | RequestDenied | ExternalSignInRefused | AccountRequested
) -> Leaf:
    """Failed or refused sign-ins (the name only as a hash), actions refused by role, and accounts asked for
    through the identity provider."""
    fields = event.model_dump()
    occurred_at = next(value for name, value in fields.items() if name.endswith("_at"))
    facts = {k: str(v) for k, v in fields.items() if not k.endswith("_at") and v is not None}
    return _letterless(envelope, occurred_at, getattr(event, "org_id", None), facts)


PersonEvent = UserCreated | UserChanged | SignInLinkIssued | SignedInByLink


def _person(envelope: Envelope, event: PersonEvent) -> Leaf:
    """Who (the actor) changed what (field names, the account's access afterwards) of whom (the username).
    The contracts carry no name, e-mail address or password material, so none can reach a leaf."""
    moment = _moment_field(event)
    occurred_at = getattr(event, moment)
    facts = {k: v for k, v in event.model_dump(mode="json").items() if k != moment}
    return _letterless(envelope, occurred_at, getattr(event, "org_id", None), facts)


def _moment_field(event: PersonEvent) -> str:
    return {
        UserCreated: "created_at",
        UserChanged: "changed_at",
        SignInLinkIssued: "issued_at",
        SignedInByLink: "signed_in_at",
    }[type(event)]


def _directory_change(envelope: Envelope, event: DirectoryUnitEvent) -> Leaf:
    """Who (the envelope's actor) added, changed or retired which unit (its id and key), and which of its
    fields changed: the names of the fields, not their new values."""
    facts = {"org_id": str(event.org_id), "key": event.unit.key, "kind": event.unit.kind}
    if event.parent_org_id:
        facts["parent_org_id"] = str(event.parent_org_id)
    if isinstance(event, DirectoryUnitChanged):
        facts["changed_fields"] = list(event.changed_fields)
    if isinstance(event, DirectoryUnitRetired) and event.unit.valid_to:
        facts["valid_to"] = event.unit.valid_to.isoformat()
    return _letterless(envelope, event.occurred_at, event.org_id, facts)


def _work_step(envelope: Envelope, event: DeliveryWorkStep) -> Leaf:
    """Work on a received letter, in the recipient's part of its history (a closing in the sender's too): ids,
    people's usernames, the decision and deadline; never the free text that went with them."""
    facts = event.model_dump(mode="json", exclude={"occurred_at"})
    parties = (Party(event.org_id, RECIPIENT, event.delivery_id),)
    if isinstance(event, DeliveryClosed):
        parties += (Party(event.sender_org_id, SENDER),)
    return Leaf(
        event_id=envelope.id,
        type=envelope.type,
        occurred_at=event.occurred_at,
        letter_id=event.letter_id,
        delivery_id=event.delivery_id,
        org_id=event.org_id,
        entry=_entry(envelope, event.occurred_at, facts),
        parties=parties,
    )


def _draft_step(envelope: Envelope, event: DraftStep) -> Leaf:
    """Who moved which draft, on which version. A return's reason is free text and stays out of the leaf."""
    facts = {"draft_id": str(event.draft_id), "org_id": str(event.org_id), "version": event.version}
    return _letterless(envelope, event.occurred_at, event.org_id, facts)


def _signature(envelope: Envelope, event: DraftSigned | SignatureInvalid) -> Leaf:
    """A signing (the letter's number, who signed, for whom, the signed PDF's hash) or a signature that failed
    verification on delivery; both belong to the letter's history on the sender's side."""
    if isinstance(event, DraftSigned):
        org_id, occurred_at = event.org_id, event.signed_at
        facts = event.model_dump(mode="json", exclude={"signed_at"})
    else:
        org_id, occurred_at = event.sender_org_id, event.checked_at
        facts = event.model_dump(mode="json", exclude={"checked_at"})
    return Leaf(
        event_id=envelope.id,
        type=envelope.type,
        occurred_at=occurred_at,
        letter_id=event.letter_id,
        delivery_id=None,
        org_id=org_id,
        entry=_entry(envelope, occurred_at, facts),
        parties=(Party(org_id, SENDER),),
    )


def _letterless(envelope: Envelope, occurred_at: datetime, org_id, facts: dict) -> Leaf:
    """The leaf of an event about people or the directory rather than a letter."""
    return Leaf(
        event_id=envelope.id,
        type=envelope.type,
        occurred_at=occurred_at,
        letter_id=None,
        delivery_id=None,
        org_id=org_id,
        entry=_entry(envelope, occurred_at, facts),
    )


def _unknown(envelope: Envelope) -> Leaf:
    """A type this version does not know (a newer publisher) is still logged, so the log has no holes, but
    with the envelope's facts only: its data may hold free text whose privacy cannot be judged here."""
    return Leaf(
        event_id=envelope.id,
        type=envelope.type,
        occurred_at=envelope.time,
        letter_id=None,
        delivery_id=None,
        org_id=None,
        entry=_entry(envelope, envelope.time, {}),
    )
