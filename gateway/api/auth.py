"""Sign-in and who am I."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from gateway import denials
from gateway.adapters.repository import LoginFailures, UserRepository
from gateway.auth import CurrentUser, issue_token, password_matches, principal_of
from gateway.deps import DbDep, ServicesDep
from shared import thai
from shared.problems import UPSTREAM, Problem, problem_responses

router = APIRouter(tags=["auth"])
log = logging.getLogger("sarabun.gateway.auth")


@router.post("/auth/token", responses=problem_responses(400, 401, 422, 429, *UPSTREAM))
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, db: DbDep, services: ServicesDep
):
    username = form.username[:100]
    await _refuse_if_throttled(db, username)
    async with db.read() as session:
        user = await UserRepository(session).get(form.username)
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
    principal = await principal_of(user, services)
    settings = request.app.state.settings
    return {
        "access_token": issue_token(principal, settings.jwt_secret, settings.token_minutes),
        "token_type": "bearer",
        "expires_in": settings.token_minutes * 60,
    }


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


@router.get("/me", responses=problem_responses(401, *UPSTREAM))
async def me(who: CurrentUser, db: DbDep, services: ServicesDep):
    async with db.read() as session:
        user = await UserRepository(session).get(who.user)
    if user is None or not user["active"]:
        raise Problem(401, "บัญชีนี้ใช้งานไม่ได้แล้ว (account no longer active)")
    org = await services.json("routing", "GET", f"/orgs/{who.org_id}", who)
    return {
        "username": user["username"],
        "display_name": user["display_name"],
        "org_id": org["id"],
        "org_code": org["code"],
        "org_name": org["name"],
        "roles": list(who.roles),
        "clearance": who.clearance,
    }
