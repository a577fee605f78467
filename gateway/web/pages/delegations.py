"""Delegations (การมอบอำนาจ): who signs for whom, from when to when, and in which capacity (ปฏิบัติราชการแทน or
รักษาราชการแทน), for the delegator's own unit. An executive records his own; an administrator anyone's. The
dates are typed in the Buddhist era like every other date field; the API checks the rest."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway.web import dates, draft_forms, forms, i18n
from gateway.web.client import Api, ApiError
from gateway.web.pages.common import is_admin, whoami
from gateway.web.pages.drafts import in_force, line_people
from gateway.web.render import WebRoute, api, check_csrf, lang_of, render
from shared import thai

router = APIRouter(route_class=WebRoute, include_in_schema=False)

KINDS = ("delegated", "acting")
DATE_FIELDS = ("valid_from", "valid_to")
TEXT_FIELDS = ("from_person", "to_person", "kind", *DATE_FIELDS)
# The API's names for the form's fields, to place its refusals next to them.
FIELD_OF = {"from_username": "from_person", "to_username": "to_person", "org_key": "from_person"}


@router.get("/delegations")
async def delegations(request: Request) -> Response:
    client = api(request)
    me = await whoami(client)
    values = {
        "from_person": "" if is_admin(me) else draft_forms.person_text(me),
        "to_person": "",
        "kind": "delegated",
        "valid_from": dates.typed_day(thai.today()),
        "valid_to": "",
    }
    added = request.query_params.get("notice") == "added"
    notice = i18n.translator(lang_of(request))("notice.delegation_added") if added else None
    return await _page(request, client, me, values, {}, notice=notice)


@router.post("/delegations")
async def add(request: Request) -> Response:
    form = await check_csrf(request)
    lang = lang_of(request)
    client = api(request)
    me = await whoami(client)
    values = {name: str(form.get(name, "") or "") for name in TEXT_FIELDS}
    body, errors = _request(values, await line_people(request), lang)
    if errors:
        return await _page(request, client, me, values, errors, status=422)
    try:
        await client.post("/delegations", body)
    except ApiError as error:
        if error.status not in (409, 422):
            raise
        placed = {FIELD_OF.get(k, k): v for k, v in forms.field_errors(error, lang).items()}
        return await _page(request, client, me, values, placed, status=error.status)
    return RedirectResponse("/delegations?notice=added", status_code=303)


def _request(values: dict, people: list[dict], lang: str) -> tuple[dict, dict[str, str]]:
    """The API's delegation from the form, or what is wrong with the form. The unit is the delegator's own:
    the authority delegated is his, for the letters of his unit."""
    t = i18n.translator(lang)
    errors: dict[str, str] = {}
    usernames = {}
    for name in ("from_person", "to_person"):
        username, problem = draft_forms.username_of(values[name], people)
        if problem or not username:
            errors[name] = problem or t("field.required")
        usernames[name] = username
    giver = next((p for p in people if p["username"] == usernames["from_person"]), None)
    days = {}
    for name in DATE_FIELDS:
        try:
            days[name] = dates.parse_day(values[name])
        except dates.DateRefused as refused:
            errors[name] = forms.readable(str(refused), lang)
            continue
        if days[name] is None:
            errors[name] = t("field.required")
    body = {
        "from_username": usernames["from_person"] or "",
        "to_username": usernames["to_person"] or "",
        "org_key": giver["org_key"] if giver else "",
        "kind": values["kind"] if values["kind"] in KINDS else "delegated",
        "valid_from": days["valid_from"].isoformat() if days.get("valid_from") else None,
        "valid_to": days["valid_to"].isoformat() if days.get("valid_to") else None,
    }
    return body, errors


async def _page(
    request: Request, client: Api, me: dict, values: dict, errors: dict, status: int = 200, notice: str | None = None
) -> Response:
    items = (await client.get("/delegations"))["items"]
    return render(
        request,
        "delegations.html",
        status=status,
        me=me,
        items=items,
        in_force=in_force,
        person_text=draft_forms.person_text,
        people=await line_people(request),
        kinds=KINDS,
        v=values,
        errors=errors,
        notice=notice,
        active="delegations",
    )
