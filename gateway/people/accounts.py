"""Access follows the account, not the token: every request's principal is built from the account as it is
now (unit, roles, clearance, active), read through a short in-process cache. A disabled or moved person is
therefore refused, or sees only the new unit, at most `TTL` seconds after the change in any gateway process,
and at once in the process that made the change (it clears its cache)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from gateway.adapters.repository import UserRepository
from gateway.clients import Services
from shared.db import Database
from shared.principal import NO_UNIT, Principal
from shared.problems import Problem

log = logging.getLogger("sarabun.gateway.accounts")

# Well inside the promise that a disabled person loses access within 60 seconds.
TTL = 30.0


class TtlCache:
    """A dict whose entries expire `ttl` seconds after they were put, by an injected clock."""

    def __init__(self, ttl: float = TTL, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._entries: dict = {}

    def get(self, key, default=None):
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self.clock():
            return default
        return entry[1]

    def put(self, key, value) -> None:
        self._entries[key] = (self.clock() + self.ttl, value)

    def clear(self) -> None:
        self._entries.clear()

    async def get_or_load(self, key, load: Callable[[], Awaitable]):
        found = self.get(key, _MISSING)
        if found is _MISSING:
            found = await load()
            self.put(key, found)
        return found


_MISSING = object()


def inactive() -> Problem:
    return Problem(
        401,
        "บัญชีนี้ถูกระงับหรือไม่มีอยู่แล้ว โปรดติดต่อผู้ดูแลระบบ (account disabled or removed)",
        headers={"WWW-Authenticate": "Bearer"},
    )


class Accounts:
    """The gateway's view of who is asking: accounts from its own table, units' letter codes and registries
    (สารบรรณกลาง) from routing."""

    def __init__(self, db: Database, services: Services, clock: Callable[[], float] = time.monotonic):
        self.db = db
        self.services = services
        self.users = TtlCache(TTL, clock)
        self.units = TtlCache(TTL, clock)

    def forget(self) -> None:
        """After any change to people: this process sees it at once."""
        self.users.clear()
        self.units.clear()

    async def principal(self, username: str, signed_in_at: datetime | None) -> Principal:
        """The principal of an active account as it is now; 401 for a disabled or unknown one. On a cache hit
        this costs two dict lookups: no database read and no service call."""
        user = await self.users.get_or_load(username, lambda: self._read(username))
        if user is None or not user["active"]:
            raise inactive()
        return await self.of(user, signed_in_at)

    async def of(self, user: dict, signed_in_at: datetime | None = None) -> Principal:
        """The principal of an account row, with its unit's letter code and registry (one cached lookup)."""
        principal = principal_of(user, signed_in_at=signed_in_at)
        unit = await self.units.get_or_load(principal.org_id, lambda: self._unit(principal))
        return principal.model_copy(update=unit)

    async def _read(self, username: str) -> dict | None:
        async with self.db.read() as session:
            return await UserRepository(session).get(username)

    async def _unit(self, who: Principal) -> dict:
        """What the principal needs of its unit: its code, and the registry numbering its letters if not itself."""
        if who.org_id == NO_UNIT:
            return {}
        try:
            org = await self.services.json("routing", "GET", f"/orgs/{who.org_id}", who)
        except Problem as problem:
            if problem.status != 404:
                raise
            log.warning("%s belongs to unit %s, which the directory does not have", who.user, who.org_id)
            return {}
        return unit_fields(org)


def unit_fields(org: dict) -> dict:
    """The principal's fields from routing's answer for its unit; an answer without a registry (or naming the
    unit itself) means the unit keeps its own registers."""
    registry = org.get("registry_id")
    if not registry or str(registry) == str(org["id"]):
        return {"org_code": org["code"]}
    return {"org_code": org["code"], "registry_org_id": uuid.UUID(str(registry)), "registry_code": org["registry_code"]}


def principal_of(user: dict, signed_in_at: datetime | None = None, org_code: str = "") -> Principal:
    org_id = user["org_id"] if isinstance(user["org_id"], uuid.UUID) else NO_UNIT
    return Principal(
        user=user["username"],
        org_id=org_id,
        org_code=org_code,
        roles=tuple(user["roles"]),
        clearance=user["clearance"],
        signed_in_at=signed_in_at,
    )
