"""The directory of agencies, as routing keeps it."""

from fastapi import APIRouter

from gateway import policy
from gateway.auth import CurrentUser
from gateway.deps import ServicesDep
from shared.problems import UPSTREAM, problem_responses

router = APIRouter(tags=["directory"])


@router.get("/orgs", responses=problem_responses(401, 403, *UPSTREAM))
async def list_orgs(who: CurrentUser, services: ServicesDep):
    policy.require(who, "directory.read")
    return await services.json("routing", "GET", "/orgs", who)


@router.get("/groups", responses=problem_responses(401, 403, *UPSTREAM))
async def list_groups(who: CurrentUser, services: ServicesDep):
    """Recipient groups for circulars (หนังสือเวียน), e.g. every department of the ministry."""
    policy.require(who, "directory.read")
    return await services.json("routing", "GET", "/groups", who)
