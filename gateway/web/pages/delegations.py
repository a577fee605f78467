"""Delegations (การมอบอำนาจ): who signs for whom, for which unit, from when to when, and in which capacity
(ปฏิบัติราชการแทน or รักษาราชการแทน). An executive records his own; an administrator anyone's. The dates are
typed in the Buddhist era like every other date field; the API checks the rest."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway.web import dates, draft_forms, forms, i18n
from gateway.web.client import Api, ApiError
from gateway.web.directory import resolve
from gateway.web.pages.common import directory, is_admin, whoami
from gateway.web.pages.drafts import in_force, line_people
from gateway.web.render import WebRoute, api, check_csrf, lang_of, render
from shared import thai

router = APIRouter(route_class=WebRoute, include_in_schema=False)

KINDS = ("delegated", "acting")
DATE_FIELDS = ("valid_from", "valid_to")


@router.get("/delegations")
async def delegations(request: Request) -> Response:
    client = api(request)
    me = await whoami(client)
    values = {
        "from_person": "" if is_admin(me) else draft_forms.person_text(me),
        "to_person": "",
        "org_id": "" if is_admin(me) else str(me.get("org_id") or ""),
        "unit_text": "",
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
    values = {name: str(form.get(name, "") or "") for name in ("from_person", "to_person", "unit_text", "kind")}
    values |= {name: str(form.get(name, "") or "") for name in DATE_FIELDS}
    values["org_id"] = next((str(v) for v in form.getlist("org_id") if v), "")
    body, errors = await _request(request, client, values, lang)
    if errors:
        return await _page(request, client, me, values, errors, status=422)
    try:
        await client.post("/delegations", body)
    except ApiError as error:
        if error.status not in (409, 422):
            raise
        return await _page(request, client, me, values, _placed(error, lang), status=error.status)
    return RedirectResponse("/delegations?notice=added", status_code=303)


async def _request(request: Request, client: Api, values: dict, lang: str) -> tuple[dict, dict[str, str]]:
    """The API's delegation from the form, or what is wrong with the form."""
    errors: dict[str, str] = {}
    everyone = await line_people(request)
    usernames = {}
    for name in ("from_person", "to_person"):
        username, problem = draft_forms.username_of(values[name], everyone)
        if problem or not username:
            errors[name] = problem or i18n.translator(lang)("field.required")
        usernames[name] = username
    orgs = await directory(client)
    org_key = _org_key(orgs, values)
    if not org_key:
        errors["unit"] = i18n.translator(lang)("delegation.unit_needed")
    days = {}
    for name in DATE_FIELDS:
        try:
            days[name] = dates.parse_day(values[name])
        except dates.DateRefused as refused:
            errors[name] = forms.readable(str(refused), lang)
            continue
        if days[name] is None:
            errors[name] = i18n.translator(lang)("field.required")
    body = {
        "from_username": usernames.get("from_person") or "",
        "to_username": usernames.get("to_person") or "",
        "org_key": org_key or "",
        "kind": values["kind"] if values["kind"] in KINDS else "delegated",
        "valid_from": days["valid_from"].isoformat() if days.get("valid_from") else None,
        "valid_to": days["valid_to"].isoformat() if days.get("valid_to") else None,
    }
    return body, errors


def _org_key(orgs: list[dict], values: dict) -> str | None:
    """The unit chosen with the picker (by id) or typed by name or code (without the script)."""
    by_id = {org["id"]: org for org in orgs}
    if values["org_id"] in by_id:
        return by_id[values["org_id"]]["key"]
    if values["unit_text"].strip():
        found = resolve(values["unit_text"], orgs)
        if len(found.org_ids) == 1 and not found.problems:
            values["org_id"] = found.org_ids[0]
            values["unit_text"] = ""
            return by_id[found.org_ids[0]]["key"]
    return None


FIELD_OF = {"from_username": "from_person", "to_username": "to_person", "org_key": "unit"}


def _placed(error: ApiError, lang: str) -> dict[str, str]:
    placed = forms.field_errors(error, lang)
    return {FIELD_OF.get(field, field): message for field, message in placed.items()}


async def _page(
    request: Request, client: Api, me: dict, values: dict, errors: dict, status: int = 200, notice: str | None = None
) -> Response:
    try:
        found = await client.get("/delegations")
    except ApiError as error:
        if error.status not in (403, 404):
            raise
        found = []
    items = found.get("items", []) if isinstance(found, dict) else found
    everyone = await line_people(request)
    orgs = await directory(client)
    by_key = {org["key"]: org for org in orgs}
    chosen = [org for org in orgs if org["id"] == values["org_id"]]
    return render(
        request,
        "delegations.html",
        status=status,
        me=me,
        items=sorted(items, key=lambda d: str(d.get("valid_from") or ""), reverse=True),
        in_force=in_force,
        named={p["username"]: p for p in everyone},
        person_text=draft_forms.person_text,
        units=by_key,
        people=everyone,
        chosen_unit=chosen,
        kinds=KINDS,
        v=values,
        errors=errors,
        notice=notice,
        active="delegations",
    )
