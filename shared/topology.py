"""The broker topology: which queue each consumer reads and which event types it is bound to.

Every process declares all of it on connect (declarations are idempotent), so services may start in any
order and a published event always has somewhere to go. deploy/rabbitmq/definitions.json is generated from
this table (`sarabun topology`), and a test keeps the two equal.
"""

from __future__ import annotations

from shared.contracts import (
    EVENTS,
    DeliveryClosed,
    DeliveryDelivered,
    DeliveryForwarded,
    DeliveryOrdered,
    DeliveryProposed,
    DeliveryReceived,
    DeliveryReopened,
    DeliveryResumed,
    DeliverySuspended,
    DirectoryUnitAdded,
    DirectoryUnitChanged,
    DirectoryUnitRetired,
    DraftEndorsed,
    DraftProposed,
    LetterSent,
    UserChanged,
    UserContact,
    UserCreated,
)

QUEUES: dict[str, tuple[str, ...]] = {
    "intake.delivery-forwarded": (DeliveryForwarded.TYPE,),
    # Intake's copy of the directory, so a letter's recipients are checked without a call to routing.
    "intake.directory": (DirectoryUnitAdded.TYPE, DirectoryUnitChanged.TYPE, DirectoryUnitRetired.TYPE),
    "routing.letter-sent": (LetterSent.TYPE,),
    "storage.letter-sent": (LetterSent.TYPE,),
    # Storage stamps the receipt (ตรารับ) onto a copy of each PDF a unit registers.
    "storage.delivery-received": (DeliveryReceived.TYPE,),
    "storage.delivery-forwarded": (DeliveryForwarded.TYPE,),
    "audit.events": ("#",),
    # Notify learns people, letters and orders and tells people of their turn; one queue keeps a letter's
    # letter.sent before its deliveries and an account before its address.
    "notify.events": (
        UserCreated.TYPE,
        UserChanged.TYPE,
        UserContact.TYPE,
        LetterSent.TYPE,
        DeliveryDelivered.TYPE,
        DeliveryProposed.TYPE,
        DeliveryOrdered.TYPE,
        DeliverySuspended.TYPE,
        DeliveryResumed.TYPE,
        DeliveryClosed.TYPE,
        DeliveryReopened.TYPE,
        DraftProposed.TYPE,
        DraftEndorsed.TYPE,
    ),
}

# How long a failed message waits in its retry queue before it is tried again. Part of the queue's declared
# arguments, so it is a constant: a broker refuses to redeclare a queue with different arguments.
RETRY_DELAY_MS = 2000

# Every event type a service publishes, so publishing a type no queue listens to is caught in tests.
PUBLISHED = tuple(EVENTS)


def retry_queue(queue: str) -> str:
    return f"{queue}.retry"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dlq"


def matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: `*` is one word, `#` zero or more."""
    return _match(pattern.split("."), routing_key.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])
