"""Rules of an outgoing letter (หนังสือส่ง): what may be sent and how it is numbered. No I/O here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.principal import CLEARANCE_ORDER

SEND_REGISTER = "send"  # ทะเบียนหนังสือส่ง
CIRCULAR_REGISTER = "send_circular"  # หนังสือเวียน: own series, prefix ว
CIRCULAR_PREFIX = "ว"


class LetterRefused(Exception):
    """A letter the regulation or the caller's input does not allow; `field` names what to fix, `errors` says
    it per item when there are several (each unknown recipient, for instance)."""

    def __init__(self, field_name: str, message: str, errors: list[dict] | None = None):
        super().__init__(message)
        self.field = field_name
        self.message = message
        self.errors = errors or [{"field": field_name, "message": message}]


@dataclass(frozen=True)
class NewLetter:
    letter_type: str
    subject: str
    body: str
    recipient_org_ids: tuple[uuid.UUID, ...]
    circular: bool
    urgency: str
    secrecy: str
    attachment_ids: tuple[uuid.UUID, ...] = ()
    reference_letter_ids: tuple[uuid.UUID, ...] = ()
    salutation: str = ""
    signer_name: str = ""
    signer_position: str = ""
    doc_date: date | None = None  # ลงวันที่
    deliver_by: datetime | None = None  # ด่วนภายใน
    # The remaining parts of an external letter, kept as given: sub_kind, to_text, closing, references,
    # enclosures, cc_org_ids, owning_unit, contact.
    details: dict = field(default_factory=dict)


def check_sendable(letter: NewLetter, sender_org_id: uuid.UUID) -> None:
    """Raises LetterRefused for a letter that may not be sent electronically as given."""
    if letter.secrecy == "top_secret":
        raise LetterRefused(
            "secrecy",
            "หนังสือลับที่สุดส่งทางระบบสารบรรณอิเล็กทรอนิกส์ไม่ได้ ตามระเบียบงานสารบรรณ (แก้ไข 2564) ข้อ 29 "
            "(top_secret letters are never sent electronically)",
        )
    if not letter.subject:
        raise LetterRefused("subject", "ต้องระบุเรื่อง (subject is required)")
    if not letter.recipient_org_ids:
        raise LetterRefused("recipient_org_ids", "ต้องระบุผู้รับอย่างน้อยหนึ่งหน่วยงาน (at least one recipient)")
    if sender_org_id in letter.recipient_org_ids:
        raise LetterRefused("recipient_org_ids", "ส่งหนังสือถึงหน่วยงานของตนเองไม่ได้ (cannot send to own unit)")


def unique_recipients(org_ids) -> tuple[uuid.UUID, ...]:
    """One delivery per recipient: duplicates collapse, first mention keeps its place."""
    return tuple(dict.fromkeys(org_ids))


def doc_no(unit_code: str, number: int, circular: bool) -> str:
    """The letter number ที่: `กค 0200/123`, or `กค 0200/ว 12` for a circular. No year, no padding."""
    running = f"{CIRCULAR_PREFIX} {number}" if circular else str(number)
    return f"{unit_code}/{running}"


def register_for(circular: bool) -> str:
    return CIRCULAR_REGISTER if circular else SEND_REGISTER


def check_clearance(letter: NewLetter, clearance: str) -> None:
    """A clerk may not send a letter classified above what they may read themselves."""
    if CLEARANCE_ORDER.index(letter.secrecy) > CLEARANCE_ORDER.index(clearance):
        raise LetterRefused("secrecy", "ท่านไม่มีสิทธิ์ในชั้นความลับนี้ จึงส่งหนังสือชั้นนี้ไม่ได้ (secrecy above your clearance)")


def check_deadline(letter: NewLetter, now: datetime) -> None:
    """A "ด่วนภายใน" deadline must still be ahead when the letter is sent."""
    if letter.deliver_by is not None and letter.deliver_by <= now:
        raise LetterRefused("deliver_by", "กำหนด ด่วนภายใน ต้องเป็นเวลาในอนาคต (deliver_by must be in the future)")
