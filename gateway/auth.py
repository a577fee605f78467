"""Authentication: Argon2 passwords, short-lived PyJWT bearer tokens with iss/aud/exp checked."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from shared.principal import Principal, decode_principal, encode_principal
from shared.problems import Problem

if TYPE_CHECKING:
    from gateway.clients import Services

ISSUER = "sarabun"
AUDIENCE = "sarabun-api"

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this when the user does not exist keeps the answer time the same either way. Made on
    first use: each Argon2 hash takes its full memory cost, which an idle process need not carry."""
    return _hasher.hash("not-a-password")


bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def principal_of(user: dict, services: Services) -> Principal:
    """What a signed-in user's tokens carry, with their unit's letter code: the same whichever way they signed in
    (a password, or the agency's identity provider)."""
    principal = Principal(
        user=user["username"], org_id=user["org_id"], roles=tuple(user["roles"]), clearance=user["clearance"]
    )
    org = await services.json("routing", "GET", f"/orgs/{user['org_id']}", principal)
    return principal.model_copy(update={"org_code": org["code"]})


def issue_token(principal: Principal, secret: str, minutes: int) -> str:
    return encode_principal(principal, secret, issuer=ISSUER, audience=AUDIENCE, seconds=minutes * 60)


def read_token(token: str, secret: str) -> Principal:
    try:
        return decode_principal(token, secret, issuer=ISSUER, audience=AUDIENCE)
    except ValueError as exc:
        raise _unauthorized() from exc


def _unauthorized() -> Problem:
    return Problem(
        401,
        "ต้องเข้าสู่ระบบ หรือโทเค็นหมดอายุ (missing, invalid or expired token)",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def _current(request: Request, token: Annotated[str | None, Depends(bearer)]) -> Principal:
    if not token:
        raise _unauthorized()
    return read_token(token, request.app.state.settings.jwt_secret)


CurrentUser = Annotated[Principal, Depends(_current)]
