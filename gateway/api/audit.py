"""The auditor's questions, answered by the audit service."""

import uuid

from fastapi import APIRouter

from gateway import policy
from gateway.auth import CurrentUser
from gateway.deps import ServicesDep

router = APIRouter(tags=["audit"])


@router.get("/audit/letters/{letter_id}/history")
async def letter_history(letter_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    policy.require(who, "audit.history")
    return await services.json("audit", "GET", f"/letters/{letter_id}/history", who)
