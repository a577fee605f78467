"""Who is asking. The gateway authenticates people and hands each internal call a short-lived token
carrying the principal, signed with the service secret; services trust nothing else."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, Header, Request
from pydantic import BaseModel, ConfigDict

from shared.problems import Problem

HEADER = "X-Sarabun-Principal"
ISSUER = "sarabun-gateway"
AUDIENCE = "sarabun-services"
ALGORITHM = "HS256"

CLEARANCE_ORDER = ("normal", "confidential", "secret", "top_secret")

# The unit of a person who belongs to none (an administrator made before any directory exists): an id that no
# unit has, so every query scoped to it finds nothing.
NO_UNIT = uuid.UUID(int=0)


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    user: str
    org_id: uuid.UUID
    org_code: str = ""  # the unit's letter code, e.g. "กค 0200"
    # The central registry (สารบรรณกลาง) whose send and receive registers number the unit's letters, for a unit
    # that keeps no registers of its own; None: the unit keeps its own. `registry_code` is that unit's code.
    registry_org_id: uuid.UUID | None = None
    registry_code: str = ""
    roles: tuple[str, ...] = ()
    clearance: str = "normal"
    # When the person signed in (the gateway's token's `iat`); never carried to the services.
    signed_in_at: datetime | None = None

    @property
    def register_org_id(self) -> uuid.UUID:
        """The unit whose registers number this unit's letters and list them."""
        return self.registry_org_id or self.org_id

    @property
    def letter_code(self) -> str:
        """The code a letter number ที่ starts with: the registry's, since the number is from its register."""
        return self.registry_code if self.registry_org_id else self.org_code

    def has(self, role: str) -> bool:
        return role in self.roles

    def cleared_for(self, secrecy: str) -> bool:
        return CLEARANCE_ORDER.index(self.clearance) >= CLEARANCE_ORDER.index(secrecy)


SECRECY_TH = {"normal": "ปกติ", "confidential": "ลับ", "secret": "ลับมาก", "top_secret": "ลับที่สุด"}


def visible_subject(who: Principal, subject: str, secrecy: str) -> str:
    """A classified letter is listed (with its level and number) to everyone in scope, but its subject only
    to users cleared for it; the others see the level in its place."""
    if who.cleared_for(secrecy):
        return subject
    return f"[หนังสือ{SECRECY_TH.get(secrecy, secrecy)}]"


def encode_principal(principal: Principal, secret: str, *, issuer: str, audience: str, seconds: int) -> str:
    """A signed, short-lived token carrying the principal (HS256; iss, aud and exp always set)."""
    now = datetime.now(UTC)
    claims = {
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + timedelta(seconds=seconds),
        "sub": principal.user,
        "org": str(principal.org_id),
        "org_code": principal.org_code,
        "roles": list(principal.roles),
        "clr": principal.clearance,
    }
    if principal.registry_org_id:  # only then: the token of a unit keeping its own registers is as before
        claims |= {"reg": str(principal.registry_org_id), "reg_code": principal.registry_code}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_principal(token: str, secret: str, *, issuer: str, audience: str, signed_in: bool = False) -> Principal:
    """The principal of a token signed with `secret` for this issuer and audience; ValueError otherwise.
    Only HS256 is accepted, so an unsigned ("none") or differently signed token never passes. With
    `signed_in`, the token's `iat` is kept as the moment the person signed in (user tokens are issued only
    at sign-in)."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        return Principal(
            user=claims["sub"],
            org_id=uuid.UUID(claims["org"]),
            org_code=claims.get("org_code", ""),
            # Tokens from before central registries carry no `reg`: the unit kept its own registers.
            registry_org_id=uuid.UUID(claims["reg"]) if claims.get("reg") else None,
            registry_code=claims.get("reg_code", ""),
            roles=tuple(claims["roles"]),
            clearance=claims["clr"],
            signed_in_at=datetime.fromtimestamp(claims["iat"], UTC) if signed_in and "iat" in claims else None,
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise ValueError("invalid token") from exc


def internal_token(principal: Principal, secret: str, seconds: int = 60) -> str:
    return encode_principal(principal, secret, issuer=ISSUER, audience=AUDIENCE, seconds=seconds)


def read_internal_token(token: str, secret: str) -> Principal:
    try:
        return decode_principal(token, secret, issuer=ISSUER, audience=AUDIENCE)
    except ValueError as exc:
        raise Problem(401, "โทเค็นภายในไม่ถูกต้อง (invalid service token)") from exc


# Dependencies are `async def` so FastAPI runs them on the event loop, not in its thread pool.
async def _principal(request: Request, token: Annotated[str | None, Header(alias=HEADER)] = None) -> Principal:
    if not token:
        raise Problem(401, "ต้องเรียกผ่านเกตเวย์ (service token required)")
    return read_internal_token(token, request.app.state.service_secret)


CurrentPrincipal = Annotated[Principal, Depends(_principal)]
