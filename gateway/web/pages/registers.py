"""The send and receive registers of a Buddhist-era year, in the official columns, printable like the paper
book, with the API's CSV for the whole year."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.web import dates, i18n
from gateway.web.pages.common import directory, is_clerk, whoami
from gateway.web.render import WebRoute, api, lang_of, render
from shared import thai

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/registers/{register}")
async def register_page(
    request: Request,
    register: Literal["send", "receive"],
    year: int | None = None,
    org_id: str | None = None,
    cursor: str | None = None,
) -> Response:
    client = api(request)
    me = await whoami(client)
    orgs = [o for o in await directory(client, retired=True) if o["kind"] != "ministry"]
    year_notice = None
    if year and year < dates.EARLIEST_BE:  # a Gregorian year in the address: say so, show the year it means
        year_notice = i18n.translator(lang_of(request))("register.bad_year", year=year, shown=year + thai.BE_OFFSET)
        year += thai.BE_OFFSET
    year = year or thai.buddhist_year()
    unit = None if is_clerk(me) else (org_id or None)
    page = None
    if is_clerk(me) or unit:
        page = await client.get(f"/registers/{register}", year=year, org_id=unit, cursor=cursor, limit=200)
    return render(
        request,
        "register.html",
        me=me,
        orgs=orgs,
        register=register,
        year=year,
        year_notice=year_notice,
        org_id=unit or "",
        page=page,
        years=range(thai.buddhist_year(), thai.buddhist_year() - 6, -1),
        active="registers",
    )
