"""People, for administrators: list and search, create, change (unit, roles, clearance, disable and enable),
import a CSV file (dry run first), and one-time sign-in links for those who lost their password.

Every route needs the role `admin` and a sign-in within the last 15 minutes (gateway/policy.py)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from gateway import policy
from gateway.adapters.repository import UserRepository
from gateway.auth import CurrentUser, hash_password
from gateway.deps import DbDep, ServicesDep
from gateway.people import csv_import, rules
from gateway.people.rules import Account, Invalid
from gateway.people.service import People
from gateway.thai_dates import with_thai_dates
from shared.paging import decode_cursor, encode_cursor
from shared.principal import Principal
from shared.problems import UPSTREAM, Problem, not_found, problem_responses

router = APIRouter(tags=["admin"])

Role = Literal["clerk", "staff", "executive", "auditor", "admin"]
Clearance = Literal["normal", "confidential", "secret", "top_secret"]
PAGE_DEFAULT = 50
PAGE_MAX = 200


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=200, description="normalised: NFC, trimmed, lower case")
    display_name: str = Field(max_length=400)
    org_key: str = Field(max_length=100, description="the unit's key in the directory")
    roles: list[Role] = Field(min_length=1, max_length=5)
    clearance: Clearance
    email: str | None = Field(None, max_length=320)
    position: str | None = Field(None, max_length=400, description="ตำแหน่ง")
    password: str | None = Field(
        None, max_length=rules.MAX_PASSWORD, description=f"at least {rules.MIN_PASSWORD} characters; never echoed"
    )


class UserChange(BaseModel):
    """Only the fields given change; `email` or `position` null empties it."""

    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(None, max_length=400)
    org_key: str | None = Field(None, max_length=100)
    roles: list[Role] | None = Field(None, min_length=1, max_length=5)
    clearance: Clearance | None = None
    email: str | None = Field(None, max_length=320)
    position: str | None = Field(None, max_length=400)
    active: bool | None = None
    password: str | None = Field(None, max_length=rules.MAX_PASSWORD)


def _people(request: Request) -> People:
    return request.app.state.people


@router.get("/admin/users", responses=problem_responses(401, 403, 422, *UPSTREAM))
async def list_users(
    request: Request,
    who: CurrentUser,
    db: DbDep,
    services: ServicesDep,
    q: Annotated[str | None, Query(max_length=100, description="part of a username, name or e-mail")] = None,
    org_key: Annotated[str | None, Query(max_length=100)] = None,
    role: Role | None = None,
    active: bool | None = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
):
    policy.require(who, "user.manage")
    units = await _units(services, who)
    org_id = _checked(lambda: _unit_id(units, org_key)) if org_key else None
    after = decode_cursor(cursor, 1)
    async with db.read() as session:
        rows = await UserRepository(session).search(
            q=rules.sign_in_name(q) if q else None,
            org_id=org_id,
            role=role,
            active=active,
            after=str(after[0]) if after else None,
            limit=limit + 1,
        )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [_user_out(row, units) for row in rows],
        "next_cursor": encode_cursor(rows[-1]["username"]) if more else None,
    }


@router.post("/admin/users", status_code=201, responses=problem_responses(400, 401, 403, 409, 422, *UPSTREAM))
async def create_user(body: NewUser, request: Request, who: CurrentUser, services: ServicesDep):
    policy.require(who, "user.manage")
    units = await _units(services, who)
    account = _checked(
        lambda: Account(
            username=rules.username(body.username),
            display_name=rules.text("display_name", body.display_name, required=True),
            org_id=_unit_id(units, body.org_key),
            roles=rules.roles(list(body.roles)),
            clearance=rules.clearance(body.clearance),
            email=rules.email(body.email),
            position=rules.text("position", body.position or "", required=False),
        )
    )
    password_hash = await _password_hash(request, body.password)
    row = await _people(request).create(who.user, account, password_hash)
    return _user_out(row, units)


@router.get("/admin/users/{username}", responses=problem_responses(401, 403, 404, 422, *UPSTREAM))
async def get_user(username: str, request: Request, who: CurrentUser, db: DbDep, services: ServicesDep):
    policy.require(who, "user.manage")
    async with db.read() as session:
        row = await UserRepository(session).get(rules.sign_in_name(username))
    if row is None:
        raise not_found("ผู้ใช้")
    return _user_out(row, await _units(services, who))


@router.patch("/admin/users/{username}", responses=problem_responses(400, 401, 403, 404, 409, 422, *UPSTREAM))
async def change_user(username: str, body: UserChange, request: Request, who: CurrentUser, services: ServicesDep):
    policy.require(who, "user.manage")
    units = await _units(services, who)
    given = body.model_fields_set
    for name in ("display_name", "org_key", "roles", "clearance", "active", "password"):
        if name in given and getattr(body, name) is None:
            raise Problem(422, f"{name} เป็นค่าว่างไม่ได้ ({name} cannot be null)", errors=[_null(name)])
    account = _checked(
        lambda: Account(
            username=rules.sign_in_name(username),
            display_name=rules.text("display_name", body.display_name, True) if "display_name" in given else None,
            org_id=_unit_id(units, body.org_key) if "org_key" in given else None,
            roles=rules.roles(list(body.roles)) if body.roles else None,
            clearance=body.clearance,
            email=rules.email(body.email),
            position=rules.text("position", body.position or "", required=False),
            active=body.active,
            cleared={name for name in ("email", "position") if name in given and not getattr(body, name)},
        )
    )
    password_hash = await _password_hash(request, body.password)
    row = await _people(request).change(who.user, account, password_hash)
    return _user_out(row, units)


@router.post("/admin/users/import", responses=problem_responses(400, 401, 403, 409, 413, 422, *UPSTREAM))
async def import_users(
    request: Request,
    who: CurrentUser,
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="CSV, UTF-8 (with or without BOM), Thai or English headings")],
    dry_run: Annotated[bool, Query(description="true (the default): only show what would change")] = True,
):
    """Adds and changes people from a CSV file: all rows apply or none. Columns (Thai or English heading):
    ชื่อผู้ใช้ username, ชื่อ display_name, หน่วยงาน org_key, บทบาท roles (separated by ; | , or spaces),
    ชั้นความลับ clearance, อีเมล email, ตำแหน่ง position, ใช้งาน active. No passwords: people sign in through the
    identity provider or a one-time link."""
    policy.require(who, "user.manage")
    data = await file.read(csv_import.MAX_BYTES + 1)
    units = await _units(services, who)
    accounts = csv_import.parse(data, {unit["key"]: uuid.UUID(unit["id"]) for unit in units.values()})
    people = _people(request)
    plan = await (people.plan_import(accounts) if dry_run else people.apply_import(who.user, accounts))
    return {"applied": not dry_run, **plan}


@router.post(
    "/admin/users/{username}/sign-in-link", status_code=201, responses=problem_responses(401, 403, 404, 409, 422)
)
async def issue_sign_in_link(username: str, request: Request, who: CurrentUser):
    """A one-time link that signs this person in (then asks for a new password). It works once, for 24 hours;
    a newer link voids it. Give it to the person through a channel you trust."""
    policy.require(who, "user.manage")
    token, expires_at = await _people(request).issue_link(who.user, rules.sign_in_name(username))
    return with_thai_dates({"url": link_url(request, token), "expires_at": expires_at.isoformat()})


def link_url(request: Request, token: str) -> str:
    base = request.app.state.settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/auth/link/{token}"


async def _units(services, who: Principal) -> dict[str, dict]:
    """The directory's current units by id."""
    return {unit["id"]: unit for unit in await services.json("routing", "GET", "/orgs", who)}


def _unit_id(units: dict[str, dict], key: str) -> uuid.UUID:
    for unit in units.values():
        if unit["key"] == key:
            return uuid.UUID(unit["id"])
    raise Invalid("org_key", f"ไม่พบหน่วยงาน {key!r} ในสารบบ (unknown unit)")


def _checked(build):
    try:
        return build()
    except Invalid as invalid:
        raise Problem(422, invalid.message, errors=[{"field": invalid.field, "message": invalid.message}]) from None


def _null(name: str) -> dict:
    return {"field": name, "message": f"{name} เป็นค่าว่างไม่ได้ ({name} cannot be null)"}


async def _password_hash(request: Request, password: str | None) -> str | None:
    if password is None:
        return None
    if not request.app.state.settings.local_passwords:
        message = "ปิดการใช้รหัสผ่านของระบบไว้ (local passwords are switched off: SARABUN_LOCAL_PASSWORDS)"
        raise Problem(422, message, errors=[{"field": "password", "message": message}])
    _checked(lambda: rules.password(password))
    # Argon2 spends tens of milliseconds on purpose: in a worker thread, so other requests are not held up.
    return await asyncio.to_thread(hash_password, password)


def _user_out(row: dict, units: dict[str, dict]) -> dict:
    unit = units.get(str(row["org_id"])) if row["org_id"] else None
    return with_thai_dates(
        {
            "username": row["username"],
            "display_name": row["display_name"],
            "org_id": str(row["org_id"]) if row["org_id"] else None,
            "org_key": unit["key"] if unit else None,
            "org_code": unit["code"] if unit else None,
            "org_name": unit["name"] if unit else None,
            "roles": list(row["roles"]),
            "clearance": row["clearance"],
            "email": row["email"],
            "position": row["position"],
            "active": row["active"],
            "has_password": row["password_hash"] is not None,
            "created_at": _iso(row["created_at"]),
            "updated_at": _iso(row["updated_at"]),
        }
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
