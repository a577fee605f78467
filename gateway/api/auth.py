"""Sign-in (a password, or a one-time link), who am I, and one's own password."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field

from gateway import denials, policy
from gateway.adapters.repository import LoginFailures, UserRepository
from gateway.auth import CurrentUser, hash_password, issue_token, password_matches
from gateway.deps import DbDep, ServicesDep
from gateway.people import rules
from gateway.people.accounts import inactive
from shared import thai
from shared.principal import NO_UNIT
from shared.problems import UPSTREAM, Problem, problem_responses

router = APIRouter(tags=["auth"])
log = logging.getLogger("sarabun.gateway.auth")

LOCAL_PASSWORDS_OFF_TYPE = "/problems/local-passwords-off"


@router.post("/auth/token", responses=problem_responses(400, 401, 403, 422, 429, *UPSTREAM))
async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, db: DbDep):
    """Sign in with a username and password (OAuth2 password flow). Refused with 403 when the deployment has
    switched local passwords off (SARABUN_LOCAL_PASSWORDS=false): people then sign in through the agency's
    identity provider or a one-time link."""
    if not request.app.state.settings.local_passwords:
        raise Problem(
            403,
            "ระบบนี้ไม่ใช้รหัสผ่าน โปรดเข้าสู่ระบบผ่านระบบยืนยันตัวตนของหน่วยงาน หรือลิงก์เข้าสู่ระบบจากผู้ดูแลระบบ "
            "(password sign-in is switched off: use the agency's sign-in or a one-time link)",
            type=LOCAL_PASSWORDS_OFF_TYPE,
        )
    username = rules.sign_in_name(form.username)
    await _refuse_if_throttled(db, username)
    async with db.read() as session:
        user = await UserRepository(session).get(username)
    # Argon2 spends tens of milliseconds on purpose: in a worker thread, so other requests are not held up.
    stored = user["password_hash"] if user and user["active"] else None
    if not await asyncio.to_thread(password_matches, stored, form.password):
        log.warning("failed sign-in for %r", username)
        async with db.transaction() as session:
            await LoginFailures(session).add(username, thai.now())
            await denials.record(session, denials.sign_in_failed(username), actor=None)
        raise Problem(
            401, "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง (invalid username or password)", headers={"WWW-Authenticate": "Bearer"}
        )
    async with db.transaction() as session:
        await LoginFailures(session).clear(username)
    return await signed_in(request, user)


async def signed_in(request: Request, user: dict) -> dict:
    """The access token of a person who just signed in; its `iat` is the moment of sign-in."""
    principal = await request.app.state.accounts.of(user)
    settings = request.app.state.settings
    return {
        "access_token": issue_token(principal, settings.jwt_secret, settings.token_minutes),
        "token_type": "bearer",
        "expires_in": settings.token_minutes * 60,
    }


class LinkSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=200, description="the last part of a one-time sign-in link")


@router.post("/auth/link", responses=problem_responses(400, 401, 422, *UPSTREAM))
async def sign_in_with_link(body: LinkSignIn, request: Request):
    """Sign in with a one-time link an administrator issued: it works once, until it expires, and only if no
    newer link was issued. Answers like `/auth/token`; unknown, used, replaced and expired links get 401 with
    the reason."""
    user = await request.app.state.people.redeem_link(body.token)
    return await signed_in(request, user)


# Password guessing: after this many failures within the window, sign-in for that name waits.
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


async def _refuse_if_throttled(db, username: str) -> None:
    now = thai.now()
    async with db.read() as session:
        failures = await LoginFailures(session).since(username, now - WINDOW)
    if len(failures) >= MAX_FAILURES:
        retry_after = max(1, int((failures[-MAX_FAILURES] + WINDOW - now).total_seconds()) + 1)
        raise Problem(
            429,
            f"เข้าสู่ระบบผิดหลายครั้ง โปรดลองใหม่ในอีก {retry_after} วินาที (too many failed sign-ins)",
            headers={"Retry-After": str(retry_after)},
        )


NO_UNIT_NAME = "ยังไม่สังกัดหน่วยงาน (no unit yet)"


@router.get("/me", responses=problem_responses(401, *UPSTREAM))
async def me(who: CurrentUser, db: DbDep, services: ServicesDep):
    async with db.read() as session:
        user = await UserRepository(session).get(who.user)
    if user is None or not user["active"]:
        raise inactive()
    if who.org_id == NO_UNIT:
        org = {"id": None, "code": "", "name": NO_UNIT_NAME}
    else:
        org = await services.json("routing", "GET", f"/orgs/{who.org_id}", who)
    return {
        "username": user["username"],
        "display_name": user["display_name"],
        "org_id": org["id"],
        "org_code": org["code"],
        "org_name": org["name"],
        # The unit whose registers number this person's letters: the unit itself, or its central registry.
        "registry_id": org.get("registry_id"),
        "registry_code": org.get("registry_code", ""),
        "roles": list(who.roles),
        "clearance": who.clearance,
        "position": user["position"],
        "email": user["email"],
        "has_password": user["password_hash"] is not None,
    }


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")
    new_password: str = Field(max_length=rules.MAX_PASSWORD, description=f"at least {rules.MIN_PASSWORD} characters")
    current_password: str | None = Field(
        None, max_length=rules.MAX_PASSWORD, description="needed unless signed in within the last 15 minutes"
    )


@router.post("/me/password", responses=problem_responses(400, 401, 403, 409, 422))
async def set_own_password(body: NewPassword, request: Request, who: CurrentUser, db: DbDep):
    """Sets one's own password: with the current one, or within 15 minutes of signing in (as after a one-time
    link). The password is never echoed."""
    policy.require(who, "password.change")
    if not request.app.state.settings.local_passwords:
        raise Problem(
            409,
            "ระบบนี้ไม่ใช้รหัสผ่าน (local passwords are switched off: SARABUN_LOCAL_PASSWORDS)",
            type=LOCAL_PASSWORDS_OFF_TYPE,
        )
    try:
        rules.password(body.new_password)
    except rules.Invalid as invalid:
        raise Problem(422, invalid.message, errors=[{"field": "new_password", "message": invalid.message}]) from None
    if body.current_password is not None:
        async with db.read() as session:
            user = await UserRepository(session).get(who.user)
        if not await asyncio.to_thread(password_matches, user and user["password_hash"], body.current_password):
            message = "รหัสผ่านปัจจุบันไม่ถูกต้อง (current password is wrong)"
            raise Problem(422, message, errors=[{"field": "current_password", "message": message}])
    elif not policy.signed_in_recently(who):
        raise policy.FreshSignInRequired()
    password_hash = await asyncio.to_thread(hash_password, body.new_password)
    await request.app.state.people.set_own_password(who.user, password_hash)
    return {"username": who.user, "password_set": True}
