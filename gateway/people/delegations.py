"""Delegations of signing authority (การมอบอำนาจ): who may sign for whom, for which unit, from when to when.

An executive lets another person sign the letters of his unit in his name for a period: `delegated`
(ปฏิบัติราชการแทน, a standing delegation) or `acting` (รักษาราชการแทน, while he is away). The signature block
then reads, under the signer's own name and position, "ปฏิบัติราชการแทน <the delegator's position>". A delegate
cannot pass the authority on: only the executive himself, or an administrator, records a delegation.

Checked at signing (`authority`): a delegation counts on a Bangkok day between its dates (both included),
unless revoked, and only for the unit it names, which must be the delegator's."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from gateway.adapters.repository import DelegationRepository, UserRepository
from gateway.policy import Denied
from shared import thai
from shared.db import Database
from shared.principal import Principal
from shared.problems import Problem, not_found

Kind = Literal["delegated", "acting"]
# What the signature block prints before the delegator's position.
ON_BEHALF = {"delegated": "ปฏิบัติราชการแทน", "acting": "รักษาราชการแทน"}
SIGNING_ROLE = "executive"


@dataclass(frozen=True)
class NewDelegation:
    from_username: str
    to_username: str
    org_id: uuid.UUID
    kind: Kind
    valid_from: date
    valid_to: date


class NoAuthority(Denied):
    """Signing a letter one may not sign: neither its signer nor holding a delegation in force from him. A
    refusal by authority rather than by role, recorded in the audit log all the same (gateway/denials.py)."""

    def __init__(self, who: Principal):
        super().__init__(who, "draft.sign")
        self.detail = "ท่านไม่มีอำนาจลงนามหนังสือนี้ (you have no authority to sign this letter)"


def invalid(field: str, message: str) -> Problem:
    return Problem(422, message, errors=[{"field": field, "message": message}])


def in_force(row: dict, day: date) -> bool:
    return row["revoked_at"] is None and row["valid_from"] <= day <= row["valid_to"]


def on_behalf_text(kind: str, position: str | None) -> str:
    """The line under the signer's position: "ปฏิบัติราชการแทน อธิบดีกรมบัญชีกลาง"."""
    return f"{ON_BEHALF[kind]} {position or ''}".strip()


def check(new: NewDelegation, people: dict[str, dict], today: date) -> None:
    """The rules of a new delegation, given the accounts it names (no I/O); 422 naming the field otherwise."""
    giver, holder = people.get(new.from_username), people.get(new.to_username)
    if giver is None:
        raise invalid("from_username", f"ไม่พบผู้ใช้ {new.from_username} (unknown person)")
    if holder is None or not holder["active"]:
        raise invalid("to_username", f"ไม่พบผู้ใช้ {new.to_username} หรือถูกระงับ (unknown or disabled person)")
    if new.to_username == new.from_username:
        raise invalid("to_username", "มอบอำนาจให้ตนเองไม่ได้ (no delegation to oneself)")
    if SIGNING_ROLE not in giver["roles"]:
        raise invalid(
            "from_username",
            f"{new.from_username} ไม่ใช่ผู้บริหาร จึงไม่มีอำนาจลงนามที่จะมอบ (only an executive delegates signing)",
        )
    if giver["org_id"] != new.org_id:
        raise invalid(
            "org_key",
            f"มอบอำนาจได้เฉพาะสำหรับหน่วยงานของ {new.from_username} เอง (the unit must be the delegator's own)",
        )
    if new.valid_to < new.valid_from:
        raise invalid("valid_to", "วันสิ้นสุดต้องไม่ก่อนวันเริ่มต้น (valid_to must not be before valid_from)")
    if new.valid_to < today:
        raise invalid("valid_to", "วันสิ้นสุดผ่านไปแล้ว (valid_to is in the past)")


class Delegations:
    def __init__(self, db: Database, clock: Callable[[], datetime] = thai.now):
        self.db = db
        self.clock = clock

    def today(self) -> date:
        return self.clock().astimezone(thai.BANGKOK).date()

    async def create(self, who: Principal, new: NewDelegation) -> dict:
        """By an administrator, or by the executive who gives his own authority."""
        if not who.has("admin") and who.user != new.from_username:
            raise Problem(403, "ท่านมอบอำนาจได้เฉพาะอำนาจของท่านเอง (you may delegate only your own authority)")
        now = self.clock()
        row = {
            "id": uuid.uuid4(),
            "from_username": new.from_username,
            "to_username": new.to_username,
            "org_id": new.org_id,
            "kind": new.kind,
            "valid_from": new.valid_from,
            "valid_to": new.valid_to,
            "created_by": who.user,
            "created_at": now,
            "revoked_by": None,
            "revoked_at": None,
        }
        async with self.db.transaction() as session:
            people = await UserRepository(session).many([new.from_username, new.to_username])
            check(new, people, self.today())
            await DelegationRepository(session).add(row)
        return row

    async def listed(self, who: Principal) -> list[dict]:
        """An administrator sees every delegation; anyone else those given by or to him."""
        async with self.db.read() as session:
            return await DelegationRepository(session).listed(None if who.has("admin") else who.user)

    async def revoke(self, who: Principal, delegation_id: uuid.UUID) -> dict:
        """By an administrator or the delegator; revoking again changes nothing. The delegate: 403 (he sees it);
        anyone else: 404."""
        async with self.db.transaction() as session:
            repo = DelegationRepository(session)
            row = await repo.get(delegation_id, lock=True)
            if row is None or not (who.has("admin") or who.user in (row["from_username"], row["to_username"])):
                raise not_found("การมอบอำนาจ")
            if not who.has("admin") and who.user != row["from_username"]:
                raise Problem(403, "เฉพาะผู้มอบอำนาจยกเลิกได้ (only the delegator may revoke it)")
            if row["revoked_at"] is None:
                now = self.clock()
                await repo.revoke(delegation_id, who.user, now)
                row = {**row, "revoked_by": who.user, "revoked_at": now}
        return row

    async def held(self, username: str) -> list[dict]:
        """The delegations `username` holds today, each still naming the delegator's unit (one moved since
        gave nothing for his new unit)."""
        async with self.db.read() as session:
            rows = await DelegationRepository(session).in_force_to(username, self.today())
            givers = await UserRepository(session).many(sorted({row["from_username"] for row in rows}))
        return [row for row in rows if (giver := givers.get(row["from_username"])) and giver["org_id"] == row["org_id"]]

    async def authority(self, who: Principal, signer: str, delegation_id: uuid.UUID | None) -> dict | None:
        """How `who` may sign a letter whose signer is `signer`: None when he is the signer himself, else the
        delegation in force from the signer for the signer's unit (the one named, or the latest). NoAuthority
        when there is none."""
        if who.user == signer:
            return None
        found = [row for row in await self.held(who.user) if row["from_username"] == signer]
        if delegation_id is not None:
            found = [row for row in found if row["id"] == delegation_id]
        if not found:
            raise NoAuthority(who)
        return found[0]
