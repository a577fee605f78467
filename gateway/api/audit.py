"""The auditor's questions, answered by the audit service, and what an outsider needs to verify the log:
signed checkpoints, the public key, the entries and the proofs."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from gateway import policy
from gateway.auth import CurrentUser
from gateway.deps import ServicesDep

router = APIRouter(tags=["audit"])

# Checked here too, so a bad number is a 422 before any internal call is made.
Index = Annotated[int, Query(ge=0, le=2**63 - 1)]
NOTE_TYPE = "text/plain; charset=utf-8"


@router.get("/audit/letters/{letter_id}/history")
async def letter_history(letter_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    policy.require(who, "audit.history")
    return await services.json("audit", "GET", f"/letters/{letter_id}/history", who)


@router.get("/audit/checkpoint", response_class=PlainTextResponse)
async def checkpoint(who: CurrentUser, services: ServicesDep):
    policy.require(who, "audit.checkpoint")
    response = await services.call("audit", "GET", "/checkpoint", who)
    return PlainTextResponse(response.text, media_type=NOTE_TYPE)


@router.get("/audit/public-key", response_class=PlainTextResponse)
async def public_key(who: CurrentUser, services: ServicesDep):
    policy.require(who, "audit.checkpoint")
    response = await services.call("audit", "GET", "/public-key", who)
    return PlainTextResponse(response.text, media_type=NOTE_TYPE)


@router.get("/audit/entries")
async def entries(who: CurrentUser, services: ServicesDep, start: Index = 0, end: Index | None = None):
    policy.require(who, "audit.log")
    params = {"start": start} | ({} if end is None else {"end": end})
    return await services.json("audit", "GET", "/entries", who, params=params)


@router.get("/audit/proofs/inclusion")
async def inclusion_proof(who: CurrentUser, services: ServicesDep, index: Index, tree_size: Index):
    policy.require(who, "audit.log")
    params = {"index": index, "tree_size": tree_size}
    return await services.json("audit", "GET", "/proofs/inclusion", who, params=params)


@router.get("/audit/proofs/consistency")
async def consistency_proof(who: CurrentUser, services: ServicesDep, first: Index, second: Index):
    policy.require(who, "audit.log")
    params = {"first": first, "second": second}
    return await services.json("audit", "GET", "/proofs/consistency", who, params=params)
