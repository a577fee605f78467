"""Audit's internal HTTP routes (called by the gateway only, with a principal token)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.audit import service
from shared.contracts import base_type
from shared.principal import CurrentPrincipal

router = APIRouter()

# The largest index a BIGINT holds; a larger `start` is refused as input instead of failing in the driver.
MAX_INDEX = 2**63 - 1


def _db(request: Request):
    return request.app.state.db


def _event_view(row) -> dict:
    # Actor, time and receive number are read from the entry itself, so the history shows exactly what the
    # log commits to.
    entry = json.loads(row["entry"])
    event = {
        "index": row["index"],
        "type": base_type(row["type"]),
        "occurred_at": entry["occurred_at"],
        "org_id": row["org_id"],
        "actor": entry.get("actor"),
    }
    if row["delivery_id"] is not None:
        event["delivery_id"] = row["delivery_id"]
    if "receive_no" in entry:
        event["receive_no"] = entry["receive_no"]
    return event


def _leaf_view(row) -> dict:
    return {
        "index": row["index"],
        "type": row["type"],
        "leaf_hash": row["leaf_hash"].hex(),
        "entry": base64.b64encode(row["entry"]).decode("ascii"),
    }


@router.get("/letters/{letter_id}/history")
async def letter_history(letter_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    rows = await service.letter_history(_db(request), letter_id, who)
    return {"letter_id": letter_id, "events": [_event_view(r) for r in rows]}


@router.get("/leaves")
async def leaves(
    request: Request,
    who: CurrentPrincipal,
    start: Annotated[int, Query(ge=0, le=MAX_INDEX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
):
    return [_leaf_view(r) for r in await service.leaves(_db(request), who, start, limit)]
