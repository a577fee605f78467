"""One letter: whether its electronic signatures are valid, its text, attachments (name, size, pages) and
stamped copy, the recipients and their timeline from the audit log; for the receiving unit the actions and the
annotations (เกษียน); for the sender ดึงคืน (recall) from a recipient that has not registered it, and ยกเลิก
(cancel) while nobody has, each confirmed first."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway.web import i18n
from gateway.web.client import Api, ApiError
from gateway.web.pages.common import attachment_meta, directory, names, signatures_of, whoami
from gateway.web.pages.inbox import notice
from gateway.web.render import WebRoute, api, check_csrf, lang_of, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

REGISTERED = ("received", "forwarded", "closed")
RECALLABLE = ("pending", "delivered")  # the routing state machine's `recall` row


@router.get("/letters/{letter_id}")
async def letter_page(request: Request, letter_id: uuid.UUID) -> Response:
    client = api(request)
    me = await whoami(client)
    letter = await client.get(f"/letters/{letter_id}")
    orgs = await directory(client, retired=True, at=letter["sent_at"])
    mine = next((d for d in letter["deliveries"] if d["recipient_org_id"] == me["org_id"]), None)
    history = await _history(client, letter_id)
    sender = letter["sender_org_id"] == me["org_id"]
    registered = sum(1 for d in letter["deliveries"] if d["status"] in REGISTERED)
    meta = await attachment_meta(client, letter["attachment_ids"])
    return render(
        request,
        "letter.html",
        me=me,
        orgs=orgs,
        names=names(orgs),
        letter=letter,
        mine=_as_item(mine),
        sender=sender,
        registered=registered,
        attachments=[{"id": i, "meta": meta.get(i)} for i in letter["attachment_ids"]],
        signatures=await signatures_of(client, str(letter_id)),
        cc=letter.get("cc_org_ids") or [],
        live=letter.get("status") != "cancelled",
        recallable=RECALLABLE,
        cancellable=sender and registered == 0 and letter.get("status") != "cancelled",
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


@router.post("/letters/{letter_id}/recall")
async def recall(request: Request, letter_id: uuid.UUID) -> Response:
    """ดึงคืน from the recipients chosen (every unregistered one when none is); the API refuses all of it (409)
    when one of them has registered the letter meanwhile."""
    form = await _confirmed(request)
    chosen = [str(org) for org in form.getlist("recipient_org_ids") if org]
    await api(request).post(f"/letters/{letter_id}/recall", {"recipient_org_ids": chosen or None})
    return RedirectResponse(f"/letters/{letter_id}?notice=recalled", status_code=303)


@router.post("/letters/{letter_id}/cancel")
async def cancel(request: Request, letter_id: uuid.UUID) -> Response:
    """ยกเลิก while nobody has registered it; the number stays in the send register, marked cancelled."""
    form = await _confirmed(request)
    await api(request).post(f"/letters/{letter_id}/cancel", {"reason": str(form.get("reason", ""))})
    return RedirectResponse(f"/letters/{letter_id}?notice=cancelled", status_code=303)


async def _confirmed(request: Request):
    """The form, if its confirmation box was ticked: the browser asks for it, this holds without the browser."""
    form = await check_csrf(request)
    if form.get("confirm") != "1":
        message = i18n.translator(lang_of(request))("confirm.needed")
        raise ApiError(422, {"status": 422, "detail": message})
    return form
