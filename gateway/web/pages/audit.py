"""The auditor's screens: an agency's events by date range and type, a letter's timeline, and the button
that verifies the timeline against the signed log in the browser (static/verify.js)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway.web import i18n
from gateway.web.pages.common import directory, names, whoami
from gateway.web.render import WebRoute, api, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

EVENT_TYPES = tuple(i18n.EVENT)


@router.get("/audit")
async def audit_search(request: Request) -> Response:
    query = request.query_params
    letter = query.get("letter", "").strip()
    if letter:
        try:
            return RedirectResponse(f"/audit/letters/{uuid.UUID(letter)}", status_code=303)
        except ValueError:
            pass
    client = api(request)
    me = await whoami(client)
    orgs = await directory(client)
    filters = {key: query.get(key, "")[:100] for key in ("org", "type", "from", "to", "doc_no")}
    events = None
    if filters["org"]:
        page = await client.get(
            f"/audit/orgs/{uuid.UUID(filters['org'])}/events",
            **{"from": filters["from"], "to": filters["to"], "type": filters["type"], "limit": 1000},
        )
        events = (
            [e for e in page["items"] if filters["doc_no"] in (e.get("doc_no") or "")]
            if filters["doc_no"]
            else page["items"]
        )
    return render(
        request,
        "audit.html",
        me=me,
        orgs=[o for o in orgs if o["kind"] != "ministry"],
        names=names(orgs),
        filters=filters,
        events=events,
        event_types=EVENT_TYPES,
        bad_letter=bool(letter),
        active="audit",
    )


@router.get("/audit/letters/{letter_id}")
async def audit_letter(request: Request, letter_id: uuid.UUID) -> Response:
    client = api(request)
    me = await whoami(client)
    orgs = await directory(client)
    history = await client.get(f"/audit/letters/{letter_id}/history")
    return render(
        request,
        "audit_letter.html",
        me=me,
        names=names(orgs),
        letter_id=str(letter_id),
        history=history,
        doc_no=next((e.get("doc_no") for e in history["events"] if e.get("doc_no")), ""),
        active="audit",
    )
