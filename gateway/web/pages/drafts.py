"""Drafting a letter and taking it up the line: the drafting form with a live preview of the official layout,
the draft's page (status, versions, the proposal line as a timeline, the buttons the viewer may use now, the
PDF), and the boxes: ร่างของฉัน, ที่รอพิจารณา, ที่รอลงนาม (several signed at once), ที่รอส่ง for the registry.

Every step is a call of the public API; the pages decide only which buttons to show, the API decides what is
allowed (a button shown a moment too late answers with the API's 409 on a readable page)."""

from __future__ import annotations

import uuid
from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway.api.drafts import draft_pdf
from gateway.web import dates, draft_forms, forms, i18n
from gateway.web.client import Api, ApiError
from gateway.web.pages.common import attachment_meta, directory, is_clerk, whoami
from gateway.web.pages.compose import _typed, _upload_fallback, letter_form
from gateway.web.pages.files import _streamed
from gateway.web.people import of_my_agency as line_people
from gateway.web.render import WebRoute, api, check_csrf, lang_of, render
from shared import thai

router = APIRouter(route_class=WebRoute, include_in_schema=False)

BOXES = ("to_sign", "to_review", "to_dispatch", "mine")
EDITABLE_BY_AUTHOR = ("draft", "returned")
ON_THE_LINE = ("in_review", "awaiting_signature")
NOTICES = ("created", "saved", "proposed", "endorsed", "returned", "recalled", "signed", "signed_many", "dispatched")

# The preview and the PDF are shown inside this site's own pages (an iframe): they may be framed by this site
# only, and run nothing.
FRAMED = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    ),
    "X-Frame-Options": "SAMEORIGIN",
}


# ---- the boxes ------------------------------------------------------------------------------------------


@router.get("/drafts")
async def boxes(request: Request) -> Response:
    client = api(request)
    me = await whoami(client)
    shown = _boxes_for(me)
    found = {box: await _box(client, box) for box in shown}
    chosen = request.query_params.get("box")
    if chosen not in shown:
        chosen = next((box for box in shown if box != "mine" and found[box]), shown[-1])
    items = found[chosen]
    delegations = await my_delegations(client, me) if chosen == "to_sign" else []
    return render(
        request,
        "drafts.html",
        who=await _names(request, items),
        me=me,
        boxes=shown,
        box=chosen,
        counts={box: len(found[box]) for box in shown},
        items=items,
        subject_of=subject_of,
        signing_choices={item["id"]: signing_choices(item, me, delegations) for item in items},
        notice=notice(request),
        failures=[],
        active="drafts",
    )


def _boxes_for(me: dict) -> list[str]:
    """Whom each box is for: to dispatch is the registry clerk's, one's own drafts those of who drafts (staff,
    clerks); reviewing and signing anyone's on a line."""
    drafts = bool({"staff", "clerk"} & set(me.get("roles", [])))
    return [box for box in BOXES if (box != "to_dispatch" or is_clerk(me)) and (box != "mine" or drafts)]


async def _box(client: Api, box: str) -> list[dict]:
    try:
        return (await client.get("/drafts", box=box))["items"]
    except ApiError as error:
        if error.status in (403, 404):  # a box this role has no part in is empty, not an error page
            return []
        raise


async def _names(request: Request, items: list[dict]) -> dict[str, str]:
    named = {p["username"]: p["display_name"] for p in await line_people(request)}
    for item in items:
        named |= names_on_the_line(item)
    return named


def subject_of(item: dict) -> str:
    return item.get("subject") or (item.get("fields") or {}).get("subject") or ""


@router.post("/drafts/sign")
async def sign_many(request: Request) -> Response:
    """ลงนาม several letters chosen in the queue, each with the authority chosen on its row; one refused does
    not stop the others, and each refusal is shown with its letter."""
    form = await check_csrf(request)
    client = api(request)
    chosen = [str(v) for v in form.getlist("draft_ids") if _is_uuid(str(v))]
    t = i18n.translator(lang_of(request))
    if not chosen:
        raise ApiError(422, {"status": 422, "detail": t("drafts.choose_some")})
    signed, failures = 0, []
    for draft_id in dict.fromkeys(chosen):
        try:
            await client.post(f"/drafts/{draft_id}/sign", _sign_body(str(form.get(f"delegation_{draft_id}", ""))))
            signed += 1
        except ApiError as error:
            why = forms.readable(error.detail, lang_of(request))
            failures.append({"id": draft_id, "message": f"{await _subject(client, draft_id)}: {why}"})
    if not failures:
        return RedirectResponse(f"/drafts?box=to_sign&notice=signed_many&n={signed}", status_code=303)
    me = await whoami(client)
    items = await _box(client, "to_sign")
    delegations = await my_delegations(client, me)
    shown = _boxes_for(me)
    return render(
        request,
        "drafts.html",
        who=await _names(request, items),
        status=409 if signed else 422,
        me=me,
        boxes=shown,
        box="to_sign",
        counts={box: len(await _box(client, box)) for box in shown},
        items=items,
        subject_of=subject_of,
        signing_choices={item["id"]: signing_choices(item, me, delegations) for item in items},
        notice=t("notice.draft_signed_many", n=signed) if signed else None,
        failures=failures,
        active="drafts",
    )


async def _subject(client: Api, draft_id: str) -> str:
    try:
        return subject_of(await client.get(f"/drafts/{draft_id}"))
    except ApiError:
        return draft_id


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _sign_body(delegation_id: str) -> dict:
    return {"delegation_id": delegation_id} if _is_uuid(delegation_id) else {}


# ---- the drafting form ----------------------------------------------------------------------------------


@router.get("/drafts/new")
async def new(request: Request) -> Response:
    client = api(request)
    me = await whoami(client)
    return await _form(request, client, me, draft_forms.blank(me), {}, draft=None)


@router.post("/drafts/new")
async def create(request: Request) -> Response:
    return await _save(request, None)


@router.get("/drafts/{draft_id}/edit")
async def edit(request: Request, draft_id: uuid.UUID) -> Response:
    client = api(request)
    me = await whoami(client)
    draft = await client.get(f"/drafts/{draft_id}")
    values = draft_forms.values_of(draft)
    meta = await attachment_meta(client, values["attachment_ids"])
    values["attachment_names"] = [(meta.get(i) or {}).get("filename", "") for i in values["attachment_ids"]]
    return await _form(request, client, me, values, {}, draft=draft)


@router.post("/drafts/{draft_id}/edit")
async def save(request: Request, draft_id: uuid.UUID) -> Response:
    return await _save(request, draft_id)


async def _save(request: Request, draft_id: uuid.UUID | None) -> Response:
    """บันทึกร่าง (a new draft, or a new version of this one), and เสนอ at once when that button was pressed."""
    form = await check_csrf(request)
    values = draft_forms.values_from(form)
    lang = lang_of(request)
    client = api(request)
    me = await whoami(client)
    draft = await client.get(f"/drafts/{draft_id}") if draft_id else None
    try:
        await _upload_fallback(client, form, values)
        errors, candidates = await _typed(client, values, lang)
        reviewers, signer, line_errors = draft_forms.line_of(values, await line_people(request))
        errors |= line_errors
        if errors:
            return await _form(request, client, me, values, errors, draft, status=422, candidates=candidates)
        body = draft_forms.draft_request(values, reviewers, signer)
        if draft_id is None:
            saved = await client.post("/drafts", body)
        else:
            saved = (await client.request("PUT", f"/drafts/{draft_id}", json=body)).json()
        done = "saved"
        if form.get("then") == "propose":
            await client.post(f"/drafts/{saved['id']}/propose")
            done = "proposed"
        elif draft_id is None:
            done = "created"
    except ApiError as error:
        if error.status not in (409, 413, 415, 422):
            raise
        return await _form(request, client, me, values, forms.field_errors(error, lang), draft, status=error.status)
    return RedirectResponse(f"/drafts/{saved['id']}?notice={done}", status_code=303)


async def _form(
    request: Request,
    client: Api,
    me: dict,
    values: dict,
    errors: dict,
    draft: dict | None,
    status: int = 200,
    candidates: dict | None = None,
) -> Response:
    orgs = await directory(client)
    groups = await client.get("/groups")
    author = draft is None or draft["author"] == me["username"]
    reviewers = values["reviewers"] + [""] * draft_forms.SPARE_REVIEWERS if author else values["reviewers"]
    return render(
        request,
        "draft_form.html",
        status=status,
        me=me,
        draft=draft,
        author=author,
        people=await line_people(request),
        person_text=draft_forms.person_text,
        reviewer_boxes=reviewers[: draft_forms.MAX_REVIEWERS],
        active="drafts",
        **letter_form(request, orgs, groups, values, errors, candidates),
    )


@router.post("/drafts/preview")
async def preview(request: Request) -> Response:
    """The official layout of what is typed now, as a PDF shown in the form's preview frame; a part the API
    refuses is named in the frame instead, and nothing is saved."""
    form = await check_csrf(request)
    values = draft_forms.values_from(form)
    client = api(request)
    # Only the signer's name and position show in the layout, and the API looks them up from the username.
    signer, _ = draft_forms.username_of(values["signer"], [])
    errors = forms.date_errors(values, lang_of(request))
    if errors:
        return _framed_problem(request, errors, 422)
    body = draft_forms.draft_request(values, [], signer)
    try:
        answer = await client.request("POST", "/drafts/preview", json=body)
    except ApiError as error:
        return _framed_problem(request, forms.field_errors(error, lang_of(request)), error.status)
    return _pdf(answer.content, "preview.pdf")


def _framed_problem(request: Request, errors: dict, status: int, title: str = "draft.preview_refused") -> Response:
    response = render(request, "draft_preview_error.html", status=status, errors=errors, title=title)
    response.headers.update(FRAMED)
    return response


def _pdf(content: bytes, filename: str, download: bool = False) -> Response:
    how = "attachment" if download else "inline"
    headers = FRAMED | {"Content-Disposition": f'{how}; filename="{filename}"'}
    return Response(content, media_type="application/pdf", headers=headers)


# ---- one draft ------------------------------------------------------------------------------------------


@router.get("/drafts/{draft_id}")
async def draft_page(request: Request, draft_id: uuid.UUID) -> Response:
    client = api(request)
    me = await whoami(client)
    draft = await client.get(f"/drafts/{draft_id}")
    version = _version_asked(request, draft)
    fields = draft.get("fields") or {}
    if version != draft["version"]:
        fields = (await client.get(f"/drafts/{draft_id}/versions/{version}")).get("fields") or {}
    orgs = await _units(client)
    delegations = await my_delegations(client, me)
    meta = await attachment_meta(client, [str(i) for i in fields.get("attachment_ids") or []])
    return render(
        request,
        "draft.html",
        me=me,
        draft=draft,
        version=version,
        fields=fields,
        names={org["id"]: org["name"] for org in orgs},
        who={p["username"]: p["display_name"] for p in await line_people(request)} | names_on_the_line(draft),
        can=allowed_now(draft, me),
        letter_readable=is_clerk(me) and me.get("org_id") == draft["org_id"],
        signing=signing_choices(draft, me, delegations),
        attachments=[{"id": str(i), "meta": meta.get(str(i))} for i in fields.get("attachment_ids") or []],
        notice=notice(request),
        active="drafts",
    )


async def _units(client: Api) -> list[dict]:
    """The directory, for the recipients' names in the version's text; without it the page is still whole."""
    try:
        return await directory(client, retired=True)
    except ApiError:
        return []


def _version_asked(request: Request, draft: dict) -> int:
    asked = request.query_params.get("version", "")
    known = {v["version"] for v in draft.get("versions") or []} | {draft["version"]}
    return int(asked) if asked.isdigit() and int(asked) in known else draft["version"]


def names_on_the_line(draft: dict) -> dict[str, str]:
    """{username: "name (position)"} for everyone the draft's history may name."""
    named = {draft["author"]: draft["author_name"]} if draft.get("author_name") else {}
    for person in [*(draft.get("reviewers") or []), draft.get("signer") or {}]:
        if person.get("username"):
            named[person["username"]] = person.get("display_name") or person["username"]
    return named


def allowed_now(draft: dict, me: dict) -> dict[str, bool]:
    """The buttons this person may use now, as the plan's state machine allows them."""
    user = me["username"]
    status = draft["status"]
    author = draft["author"] == user
    turn = draft.get("current") == user
    history = draft.get("history") or []
    untouched = bool(history) and history[-1].get("type") == "proposed"
    return {
        "edit": (author and status in EDITABLE_BY_AUTHOR) or (turn and status in ON_THE_LINE),
        "propose": author and status in EDITABLE_BY_AUTHOR,
        "recall": author and status in ON_THE_LINE and untouched,
        "endorse": turn and status == "in_review",
        "return": turn and status in ON_THE_LINE,
        "dispatch": status == "signed" and is_clerk(me),
    }


def signing_choices(draft: dict, me: dict, delegations: list[dict]) -> list[dict]:
    """How this person may sign the draft now: [{value, label}] — as the signer, and under each delegation
    from the signer valid today. Empty: no ลงนาม button."""
    signer = draft.get("signer") or {}
    status = draft["status"]
    if status == "signing" and draft.get("signed_by") == me["username"]:
        return [{"value": str(draft.get("delegation_id") or ""), "label": "", "kind": "resume"}]
    if status != "awaiting_signature":
        return []
    choices = []
    if signer.get("username") == me["username"]:
        choices.append({"value": "", "label": "", "kind": "own"})
    for d in delegations:
        if d.get("from_username") == signer.get("username") and d.get("to_username") == me["username"]:
            choices.append({"value": str(d["id"]), "label": d, "kind": d.get("kind") or "delegated"})
    return choices


async def my_delegations(client: Api, me: dict) -> list[dict]:
    """The delegations to this person in force today (Bangkok)."""
    try:
        found = await client.get("/delegations")
    except ApiError:
        return []
    items = found.get("items", []) if isinstance(found, dict) else found
    return [d for d in items if d.get("to_username") == me["username"] and in_force(d)]


def in_force(delegation: dict) -> bool:
    if "in_force" in delegation:  # as the API counts it today
        return bool(delegation["in_force"])
    today = thai.today()
    start, end = dates.bangkok_day(delegation.get("valid_from")), dates.bangkok_day(delegation.get("valid_to"))
    if delegation.get("revoked_at"):
        return False
    return (start is None or start <= today) and (end is None or today <= end)


Action = Literal["propose", "endorse", "recall", "return", "sign", "dispatch"]


@router.post("/drafts/{draft_id}/{action}")
async def act(request: Request, draft_id: uuid.UUID, action: Action) -> Response:
    form = await check_csrf(request)
    client = api(request)
    path = f"/drafts/{draft_id}/{action}"
    if action == "return":
        await client.post(path, {"reason": str(form.get("reason", ""))})
    elif action == "sign":
        signed = await client.post(path, _sign_body(str(form.get("delegation_id", ""))))
        return RedirectResponse(
            f"/drafts/{draft_id}?" + urlencode({"notice": "signed", "doc": signed.get("doc_no") or ""}),
            status_code=303,
        )
    elif action == "dispatch":
        # Back to the draft: the letter is its unit's (the registry that sent it may not open it as a letter).
        letter = await client.post(path)
        query = urlencode({"notice": "dispatched", "doc": letter.get("doc_no") or ""})
        return RedirectResponse(f"/drafts/{draft_id}?{query}", status_code=303)
    else:
        await client.post(path)
    done = {"propose": "proposed", "endorse": "endorsed", "recall": "recalled", "return": "returned"}[action]
    return RedirectResponse(f"/drafts/{draft_id}?notice={done}", status_code=303)


@router.get("/drafts/{draft_id}/pdf")
async def pdf(request: Request, draft_id: uuid.UUID) -> Response:
    """The draft in its official layout (an earlier version with `version`), or the signed PDF once signed,
    by the API's own code (same checks; the signed PDF streamed from storage); shown in the draft page's
    frame, or downloaded with `download=1`."""
    asked = request.query_params.get("version", "")
    version = int(asked) if asked.isdigit() and 0 < int(asked) < 100_000 else None
    try:
        answer = await _streamed(request, lambda services, who: draft_pdf(request, services, who, draft_id, version))
    except ApiError as error:
        why = {"_form": forms.readable(error.detail, lang_of(request))}
        return _framed_problem(request, why, error.status, title="draft.pdf_refused")
    answer.headers.update(FRAMED)
    if request.query_params.get("download") == "1":
        name = f"draft-{draft_id}" + (f"-v{version}" if version else "") + ".pdf"
        answer.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return answer


def notice(request: Request) -> str | None:
    """The result of the step just taken, from an allow-listed key: nothing typed is echoed from the URL."""
    key = request.query_params.get("notice")
    if key not in NOTICES:
        return None
    t = i18n.translator(lang_of(request))
    n = request.query_params.get("n", "")
    return t(f"notice.draft_{key}", doc_no=request.query_params.get("doc", "")[:100], n=n if n.isdigit() else "")
