"""The unit head's follow-up (การติดตาม): what is overdue, which circulars someone has not registered, how long
each recipient takes to register, and how much went electronically instead of on paper. Computed here from the
API's follow-up list and the unit's outbox."""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.web import dates
from gateway.web.pages.common import attachment_meta, directory, names, whoami
from gateway.web.render import WebRoute, api, render
from shared import thai

router = APIRouter(route_class=WebRoute, include_in_schema=False)

REGISTERED = ("received", "forwarded", "closed")
BAR_WIDTH = 320  # the longest bar of a chart, in SVG units


@router.get("/follow-up")
async def follow_up(request: Request) -> Response:
    client = api(request)
    me = await whoami(client)
    orgs = await directory(client, retired=True)
    found = await client.get("/follow-up")
    sent = (await client.get("/outbox", limit=200))["items"]
    year = thai.buddhist_year()
    this_year = sent_this_year(sent, year)
    meta = await attachment_meta(client, [a for letter in this_year for a in letter["attachment_ids"]])
    return render(
        request,
        "followup.html",
        me=me,
        names=names(orgs),
        overdue=found["overdue"],
        circulars=unregistered_circulars(sent),
        bars=bars(minutes_to_register(sent), names(orgs)),
        paperless=paperless(this_year, _pages_of(meta)),
        year=year,
        active="followup",
    )


def unregistered_circulars(letters: list[dict]) -> list[dict]:
    rows = []
    for letter in letters:
        if not letter["circular"] or letter["status"] == "cancelled":
            continue
        pending = [d for d in letter["deliveries"] if d["status"] not in REGISTERED]
        if pending:
            rows.append({"letter": letter, "pending": pending, "done": len(letter["deliveries"]) - len(pending)})
    return rows


def minutes_to_register(letters: list[dict]) -> dict[str, float]:
    """Average minutes from arrival (delivered) to ลงรับ, per recipient unit."""
    spans: dict[str, list[float]] = defaultdict(list)
    for letter in letters:
        for d in letter["deliveries"]:
            arrived, registered = dates.moment(d.get("delivered_at")), dates.moment(d.get("received_at"))
            if arrived and registered:
                spans[d["recipient_org_id"]].append(max(0.0, (registered - arrived).total_seconds() / 60))
    return {org: sum(values) / len(values) for org, values in spans.items()}


def bars(minutes: dict[str, float], org_names: dict[str, str]) -> list[dict]:
    longest = max(minutes.values(), default=0) or 1
    return [
        {
            "name": org_names.get(org, org),
            "minutes": value,
            "hours": value / 60,
            "width": max(2, round(BAR_WIDTH * value / longest)),
        }
        for org, value in sorted(minutes.items(), key=lambda item: item[1], reverse=True)
    ]


def sent_this_year(letters: list[dict], year: int) -> list[dict]:
    """Letters numbered in this year's send register that still went out (a cancelled one did not)."""
    return [x for x in letters if x.get("register_year") == year and x["status"] != "cancelled"]


def _pages_of(meta: dict[str, dict | None]) -> dict[str, int]:
    return {attachment: (found or {}).get("pages") or 0 for attachment, found in meta.items()}


def paperless(letters: list[dict], pages: dict[str, int]) -> dict:
    """What went electronically instead of on paper: each letter's PDF pages once (`pages`), and once per
    recipient (`paper_saved`), since on paper every recipient gets a printed copy."""
    per_letter = [sum(pages.get(a, 0) for a in x["attachment_ids"]) for x in letters]
    return {
        "letters": len(letters),
        "copies": sum(len(x["deliveries"]) for x in letters),
        "files": sum(len(x["attachment_ids"]) for x in letters),
        "pages": sum(per_letter),
        "paper_saved": sum(n * len(x["deliveries"]) for n, x in zip(per_letter, letters, strict=True)),
    }
