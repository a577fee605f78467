"""The auditor's screens: an agency's events by date range and type, a letter's timeline, and the button
that verifies the timeline against the signed log in the browser (static/verify.js)."""

from __future__ import annotations

import base64
import json
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway.web import i18n
from gateway.web.client import Api, ApiError
from gateway.web.pages.common import directory, is_auditor, names, whoami
from gateway.web.pages.inbox import typed_days
from gateway.web.render import WebRoute, api, lang_of, render

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
    orgs = await directory(client, retired=True)
    filters = {key: query.get(key, "")[:100] for key in ("org", "type", "from", "to", "doc_no")}
    events = None
    errors, days = typed_days(filters, lang_of(request))
    if filters["org"] and not errors:
        span = {name: day.isoformat() if day else "" for name, day in days.items()}
        page = await client.get(
            f"/audit/orgs/{uuid.UUID(filters['org'])}/events",
            **{"from": span["from"], "to": span["to"], "type": filters["type"], "limit": 1000},
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
        errors=errors,
        events=events,
        event_types=EVENT_TYPES,
        bad_letter=bool(letter),
        active="audit",
    )


@router.get("/audit/letters/{letter_id}")
async def audit_letter(request: Request, letter_id: uuid.UUID) -> Response:
    client = api(request)
    me = await whoami(client)
    orgs = await directory(client, retired=True)
    history = await client.get(f"/audit/letters/{letter_id}/history")
    return render(
        request,
        "audit_letter.html",
        me=me,
        names=names(orgs),
        letter_id=str(letter_id),
        history=history,
        doc_no=await letter_number(client, me, letter_id, history["events"]),
        active="audit",
    )


async def letter_number(client: Api, me: dict, letter_id: uuid.UUID, events: list[dict]) -> str:
    """The letter's number (ที่). The history lists events without it, so an auditor reads it from the log entry
    of `letter.sent` itself, the record the timeline is verified against; a clerk, who may not read the log's
    entries, from the letter. Empty while the log has not caught up."""
    try:
        if not is_auditor(me):
            return (await client.get(f"/letters/{letter_id}")).get("doc_no") or ""
        sent = next((e for e in events if e["type"] == "letter.sent"), None)
        if sent is None:
            return ""
        page = await client.get("/audit/entries", start=sent["index"], end=sent["index"] + 1)
    except ApiError:
        return ""
    return _doc_no_of(page, sent["index"])


def _doc_no_of(page: list[dict], index: int) -> str:
    entry = next((item["entry"] for item in page if item["index"] == index), None)
    if entry is None:
        return ""
    try:
        return str(json.loads(base64.b64decode(entry)).get("doc_no") or "")
    except (ValueError, TypeError):
        return ""
