"""The directory of agencies, as routing keeps it."""

import uuid
from datetime import datetime

from fastapi import APIRouter

from gateway import policy
from gateway.auth import CurrentUser
from gateway.deps import ServicesDep
from shared.problems import UPSTREAM, problem_responses

router = APIRouter(tags=["directory"])


@router.get("/orgs", responses=problem_responses(401, 403, 422, *UPSTREAM))
async def list_orgs(who: CurrentUser, services: ServicesDep, retired: bool = False, at: datetime | None = None):
    """The units in force; with `retired=true` also the retired ones (each with its `valid_to`), which old
    letters and registers still name; with `at` (ISO date-time), under the names and codes they had then."""
    policy.require(who, "directory.read")
    params = {"retired": str(retired).lower()} | ({"at": at.isoformat()} if at else {})
    return await services.json("routing", "GET", "/orgs", who, params=params)


@router.get("/orgs/{org_id}", responses=problem_responses(401, 403, 404, 422, *UPSTREAM))
async def get_org(org_id: uuid.UUID, who: CurrentUser, services: ServicesDep, at: datetime | None = None):
    """One unit, a retired one too (old letters name it); with `at` (ISO date-time), under the name and codes
    it had at that moment, so an old letter shows the name it was sent under."""
    policy.require(who, "directory.read")
    params = {"at": at.isoformat()} if at else None
    return await services.json("routing", "GET", f"/orgs/{org_id}", who, params=params)


@router.get("/groups", responses=problem_responses(401, 403, *UPSTREAM))
async def list_groups(who: CurrentUser, services: ServicesDep):
    """Recipient groups for circulars (หนังสือเวียน), e.g. every department of the ministry."""
    policy.require(who, "directory.read")
    return await services.json("routing", "GET", "/groups", who)
