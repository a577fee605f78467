"""The people a proposal line or a delegation may name, for the forms' suggestions "name (username)": active
people of the signed-in person's own agency (the department, or the OPS, above his unit, and every unit under
it) who draft, review or sign. Only name, position, unit and whether they sign (executives) leave the server.

The people are the gateway's own records, read here as the API reads them (the way the download pages use the
API's own download code); what the forms send is checked again by the API (gateway/api/drafts.py)."""

from __future__ import annotations

from fastapi import Request

from gateway.adapters.repository import UserRepository
from gateway.web.pages.files import _signed_in
from shared.principal import Principal

LINE_ROLES = ("staff", "executive", "clerk")
SIGNING_ROLE = "executive"
AGENCY_KINDS = ("department", "ops")
MOST = 5000  # an agency's people; far above any department's executives and officers


async def of_my_agency(request: Request) -> list[dict]:
    """[{username, display_name, position, signs, org_key, org_name}], those who sign first, by name."""
    who = _signed_in(request)
    orgs = {str(org["id"]): org for org in await request.app.state.services.json("routing", "GET", "/orgs", who)}
    units = _agency_units(orgs, who)
    async with request.app.state.db.read() as session:
        rows = await UserRepository(session).search(q=None, org_id=None, role=None, active=True, after=None, limit=MOST)
    people = [
        {
            "username": row["username"],
            "display_name": row["display_name"] or row["username"],
            "position": row.get("position") or "",
            "signs": SIGNING_ROLE in (row.get("roles") or []),
            "org_key": (orgs.get(str(row.get("org_id"))) or {}).get("key") or "",
            "org_name": (orgs.get(str(row.get("org_id"))) or {}).get("name") or "",
        }
        for row in rows
        if set(row.get("roles") or []) & set(LINE_ROLES) and (units is None or str(row.get("org_id")) in units)
    ]
    return sorted(people, key=lambda p: (not p["signs"], p["display_name"]))


def _agency_units(by_id: dict[str, dict], who: Principal) -> set[str] | None:
    """The ids of the units of the person's agency; None (everyone) for an administrator, who records
    delegations for any agency."""
    if "admin" in who.roles:
        return None
    top = by_id.get(str(who.org_id))
    seen: set[str] = set()
    while top and top.get("kind") not in AGENCY_KINDS and top.get("parent_id") and str(top["id"]) not in seen:
        seen.add(str(top["id"]))
        top = by_id.get(str(top["parent_id"]))
    if top is None:
        return set()
    children: dict[str, list[str]] = {}
    for org in by_id.values():
        if org.get("parent_id"):
            children.setdefault(str(org["parent_id"]), []).append(str(org["id"]))
    units, stack = set(), [str(top["id"])]
    while stack:
        unit = stack.pop()
        if unit not in units:
            units.add(unit)
            stack.extend(children.get(unit, []))
    return units
