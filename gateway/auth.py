"""Authentication: Argon2 passwords, short-lived PyJWT bearer tokens with iss/aud/exp checked."""

from __future__ import annotations

import functools
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from shared.principal import Principal, decode_principal, encode_principal
from shared.problems import Problem

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


def issue_token(principal: Principal, secret: str, minutes: int) -> str:
    return encode_principal(principal, secret, issuer=ISSUER, audience=AUDIENCE, seconds=minutes * 60)


def read_token(token: str, secret: str) -> Principal:
    """What the token claims, with when its holder signed in; the account decides the rest (`_current`)."""
    try:
        return decode_principal(token, secret, issuer=ISSUER, audience=AUDIENCE, signed_in=True)
    except ValueError as exc:
        raise _unauthorized() from exc


def _unauthorized() -> Problem:
    return Problem(
        401,
        "ต้องเข้าสู่ระบบ หรือโทเค็นหมดอายุ (missing, invalid or expired token)",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def _current(request: Request, token: Annotated[str | None, Depends(bearer)]) -> Principal:
    """The principal of the account as it is now (gateway/people/accounts.py): the token only says who signed
    in and when, so a disabled account is refused and a moved one acts in its new unit, whatever the token
    says."""
    if not token:
        raise _unauthorized()
    claimed = read_token(token, request.app.state.settings.jwt_secret)
    return await request.app.state.accounts.principal(claimed.user, claimed.signed_in_at)


CurrentUser = Annotated[Principal, Depends(_current)]
