"""The directory of agencies, as routing keeps it."""

from fastapi import APIRouter

from gateway import policy
from gateway.auth import CurrentUser
from gateway.deps import ServicesDep

router = APIRouter(tags=["directory"])


@router.get("/orgs")
async def list_orgs(who: CurrentUser, services: ServicesDep):
    policy.require(who, "directory.read")
    return await services.json("routing", "GET", "/orgs", who)
