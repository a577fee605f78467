"""Audit's internal HTTP routes (called by the gateway only, with a principal token)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from services.audit import service
from services.audit.domain.queries import recipients
from shared.contracts import base_type
from shared.principal import CurrentPrincipal
from shared.problems import Problem

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


# Facts of an entry an auditor's listing shows besides the event itself: ids, numbers and levels, never text.
LISTED_FACTS = (
    "sender_org_id",
    "recipient_org_id",
    "doc_no",
    "receive_no",
    "register_year",
    "status",
    "decision",
    "secrecy",
    "resource",
    "resource_id",
    "attachment_id",
)


def _listed_view(row) -> dict:
    entry = json.loads(row["entry"])
    event = {
        "index": row["index"],
        "type": base_type(row["type"]),
        "occurred_at": entry["occurred_at"],
        "org_id": row["org_id"],
        "actor": entry.get("actor"),
        "letter_id": row["letter_id"],
        "delivery_id": row["delivery_id"],
    }
    return event | {key: entry[key] for key in LISTED_FACTS if key in entry}


def _page_view(rows, next_index: int | None) -> dict:
    return {
        "items": [_listed_view(r) for r in rows],
        "next_cursor": None if next_index is None else str(next_index),
    }


@router.get("/letters/{letter_id}/history")
async def letter_history(letter_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    rows = await service.letter_history(_db(request), letter_id, who)
    return {
        "letter_id": letter_id,
        "events": [_event_view(r) for r in rows],
        "recipients": recipients(rows, service.whole_recipient_list(rows, who)),
    }


Limit = Annotated[int, Query(ge=1, le=1000)]
# Dates, types and cursors are read by the service, so every malformed value gets the same 422 naming its field.
Text = Annotated[str | None, Query(max_length=100)]


@router.get("/orgs/{org_id}/events")
async def org_events(
    org_id: uuid.UUID,
    request: Request,
    who: CurrentPrincipal,
    start: Annotated[Text, Query(alias="from")] = None,
    end: Annotated[Text, Query(alias="to")] = None,
    type_: Annotated[Text, Query(alias="type")] = None,
    cursor: Text = None,
    limit: Limit = 100,
):
    rows, next_index = await service.org_events(_db(request), who, org_id, start, end, type_, cursor, limit)
    return {"org_id": org_id} | _page_view(rows, next_index)


@router.get("/denied")
async def denied(
    request: Request,
    who: CurrentPrincipal,
    start: Annotated[Text, Query(alias="from")] = None,
    end: Annotated[Text, Query(alias="to")] = None,
    cursor: Text = None,
    limit: Limit = 100,
):
    rows, next_index = await service.denied(_db(request), who, start, end, cursor, limit)
    return _page_view(rows, next_index)


@router.get("/leaves")
async def leaves(
    request: Request,
    who: CurrentPrincipal,
    start: Annotated[int, Query(ge=0, le=MAX_INDEX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
):
    return [_leaf_view(r) for r in await service.leaves(_db(request), who, start, limit)]


Index = Annotated[int, Query(ge=0, le=MAX_INDEX)]
NOTE_TYPE = "text/plain; charset=utf-8"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@router.get("/checkpoint", response_class=PlainTextResponse)
async def checkpoint(request: Request, who: CurrentPrincipal):
    # Any signed-in user may read it: a checkpoint says only how big the log is and what its root is.
    note = await request.app.state.checkpointer.latest()
    if note is None:
        raise Problem(404, "ยังไม่มีจุดตรวจสอบ บันทึกยังว่างอยู่ (no checkpoint yet: the log is empty)")
    return PlainTextResponse(note, media_type=NOTE_TYPE)


@router.get("/public-key", response_class=PlainTextResponse)
async def public_key(request: Request, who: CurrentPrincipal):
    return PlainTextResponse(request.app.state.checkpointer.public_key_text + "\n", media_type=NOTE_TYPE)


@router.get("/entries")
async def entries(request: Request, who: CurrentPrincipal, start: Index = 0, end: Index | None = None):
    rows = await service.entries(_db(request), who, start, end)
    return [{"index": r["index"], "entry": _b64(r["entry"]), "leaf_hash": _b64(r["leaf_hash"])} for r in rows]


@router.get("/proofs/inclusion")
async def inclusion_proof(request: Request, who: CurrentPrincipal, index: Index, tree_size: Index):
    hashes = await service.inclusion(_db(request), who, index, tree_size)
    return {"leaf_index": index, "tree_size": tree_size, "hashes": [_b64(h) for h in hashes]}


@router.get("/proofs/consistency")
async def consistency_proof(request: Request, who: CurrentPrincipal, first: Index, second: Index):
    hashes = await service.consistency(_db(request), who, first, second)
    return {"first": first, "second": second, "hashes": [_b64(h) for h in hashes]}
