"""The inbox (most urgent first), the outbox, and the actions on a delivery: ลงรับ, คืนเรื่อง, ปฏิเสธ, ส่งต่อ,
เกษียน. An action answers JSON to the page's script (shown in place at once) or redirects back without one."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from gateway.web import dates, i18n, session
from gateway.web.client import ApiError
from gateway.web.directory import recipients, resolve
from gateway.web.forms import readable
from gateway.web.pages.common import directory, names, signatures_of_many, whoami
from gateway.web.render import WebRoute, api, check_csrf, lang_of, render, wants_json

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE = 200
# Letters whose signatures the inbox checks: the unregistered ones, which the clerk is about to register.
SIGNATURES_SHOWN = 50
NOTICES = ("received", "returned", "rejected", "forwarded", "annotated", "sent", "recalled", "cancelled")


@router.get("/inbox")
async def inbox(request: Request) -> Response:
    query = request.query_params
    filters = {key: query.get(key, "")[:200] for key in ("q", "status", "urgency", "sender", "from", "to")}
    client = api(request)
    me = await whoami(client)
    orgs = await directory(client, retired=True)
    page = await client.get("/inbox", q=filters["q"], status=filters["status"], limit=PAGE)
    unread = await client.get("/inbox", status="delivered", limit=PAGE)
    overdue = (await client.get("/follow-up"))["overdue"]
    errors, days = typed_days(filters, lang_of(request))
    items = ordered(narrowed(page["items"], filters, days))
    unregistered = [item["letter_id"] for item in items if item["status"] == "delivered"]
    signatures = await signatures_of_many(client, unregistered[:SIGNATURES_SHOWN])
    known = {org["id"]: org for org in orgs}
    senders = [known[i] for i in dict.fromkeys(item["sender_org_id"] for item in page["items"]) if i in known]
    if filters["sender"] in known and known[filters["sender"]] not in senders:
        senders.append(known[filters["sender"]])
    return render(
        request,
        "inbox.html",
        me=me,
        orgs=orgs,
        names=names(orgs),
        items=items,
        signatures=signatures,
        filters=filters,
        errors=errors,
        senders=senders,
        unread=len(unread["items"]),
        overdue=len(overdue),
        overdue_ids={d["delivery_id"] for d in overdue},
        more=bool(page["next_cursor"]),
        notice=notice(request),
        active="inbox",
    )


def typed_days(filters: dict, lang: str) -> tuple[dict[str, str], dict[str, date | None]]:
    """The date filters as typed (Buddhist era), read; one that cannot be read is named and left out."""
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        try:
            days[name] = dates.parse_day(filters[name])
        except dates.DateRefused as refused:
            errors[name] = readable(str(refused), lang)
            days[name] = None
    return errors, days


def narrowed(items: list[dict], filters: dict, days: dict) -> list[dict]:
    """What the API cannot filter by (urgency, sender, the Bangkok date of arrival) is filtered here."""
    start, end = days.get("from"), days.get("to")
    kept = []
    for item in items:
        arrived = dates.bangkok_day(item["delivered_at"])
        if filters["urgency"] and item["urgency"] != filters["urgency"]:
            continue
        if filters["sender"] and item["sender_org_id"] != filters["sender"]:
            continue
        if (start and (not arrived or arrived < start)) or (end and (not arrived or arrived > end)):
            continue
        kept.append(item)
    return kept


def ordered(items: list[dict]) -> list[dict]:
    """Most urgent first, newest first within an urgency: the order a clerk works in."""
    by_time = sorted(items, key=lambda i: i["delivered_at"] or "", reverse=True)
    return sorted(by_time, key=lambda i: i18n.URGENCY_RANK.get(i["urgency"], 0), reverse=True)


def notice(request: Request) -> str | None:
    """The result of the action just done, from an allow-listed key: nothing typed is echoed from the URL."""
    key = request.query_params.get("notice")
    if key not in NOTICES:
        return None
    t = i18n.translator(lang_of(request))
    number = request.query_params.get("no", "")
    if key == "sent":
        return t("letter.sent", doc_no=request.query_params.get("doc", "")[:100])
    return t(f"notice.{key}", no=number if number.isdigit() else "")


@router.get("/outbox")
async def outbox(request: Request) -> Response:
    client = api(request)
    me = await whoami(client)
    orgs = await directory(client, retired=True)
    page = await client.get("/outbox", q=request.query_params.get("q", "")[:200], limit=PAGE)
    return render(
        request,
        "outbox.html",
        me=me,
        names=names(orgs),
        letters=page["items"],
        q=request.query_params.get("q", ""),
        active="outbox",
    )


@router.post("/deliveries/{delivery_id}/annotations")
async def annotate(request: Request, delivery_id: uuid.UUID) -> Response:
    form = await check_csrf(request)
    body = {"text": str(form.get("text", "")), "position": str(form.get("position", ""))}
    if form.get("decision"):
        body["decision"] = str(form.get("decision"))
    try:
        await api(request).post(f"/deliveries/{delivery_id}/annotations", body)
    except ApiError as error:
        if error.status != 422 or wants_json(request):
            raise
        return RedirectResponse(_with(form, {"annotation_error": "1"}) + "#annotations", status_code=303)
    return answered(request, form, "annotated", None, None)


Action = Literal["receive", "return", "reject", "forward"]


@router.post("/deliveries/{delivery_id}/{action}")
async def act(request: Request, delivery_id: uuid.UUID, action: Action) -> Response:
    form = await check_csrf(request)
    client = api(request)
    path = f"/deliveries/{delivery_id}/{action}"
    if action == "receive":
        result = await client.post(path)
    elif action == "forward":
        chosen = [str(org) for org in form.getlist("recipient_org_ids")] + await typed_recipients(request, form)
        body = {"recipient_org_ids": list(dict.fromkeys(chosen)), "note": str(form.get("note", ""))}
        result = await client.post(path, body)
    else:
        result = await client.post(path, {"reason": str(form.get("reason", ""))})
    done = {"receive": "received", "return": "returned", "reject": "rejected", "forward": "forwarded"}[action]
    return answered(request, form, done, result.get("receive_no"), result["status"])


async def typed_recipients(request: Request, form) -> list[str]:
    """Units typed by name or letter code (a browser without the picker script); a line that names no unit,
    or several, is refused with the reason (422), and nothing is forwarded."""
    text = str(form.get("recipient_text", "") or "")
    if not text.strip():
        return []
    client = api(request)
    found = resolve(text, recipients(await directory(client), await whoami(client)))
    if found.problems:
        lang = lang_of(request)
        detail = " ".join(readable(problem, lang) for problem in found.problems)
        if found.candidates:
            detail += " — " + ", ".join(f"{o['name']} ({o['code']})" for o in found.candidates)
        raise ApiError(422, {"status": 422, "detail": detail})
    return found.org_ids


def answered(request: Request, form, done: str, receive_no, status) -> Response:
    t = i18n.translator(lang_of(request))
    message = t(f"notice.{done}", no=receive_no or "")
    if wants_json(request):
        label = i18n.labeller(lang_of(request))
        return JSONResponse(
            {
                "ok": True,
                "message": message,
                "status": status,
                "status_label": label("status", status),
                "receive_no": receive_no,
            }
        )
    params = {"notice": done} | ({"no": str(receive_no)} if receive_no else {})
    return RedirectResponse(_with(form, params), status_code=303)


def _with(form, params: dict) -> str:
    """The page the form came from, with the result of this action instead of any earlier one."""
    target = urlsplit(session.safe_next(str(form.get("next", "")), "/inbox"))
    kept = [(k, v) for k, v in parse_qsl(target.query) if k not in ("notice", "no", "doc", "annotation_error")]
    return target.path + "?" + urlencode(kept + list(params.items()))
