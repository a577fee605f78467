"""Use cases on people, one transaction each; every change is staged as an event in the gateway's outbox in
the same transaction, so it reaches the audit log (who changed what of whom, never a password or its hash)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from gateway.adapters.repository import SignInLinks, UserRepository
from gateway.denials import record
from gateway.people import rules
from gateway.people.rules import Account
from shared import thai
from shared.contracts import SignedInByLink, SignInLinkIssued, UserChanged, UserContact, UserCreated
from shared.db import Database
from shared.problems import Problem, not_found

LINK_LIFETIME = timedelta(hours=24)
LINK_REFUSED_TYPE = "/problems/sign-in-link-refused"


def exists(username: str) -> Problem:
    return Problem(
        409,
        f"มีผู้ใช้ชื่อ {username} อยู่แล้ว (username already exists)",
        errors=[{"field": "username", "message": "ชื่อผู้ใช้นี้มีอยู่แล้ว (username already exists)"}],
    )


class LinkRefused(Problem):
    """A one-time link that cannot sign anyone in: unknown, used, replaced by a newer one, or expired."""

    MESSAGES = {
        "unknown": "ไม่พบลิงก์เข้าสู่ระบบนี้ โปรดขอลิงก์ใหม่จากผู้ดูแลระบบ (unknown sign-in link)",
        "used": "ลิงก์นี้ถูกใช้เข้าสู่ระบบไปแล้ว ใช้ได้ครั้งเดียว โปรดขอลิงก์ใหม่จากผู้ดูแลระบบ (link already used)",
        "replaced": "ลิงก์นี้ถูกแทนที่ด้วยลิงก์ที่ออกภายหลังแล้ว โปรดใช้ลิงก์ล่าสุด (link replaced by a newer one)",
        "expired": "ลิงก์นี้หมดอายุแล้ว โปรดขอลิงก์ใหม่จากผู้ดูแลระบบ (link expired)",
        "inactive": "บัญชีนี้ถูกระงับ โปรดติดต่อผู้ดูแลระบบ (account disabled)",
    }

    def __init__(self, reason: str):
        super().__init__(401, self.MESSAGES[reason], type=LINK_REFUSED_TYPE)
        self.reason = reason


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class People:
    def __init__(self, db: Database, on_change: Callable[[], None], clock: Callable[[], datetime] = thai.now):
        self.db = db
        self.on_change = on_change  # clears this process's account cache
        self.clock = clock

    async def create(self, actor: str, account: Account, password_hash: str | None) -> dict:
        now = self.clock()
        row = {**_new_row(account, now), "password_hash": password_hash}
        try:
            async with self.db.transaction() as session:
                users = UserRepository(session)
                if await users.get(account.username):
                    raise exists(account.username)
                await users.add(row)
                await record(session, created(row, now), actor=actor)
                await _announce_contact(session, row, now, actor)
        except IntegrityError as exc:  # made by someone else at the same moment
            raise exists(account.username) from exc
        self.on_change()
        return row

    async def change(self, actor: str, account: Account, password_hash: str | None = None) -> dict:
        async with self.db.transaction() as session:
            users = UserRepository(session)
            row = await users.get(account.username, lock=True)
            if row is None:
                raise not_found("ผู้ใช้")
            values = rules.changes(row, account)
            _keep_own_access(actor, row, values)
            fields = rules.field_names(values)
            if password_hash is not None:
                values["password_hash"] = password_hash
                fields.append("password")
            if not values:
                return row
            now = self.clock()
            values["updated_at"] = now
            await users.update(account.username, **values)
            row = {**row, **values}
            await record(session, changed(row, fields, now), actor=actor)
            if "email" in values:
                await _announce_contact(session, row, now, actor, cleared=True)
        self.on_change()
        return row

    async def plan_import(self, accounts: list[Account]) -> dict:
        """What an import would add and change, without changing anything."""
        async with self.db.read() as session:
            existing = await UserRepository(session).many([a.username for a in accounts])
        return _plan(accounts, existing)

    async def apply_import(self, actor: str, accounts: list[Account]) -> dict:
        """The whole file in one transaction: every row applies, or none does."""
        now = self.clock()
        async with self.db.transaction() as session:
            users = UserRepository(session)
            existing = await users.many([a.username for a in accounts])
            plan = _plan(accounts, existing)
            for account in accounts:
                row = existing.get(account.username)
                if row is None:
                    new = _new_row(account, now)
                    await users.add(new)
                    await record(session, created(new, now), actor=actor)
                    await _announce_contact(session, new, now, actor)
                elif values := rules.changes(row, account):
                    _keep_own_access(actor, row, values)
                    await users.update(account.username, **values, updated_at=now)
                    await record(session, changed({**row, **values}, rules.field_names(values), now), actor=actor)
                    if "email" in values:
                        await _announce_contact(session, {**row, **values}, now, actor, cleared=True)
        self.on_change()
        return plan

    async def issue_link(self, actor: str, username: str) -> tuple[str, datetime]:
        """A new one-time link for this person; any older one stops working. Only its hash is kept."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        expires_at = now + LINK_LIFETIME
        async with self.db.transaction() as session:
            user = await UserRepository(session).get(username)
            if user is None:
                raise not_found("ผู้ใช้")
            if not user["active"]:
                raise Problem(409, "บัญชีนี้ถูกระงับ เปิดใช้งานก่อนออกลิงก์ (account disabled: enable it first)")
            links = SignInLinks(session)
            await links.void_open(username, now)
            await links.add(
                {"token_sha256": token_hash(token), "username": username, "created_at": now, "expires_at": expires_at}
            )
            event = SignInLinkIssued(username=username, expires_at=expires_at, issued_at=now)
            await record(session, event, actor=actor)
        return token, expires_at

    async def check_link(self, token: str) -> None:
        """Raises LinkRefused unless the link would sign someone in now; changes nothing."""
        async with self.db.read() as session:
            link = await SignInLinks(session).get(token_hash(token))
            user = await UserRepository(session).get(link["username"]) if link else None
        _refuse_unusable(link, user, self.clock())

    async def redeem_link(self, token: str) -> dict:
        """Uses the link (once: a second use is refused) and returns the account it signs in."""
        now = self.clock()
        digest = token_hash(token)
        async with self.db.transaction() as session:
            links = SignInLinks(session)
            link = await links.get(digest, lock=True)
            user = await UserRepository(session).get(link["username"]) if link else None
            _refuse_unusable(link, user, now)
            if not await links.mark_used(digest, now):
                raise LinkRefused("used")
            await record(session, SignedInByLink(username=user["username"], signed_in_at=now), actor=user["username"])
        return user

    async def set_own_password(self, username: str, password_hash: str) -> None:
        account = Account(username=username)
        await self.change(username, account, password_hash)


def _refuse_unusable(link: dict | None, user: dict | None, now: datetime) -> None:
    if link is None or user is None:
        raise LinkRefused("unknown")
    if link["used_at"] is not None:
        raise LinkRefused("used")
    if link["voided_at"] is not None:
        raise LinkRefused("replaced")
    if link["expires_at"] <= now:
        raise LinkRefused("expired")
    if not user["active"]:
        raise LinkRefused("inactive")


def _keep_own_access(actor: str, row: dict, values: dict) -> None:
    """An administrator cannot disable themselves or drop their own admin role: someone must be left who can
    undo a mistake."""
    if actor != row["username"]:
        return
    if values.get("active") is False or ("roles" in values and "admin" not in values["roles"]):
        raise Problem(
            409,
            "ผู้ดูแลระบบระงับบัญชีหรือถอดบทบาทผู้ดูแลของตนเองไม่ได้ (you cannot disable yourself or drop your own admin role)",
        )


def _plan(accounts: list[Account], existing: dict[str, dict]) -> dict:
    added, changed_names, fields = [], [], {}
    for account in accounts:
        row = existing.get(account.username)
        if row is None:
            added.append(account.username)
        elif values := rules.changes(row, account):
            changed_names.append(account.username)
            fields[account.username] = rules.field_names(values)
    return {"added": added, "changed": changed_names, "fields": fields}


def _new_row(account: Account, now: datetime) -> dict:
    return {
        "username": account.username,
        "display_name": account.display_name,
        "org_id": account.org_id,
        "roles": account.roles,
        "clearance": account.clearance or "normal",
        "email": account.email,
        "position": account.position,
        "active": True if account.active is None else account.active,
        "password_hash": None,
        "created_at": now,
        "updated_at": now,
    }


async def _announce_contact(session, row: dict, now: datetime, actor: str, cleared: bool = False) -> None:
    """`user.contact`: where the person is reached now, for notifications. A new person without an address
    announces nothing; a change announces the new address, or None when it was removed."""
    if row["email"] is None and not cleared:
        return
    await record(session, contact(row, now), actor=actor)


def contact(row: dict, now: datetime) -> UserContact:
    return UserContact(username=row["username"], email=row["email"], changed_at=now)


def created(row: dict, now: datetime) -> UserCreated:
    return UserCreated(
        username=row["username"],
        org_id=row["org_id"],
        roles=list(row["roles"]),
        clearance=row["clearance"],
        active=row["active"],
        password_set=row["password_hash"] is not None,
        created_at=now,
    )


def changed(row: dict, fields: list[str], now: datetime) -> UserChanged:
    return UserChanged(
        username=row["username"],
        fields=fields,
        org_id=row["org_id"],
        roles=list(row["roles"]),
        clearance=row["clearance"],
        active=row["active"],
        password_set="password" in fields,
        changed_at=now,
    )
