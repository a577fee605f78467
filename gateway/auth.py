"""Authentication: Argon2 passwords, short-lived PyJWT bearer tokens with iss/aud/exp checked."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from shared.principal import Principal
from shared.problems import Problem

ISSUER = "sarabun"
AUDIENCE = "sarabun-api"
ALGORITHM = "HS256"

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the answer time the same either way.
_DUMMY_HASH = _hasher.hash("not-a-password")

bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def issue_token(principal: Principal, secret: str, minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
        "sub": principal.user,
        "org": str(principal.org_id),
        "org_code": principal.org_code,
        "roles": list(principal.roles),
        "clr": principal.clearance,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, secret: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        return Principal(
            user=claims["sub"],
            org_id=uuid.UUID(claims["org"]),
            org_code=claims.get("org_code", ""),
            roles=tuple(claims["roles"]),
            clearance=claims["clr"],
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise _unauthorized() from exc


def _unauthorized() -> Problem:
    return Problem(
        401,
        "ต้องเข้าสู่ระบบ หรือโทเค็นหมดอายุ (missing, invalid or expired token)",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _current(request: Request, token: Annotated[str | None, Depends(bearer)]) -> Principal:
    if not token:
        raise _unauthorized()
    return read_token(token, request.app.state.settings.jwt_secret)


CurrentUser = Annotated[Principal, Depends(_current)]
