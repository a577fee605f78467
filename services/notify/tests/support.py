"""What notify's tests share: a real SMTP server on loopback that keeps what it receives (and can refuse, or
be away), a clock the tests set, events as the other services publish them, and the service itself."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from shared.contracts import (
    DeliveryDelivered,
    DeliveryOrdered,
    DeliveryProposed,
    DraftEndorsed,
    DraftProposed,
    Envelope,
    LetterSent,
    UserContact,
    UserCreated,
)
from shared.seed import org_id

CGD, BUDGET, RD = org_id("cgd"), org_id("cgd.budget"), org_id("rd")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """aiosmtpd's handler: keeps every message it accepts; answers `refusal` instead while it is set."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.refusal: str | None = None
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refusal:
            self.refused += 1
            return self.refusal
        received = message_from_bytes(envelope.original_content, policy=policy.default)
        received.raw = envelope.original_content
        self.messages.append(received)
        return "250 2.0.0 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def header(message: EmailMessage, name: str) -> str:
    """A header as a mail client shows it. Python's own address parser puts a space between two encoded words
    of a Thai display name (they are joined without one, RFC 2047 section 6.2), so it is decoded from the raw
    text instead."""
    raw = message_from_bytes(message.raw, policy=policy.compat32)[name]
    return str(make_header(decode_header(raw)))


@dataclass
class SmtpServer:
    """A real SMTP server on a loopback port, which may be started late (a server that is down) or stopped."""

    port: int = field(default_factory=free_port)
    inbox: Inbox = field(default_factory=Inbox)
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Clock:
    """The service's clock in the tests: the real time until a test sets it, then moved on by hand."""

    def __init__(self):
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)

    def set(self, moment: datetime) -> None:
        self.now = moment

    def move(self, **delta) -> None:
        self.now = self() + timedelta(**delta)


async def eventually(check, within: float = 10.0, interval: float = 0.02):
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(interval)


# ── Events, as the other services publish them ──────────────────────────────────────────────────────────


def _envelope(event, actor: str | None = "someone", subject: str = "x") -> Envelope:
    return event.envelope(source="test", subject=subject, actor=actor, correlation_id=None)


def person(username: str, unit=CGD, roles=("clerk",), active=True, at: datetime | None = None) -> Envelope:
    event = UserCreated(
        username=username,
        org_id=unit,
        roles=list(roles),
        clearance="normal",
        active=active,
        password_set=True,
        created_at=at or datetime.now(UTC),
    )
    return _envelope(event, "admin")


def contact(username: str, email: str | None, at: datetime | None = None) -> Envelope:
    return _envelope(UserContact(username=username, email=email, changed_at=at or datetime.now(UTC)), "admin")


def letter_sent(urgency="urgent", secrecy="normal", subject="ขอเชิญประชุม", doc_no="กค 0200/1") -> Envelope:
    event = LetterSent(
        letter_id=uuid.uuid4(),
        doc_no=doc_no,
        sender_org_id=org_id("ops"),
        letter_type="external",
        subject=subject,
        urgency=urgency,
        secrecy=secrecy,
        circular=False,
        sent_at=datetime.now(UTC),
        attachment_ids=[],
        deliveries=[],
    )
    return _envelope(event, "ops.clerk")


def delivered(letter: Envelope, to=CGD) -> Envelope:
    event = DeliveryDelivered(
        delivery_id=uuid.uuid4(),
        letter_id=letter.data["letter_id"],
        sender_org_id=org_id("ops"),
        recipient_org_id=to,
        delivered_at=datetime.now(UTC),
    )
    return _envelope(event, None)


def _step(letter: Envelope, delivery_id=None) -> dict:
    return {
        "delivery_id": delivery_id or uuid.uuid4(),
        "letter_id": letter.data["letter_id"],
        "org_id": CGD,
        "sender_org_id": org_id("ops"),
        "occurred_at": datetime.now(UTC),
    }


def proposed(letter: Envelope, to: str, by: str = "cgd.clerk") -> Envelope:
    return _envelope(DeliveryProposed(**_step(letter), to_username=to), by)


def ordered(
    letter: Envelope,
    by: str = "cgd.dg",
    deadline: datetime | None = None,
    assignees=(),
    for_information=(),
    supersedes=None,
    delivery_id=None,
) -> Envelope:
    event = DeliveryOrdered(
        **_step(letter, delivery_id),
        order_id=uuid.uuid4(),
        decision="act",
        deadline=deadline,
        assignee_usernames=list(assignees),
        for_information=list(for_information),
        supersedes=supersedes,
    )
    return _envelope(event, by)


def draft_step(kind, current: str, status: str | None, by: str, draft_id=None, version=1) -> Envelope:
    cls = {"proposed": DraftProposed, "endorsed": DraftEndorsed}[kind]
    event = cls(
        draft_id=draft_id or uuid.uuid4(),
        org_id=BUDGET,
        version=version,
        occurred_at=datetime.now(UTC),
        current=current,
        status=status,
    )
    return _envelope(event, by)


def work_step(cls, letter: Envelope, delivery_id, by: str, at: datetime) -> Envelope:
    """delivery.suspended / resumed / closed / reopened of a delivery, at a given time."""
    step = _step(letter, delivery_id) | {"occurred_at": at}
    return _envelope(cls(**step), by)
