"""Delegations of signing authority (ปฏิบัติราชการแทน, รักษาราชการแทน): record, list, revoke. The gateway keeps
them because they are about people; signing checks them (gateway/api/drafts.py)."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from gateway import policy
from gateway.adapters.repository import UserRepository
from gateway.auth import CurrentUser
from gateway.deps import DbDep, ServicesDep
from gateway.people import rules
from gateway.people.delegations import Delegations, Kind, NewDelegation, in_force, invalid, on_behalf_text
from gateway.thai_dates import with_thai_dates
from shared.problems import UPSTREAM, problem_responses
from shared.thai import date_th

router = APIRouter(tags=["delegations"])


class DelegationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_username: str = Field(max_length=200, description="the executive whose authority is delegated")
    to_username: str = Field(max_length=200, description="who may sign in his name")
    org_key: str = Field(max_length=100, description="the unit whose letters it covers: the delegator's own")
    kind: Kind = Field(description="delegated: ปฏิบัติราชการแทน; acting: รักษาราชการแทน")
    valid_from: date = Field(description="the first day it counts (Asia/Bangkok)")
    valid_to: date = Field(description="the last day it counts, included")


def _delegations(request: Request) -> Delegations:
    return request.app.state.delegations


@router.post("/delegations", status_code=201, responses=problem_responses(400, 401, 403, 422, *UPSTREAM))
async def create_delegation(
    body: DelegationRequest, request: Request, who: CurrentUser, db: DbDep, services: ServicesDep
):
    """An executive delegates his own signing authority for his unit; an administrator may record anyone's."""
    policy.require(who, "delegation.manage")
    units = await _units(services, who)
    org_id = next((uuid.UUID(u["id"]) for u in units.values() if u["key"] == body.org_key), None)
    if org_id is None:
        raise invalid("org_key", f"ไม่พบหน่วยงาน {body.org_key!r} ในสารบบ (unknown unit)")
    new = NewDelegation(
        from_username=rules.sign_in_name(body.from_username),
        to_username=rules.sign_in_name(body.to_username),
        org_id=org_id,
        kind=body.kind,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
    )
    delegations = _delegations(request)
    row = await delegations.create(who, new)
    return (await _views(db, units, [row], delegations.today()))[0]


@router.get("/delegations", responses=problem_responses(401, 403, *UPSTREAM))
async def list_delegations(request: Request, who: CurrentUser, db: DbDep, services: ServicesDep):
    """Those given by or to the caller, the latest first; an administrator sees every one."""
    policy.require(who, "delegation.read")
    delegations = _delegations(request)
    rows = await delegations.listed(who)
    return {"items": await _views(db, await _units(services, who), rows, delegations.today())}


@router.post("/delegations/{delegation_id}/revoke", responses=problem_responses(401, 403, 404, 422, *UPSTREAM))
async def revoke_delegation(
    delegation_id: uuid.UUID, request: Request, who: CurrentUser, db: DbDep, services: ServicesDep
):
    """Ends it at once, by the delegator or an administrator; letters signed under it stay signed."""
    policy.require(who, "delegation.manage")
    delegations = _delegations(request)
    row = await delegations.revoke(who, delegation_id)
    return (await _views(db, await _units(services, who), [row], delegations.today()))[0]


async def _units(services, who) -> dict[str, dict]:
    return {unit["id"]: unit for unit in await services.json("routing", "GET", "/orgs", who)}


async def _views(db, units: dict[str, dict], rows: list[dict], today: date) -> list[dict]:
    async with db.read() as session:
        people = await UserRepository(session).many(
            sorted({row["from_username"] for row in rows} | {row["to_username"] for row in rows})
        )
    return [_view(row, units, people, today) for row in rows]


def _view(row: dict, units: dict[str, dict], people: dict[str, dict], today: date) -> dict:
    unit = units.get(str(row["org_id"])) or {}
    giver, holder = people.get(row["from_username"]) or {}, people.get(row["to_username"]) or {}
    return with_thai_dates(
        {
            "id": str(row["id"]),
            "from_username": row["from_username"],
            "from_display_name": giver.get("display_name"),
            "from_position": giver.get("position"),
            "to_username": row["to_username"],
            "to_display_name": holder.get("display_name"),
            "to_position": holder.get("position"),
            "org_id": str(row["org_id"]),
            "org_key": unit.get("key"),
            "org_name": unit.get("name"),
            "kind": row["kind"],
            "on_behalf_text": on_behalf_text(row["kind"], giver.get("position")),
            "valid_from": row["valid_from"].isoformat(),
            "valid_from_th": date_th(row["valid_from"]),
            "valid_to": row["valid_to"].isoformat(),
            "valid_to_th": date_th(row["valid_to"]),
            "in_force": in_force(row, today),
            "created_by": row["created_by"],
            "created_at": row["created_at"].isoformat(),
            "revoked_by": row["revoked_by"],
            "revoked_at": row["revoked_at"].isoformat() if row["revoked_at"] else None,
        }
    )
