"""What the send register (ทะเบียนหนังสือส่ง, intake) and the receive register (ทะเบียนหนังสือรับ, routing)
share: which years may be read or set, and the request that sets where numbering continues. One definition,
so the gateway and the services that re-check it never disagree."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared import thai
from shared.contracts import RegisterNumberSet
from shared.counters import NumberAlreadyIssued, set_next_number
from shared.outbox import stage
from shared.paging import decode_cursor
from shared.principal import Principal, visible_subject
from shared.problems import Problem
from shared.web import correlation_id

log = logging.getLogger("sarabun.registers")

REGISTERS = ("send", "receive")
YEAR_MIN, YEAR_MAX = 2400, 2700  # Buddhist era: a Christian-era year such as 2026 is a mistake, not history
# No unit issues a million letters a year; the bound also keeps `next_no + 1` inside a 32-bit column.
NUMBER_MAX = 999_999
PAGE_MAX = 1000


class NextNumberRequest(BaseModel):
    """`PUT /registers/{register}/next-number`: the number the register hands out next."""

    model_config = ConfigDict(extra="forbid")

    year: int
    next_number: Annotated[int, Field(ge=1, le=NUMBER_MAX)]
    org_id: uuid.UUID | None = None  # the admin's own unit when absent
    series: Literal["circular"] | None = None  # send register only: the ว series of circulars


def check_register(name: str) -> str:
    if name not in REGISTERS:
        message = f"ไม่มีทะเบียน {name!r} ใช้ send (ทะเบียนหนังสือส่ง) หรือ receive (ทะเบียนหนังสือรับ) (unknown register)"
        raise Problem(422, message, errors=[{"field": "register", "message": message}])
    return name


def check_year(year: int) -> int:
    """A register year is Buddhist era (2569, not 2026)."""
    if not YEAR_MIN <= year <= YEAR_MAX:
        message = f"ปีต้องเป็นปีพุทธศักราช {YEAR_MIN}-{YEAR_MAX} เช่น {thai.buddhist_year()} (year is Buddhist era)"
        raise Problem(422, message, errors=[{"field": "year", "message": message}])
    return year


def check_settable_year(year: int) -> int:
    """Numbering may be set for this year (moving from paper mid-year) or the next one (preparing for
    1 January); a past year's register is closed and changing it would rewrite history."""
    current = thai.buddhist_year()
    if year not in (current, current + 1):
        message = f"ตั้งเลขทะเบียนได้เฉพาะปี {current} หรือ {current + 1} (only the current or the next year)"
        raise Problem(422, message, errors=[{"field": "year", "message": message}])
    return year


def already_issued(exc: NumberAlreadyIssued) -> Problem:
    return Problem(
        409,
        f"ทะเบียนนี้ออกเลขถึง {exc.last_issued} แล้ว เลขถัดไปต้องไม่น้อยกว่า {exc.next_no} "
        f"(number {exc.last_issued} already issued; next_number must be at least {exc.next_no})",
    )


def check_scope(who: Principal, org_id: uuid.UUID) -> None:
    """A unit reads its own registers (a unit keeping none, its central registry's, which number its letters);
    an auditor reads any unit's. Outside that, the register is not found."""
    if org_id not in (who.org_id, who.register_org_id) and not who.has("auditor"):
        raise Problem(404, "ไม่พบทะเบียน หรือไม่อยู่ในขอบเขตของหน่วยงานท่าน (not found)")


def check_admin(who: Principal) -> None:
    """Setting where numbering continues is an administrator's act, re-checked here behind the gateway."""
    if not who.has("admin"):
        raise Problem(403, "บทบาทของท่านทำรายการนี้ไม่ได้ (your role does not allow this action)")


def decode_register_cursor(cursor: str | None, *kinds: type) -> list | None:
    """A register page's cursor: the last row's key, checked value by value so a forged one is a 422."""
    after = decode_cursor(cursor, len(kinds))
    if after is not None and not all(
        isinstance(value, kind) and not isinstance(value, bool) for value, kind in zip(after, kinds, strict=True)
    ):
        raise Problem(422, "cursor ไม่ถูกต้อง ใช้ค่า next_cursor จากหน้าก่อน (invalid cursor)")
    return after


def register_subject(who: Principal, subject: str, secrecy: str) -> str:
    """A register lists every letter; a classified one's subject only for readers cleared for it."""
    return visible_subject(who, subject, secrecy)


async def move_next_number(db, counters, outbox, source: str, who: Principal, org_id, register: str, year, number):
    """Sets where a register continues (never backwards) and stages `register.number-set` in the same
    transaction, so no change to numbering escapes the audit log."""
    try:
        async with db.transaction() as session:
            await set_next_number(session, counters, org_id, register, year, number)
            event = RegisterNumberSet(
                org_id=org_id, register_name=register, year=year, next_number=number, set_at=thai.now()
            )
            envelope = event.envelope(
                source=source, subject=str(org_id), actor=who.user, correlation_id=correlation_id.get()
            )
            await stage(session, outbox, envelope)
    except NumberAlreadyIssued as issued:
        raise already_issued(issued) from None
    log.info("%s set the next number of %s %s/%s to %s", who.user, org_id, register, year, number)
