"""One letter: its text, attachments and stamped copy, the recipients and their timeline from the audit log,
and for the receiving unit the actions and the annotations (เกษียน)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.web.client import Api, ApiError
from gateway.web.pages.common import directory, names, whoami
from gateway.web.pages.inbox import notice
from gateway.web.render import WebRoute, api, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

REGISTERED = ("received", "forwarded", "closed")


@router.get("/letters/{letter_id}")
async def letter_page(request: Request, letter_id: uuid.UUID) -> Response:
    client = api(request)
    me = await whoami(client)
    orgs = await directory(client)
    letter = await client.get(f"/letters/{letter_id}")
    mine = next((d for d in letter["deliveries"] if d["recipient_org_id"] == me["org_id"]), None)
    history = await _history(client, letter_id)
    return render(
        request,
        "letter.html",
        me=me,
        orgs=orgs,
        names=names(orgs),
        letter=letter,
        mine=_as_item(mine),
        sender=letter["sender_org_id"] == me["org_id"],
        registered=sum(1 for d in letter["deliveries"] if d["status"] in REGISTERED),
        letter_events=[e for e in history["events"] if not e.get("delivery_id")],
        timeline=timeline(letter["deliveries"], history["events"]),
        annotations=await client.get(f"/deliveries/{mine['id']}/annotations") if mine else [],
        annotation_error=request.query_params.get("annotation_error") == "1",
        notice=notice(request),
        active="inbox" if mine else "outbox",
    )


async def _history(client: Api, letter_id: uuid.UUID) -> dict:
    """The audit log's view; while the log has not caught up (it is fed by events) the timeline is short."""
    try:
        return await client.get(f"/audit/letters/{letter_id}/history")
    except ApiError:
        return {"events": [], "recipients": []}


def timeline(deliveries: list[dict], events: list[dict]) -> list[dict]:
    """Each recipient with the events of its own delivery, in log order."""
    by_delivery: dict[str, list[dict]] = {}
    for event in events:
        if event.get("delivery_id"):
            by_delivery.setdefault(event["delivery_id"], []).append(event)
    return [{"delivery": d, "events": by_delivery.get(d["id"], [])} for d in deliveries]


def _as_item(delivery: dict | None) -> dict | None:
    """The recipient's own delivery in the shape the action buttons take (an inbox item's)."""
    if delivery is None:
        return None
    return {**delivery, "delivery_id": delivery["id"]}
