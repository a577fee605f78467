"""People, for administrators: the list with search and filters, a person's page (unit, position, e-mail,
roles, clearance; disable and enable, each confirmed; a one-time sign-in link shown once), adding a person,
and a CSV import with a preview first. Every answer comes from the admin API."""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway.web import i18n
from gateway.web.client import Api, ApiError
from gateway.web.directory import resolve, tree_order
from gateway.web.forms import THAI, readable
from gateway.web.pages import admin_import
from gateway.web.pages.common import directory, whoami
from gateway.web.render import WebRoute, api, check_csrf, lang_of, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

ROLES = ("clerk", "staff", "executive", "auditor", "admin")
CLEARANCES = ("normal", "confidential", "secret", "top_secret")
PAGE = 50
TEXT_FIELDS = ("username", "display_name", "position", "email", "clearance")
PEOPLE_IMPORT = admin_import.ImportKind(
    purpose="people",
    api_path="/admin/users/import",
    page="/admin/people/import",
    back="/admin/people",
    active="people",
    max_bytes=2 * 1024 * 1024,
    key_columns=("username", "ชื่อผู้ใช้"),
    name_columns=("display_name", "ชื่อ", "ชื่อ-สกุล", "ชื่อ-นามสกุล", "ชื่อที่แสดง"),
    probe=("/admin/users", {"limit": 1}),
    accept=".csv,text/csv",
)
NOTICES = ("saved", "created", "disabled_notice", "enabled_notice")


@router.get("/admin/people")
async def people_page(request: Request) -> Response:
    query = request.query_params
    filters = {name: query.get(name, "")[:200] for name in ("q", "org", "role", "active", "cursor")}
    client = api(request)
    me = await whoami(client)
    found = await client.get(
        "/admin/users",
        q=filters["q"],
        org_key=filters["org"],
        role=filters["role"] if filters["role"] in ROLES else None,
        active=filters["active"] if filters["active"] in ("true", "false") else None,
        cursor=filters["cursor"],
        limit=PAGE,
    )
    later = {k: v for k, v in filters.items() if v and k != "cursor"}
    return render(
        request,
        "admin_people.html",
        me=me,
        people=found["items"],
        filters=filters,
        units=_indented(await directory(client)),
        roles=ROLES,
        next_page=("/admin/people?" + urlencode(later | {"cursor": found["next_cursor"]}))
        if found["next_cursor"]
        else None,
        first_page=("/admin/people?" + urlencode(later)) if filters["cursor"] else None,
        active="people",
    )


def _indented(orgs: list[dict]) -> list[dict]:
    """Units in tree order, each with its depth, for a list that shows where a unit sits."""
    by_id = {org["id"]: org for org in orgs}

    def depth(org: dict) -> int:
        level, parent, seen = 0, org.get("parent_id"), set()
        while parent in by_id and parent not in seen:
            seen.add(parent)
            level, parent = level + 1, by_id[parent].get("parent_id")
        return level

    return [org | {"depth": depth(org)} for org in tree_order(orgs)]


# Declared before /admin/people/{username}, which would take these names as usernames.
@router.get("/admin/people/import")
async def import_form(request: Request) -> Response:
    return await admin_import.form_page(request, PEOPLE_IMPORT)


@router.post("/admin/people/import")
async def import_preview(request: Request) -> Response:
    return await admin_import.preview(request, PEOPLE_IMPORT)


@router.post("/admin/people/import/apply")
async def import_apply(request: Request) -> Response:
    return await admin_import.apply(request, PEOPLE_IMPORT)


@router.get("/admin/people/new")
async def new_person_page(request: Request) -> Response:
    client = api(request)
    me = await whoami(client)
    await client.get("/admin/users", limit=1)  # an administrator's page: others get the API's refusal
    values = {name: "" for name in TEXT_FIELDS} | {"clearance": "normal", "roles": [], "unit": None}
    return _person_page(request, me, None, values)


@router.post("/admin/people/new")
async def create_person(request: Request) -> Response:
    form = await check_csrf(request)
    client = api(request)
    me = await whoami(client)
    values, unit, errors = await _typed(request, client, form)
    if not errors:
        body = {name: values[name] for name in ("username", "display_name", "clearance")}
        body |= {"org_key": unit["key"] if unit else "", "roles": values["roles"]}
        body |= {name: values[name] for name in ("email", "position") if values[name]}
        try:
            created = await client.post("/admin/users", body)
        except ApiError as error:
            errors = _field_errors(error, lang_of(request))  # refusals other than of the input are raised
        else:
            return _back_to(created["username"], "created")
    return _person_page(request, me, None, values, errors=errors, status=422)


@router.get("/admin/people/{username}")
async def person_page(request: Request, username: str) -> Response:
    client = api(request)
    me = await whoami(client)
    person = await client.get(f"/admin/users/{quote(username, safe='')}")
    notice = request.query_params.get("notice", "")
    t = i18n.translator(lang_of(request))
    text = t(f"person.{notice}", name=person["display_name"]) if notice in NOTICES else None
    return _person_page(request, me, person, _values_of(person), notice=text)


@router.post("/admin/people/{username}")
async def save_person(request: Request, username: str) -> Response:
    form = await check_csrf(request)
    client = api(request)
    me = await whoami(client)
    person = await client.get(f"/admin/users/{quote(username, safe='')}")
    values, unit, errors = await _typed(request, client, form)
    if not errors:
        change = _changed(person, values, unit)
        try:
            if change:
                await client.patch(f"/admin/users/{quote(person['username'], safe='')}", change)
        except ApiError as error:
            errors = _field_errors(error, lang_of(request))  # refusals other than of the input are raised
        else:
            return _back_to(person["username"], "saved")
    return _person_page(request, me, person, values | {"username": person["username"]}, errors=errors, status=422)


@router.post("/admin/people/{username}/active")
async def set_active(request: Request, username: str) -> Response:
    """Disable or enable again, only with the confirmation box ticked (the browser asks, this holds without it)."""
    form = await check_csrf(request)
    client = api(request)
    me = await whoami(client)
    person = await client.get(f"/admin/users/{quote(username, safe='')}")
    active = form.get("active") == "true"
    if form.get("confirm") != "1":
        message = i18n.translator(lang_of(request))("confirm.needed")
        return _person_page(request, me, person, _values_of(person), errors={"active": message}, status=422)
    await client.patch(f"/admin/users/{quote(person['username'], safe='')}", {"active": active})
    return _back_to(person["username"], "enabled_notice" if active else "disabled_notice")


@router.post("/admin/people/{username}/sign-in-link")
async def issue_link(request: Request, username: str) -> Response:
    """The link is in this answer only: it is not kept anywhere the page could show it again."""
    await check_csrf(request)
    client = api(request)
    me = await whoami(client)
    person = await client.get(f"/admin/users/{quote(username, safe='')}")
    link = await client.post(f"/admin/users/{quote(person['username'], safe='')}/sign-in-link")
    return _person_page(request, me, person, _values_of(person), link=link | {"url": _reachable(request, link["url"])})


def _reachable(request: Request, url: str) -> str:
    """The link at the address this page was reached at, unless SARABUN_PUBLIC_URL names it: the pages call the
    API in-process, where the API sees its own internal address."""
    if request.app.state.settings.public_url:
        return url
    return str(request.base_url).rstrip("/") + urlsplit(url).path


def _back_to(username: str, notice: str) -> Response:
    return RedirectResponse(f"/admin/people/{quote(username, safe='')}?notice={notice}", status_code=303)


def _person_page(request: Request, me: dict, person: dict | None, values: dict, status: int = 200, **context):
    defaults = {"errors": {}, "notice": None, "link": None, "candidates": []}
    return render(
        request,
        "admin_person.html",
        status=status,
        me=me,
        person=person,
        values=values,
        roles=ROLES,
        clearances=CLEARANCES,
        active="people",
        **(defaults | context),
    )


def _values_of(person: dict) -> dict:
    values = {name: person.get(name) or "" for name in TEXT_FIELDS}
    unit = None
    if person.get("org_id"):
        unit = {name: person[f"org_{name}"] for name in ("id", "key", "name", "code")}
    return values | {"roles": list(person.get("roles") or []), "unit": unit, "unit_text": ""}


async def _typed(request: Request, client: Api, form) -> tuple[dict, dict | None, dict[str, str]]:
    """What the form says, the unit it names, and what is missing or ambiguous before asking the API."""
    t = i18n.translator(lang_of(request))
    values = {name: str(form.get(name, "") or "").strip() for name in TEXT_FIELDS}
    values["roles"] = [role for role in form.getlist("roles") if role in ROLES]
    values["unit_text"] = str(form.get("unit_text", "") or "")
    errors: dict[str, str] = {}
    unit = await _unit(client, form, values, errors, t)
    values["unit"] = unit
    if not values["roles"]:
        errors["roles"] = t("field.roles")
    for name in ("username", "display_name"):
        if "username" in form or name != "username":
            if not values[name]:
                errors[name] = t("field.required")
    return values, unit, errors


async def _unit(client: Api, form, values: dict, errors: dict, t) -> dict | None:
    """The one unit chosen: the picker's choice (the last one, if a browser sent more), or the unit typed in
    the text box of a browser without the script."""
    orgs = await directory(client)
    by_id = {org["id"]: org for org in orgs}
    chosen = [by_id[i] for i in form.getlist("org_id") if i in by_id]
    if chosen:
        return chosen[-1]
    found = resolve(values["unit_text"], orgs)
    if len(found.org_ids) == 1 and not found.left:
        return by_id[found.org_ids[0]]
    errors["unit"] = "; ".join(found.problems) if found.problems else t("person.unit_one")
    values["candidates"] = found.candidates
    return None


def _changed(person: dict, values: dict, unit: dict | None) -> dict:
    """Only what differs, so the audit log says what was changed and nothing else."""
    change: dict = {}
    for name in ("display_name", "clearance"):
        if values[name] != (person.get(name) or ""):
            change[name] = values[name]
    for name in ("email", "position"):
        if values[name] != (person.get(name) or ""):
            change[name] = values[name] or None
    if sorted(values["roles"]) != sorted(person.get("roles") or []):
        change["roles"] = values["roles"]
    if unit and unit["key"] != person.get("org_key"):
        change["org_key"] = unit["key"]
    return change


FORM_FIELD = {"org_key": "unit", "org_id": "unit"}


def _field_errors(error: ApiError, lang: str) -> dict[str, str]:
    """{form field: message} from the API's refusal; what names no field of the form is under "_form"."""
    if error.status not in (400, 409, 422):
        raise error
    t = i18n.translator(lang)
    placed: dict[str, str] = {}
    for item in error.errors or [{"field": None, "message": error.detail}]:
        parts = [part for part in str(item.get("field") or "").split(".") if part and part != "body"]
        head = FORM_FIELD.get(parts[0], parts[0]) if parts else ""
        field = head if head in (*TEXT_FIELDS, "roles", "unit") else "_form"
        message = str(item.get("message") or error.detail)
        if lang == "th" and not THAI.search(message):
            message = t("field.invalid")
        placed.setdefault(field, readable(message, lang))
    return placed
