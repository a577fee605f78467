"""Compose and send: the form, uploads without a script as a fallback, and the send itself with an
Idempotency-Key made when the form was drawn, so a double click or a resubmission sends one letter."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from gateway.web import forms
from gateway.web.client import Api, ApiError
from gateway.web.directory import recipients, resolve
from gateway.web.pages.common import directory, whoami
from gateway.web.render import WebRoute, api, check_csrf, lang_of, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

ACCEPT = ".pdf,.png,.jpg,.jpeg,.tif,.tiff,.docx,.xlsx,.pptx,.odt,.ods,.odp"


@router.get("/compose")
async def compose(request: Request) -> Response:
    return await _form(request, forms.blank(uuid.uuid4().hex), {})


async def _form(
    request: Request, values: dict, errors: dict, status: int = 200, candidates: dict | None = None
) -> Response:
    client = api(request)
    me = await whoami(client)
    orgs = await directory(client)
    groups = await client.get("/groups")
    context = letter_form(request, orgs, groups, values, errors, candidates)
    return render(request, "compose.html", status=status, me=me, active="compose", **context)


def letter_form(request: Request, orgs, groups, values: dict, errors: dict, candidates: dict | None) -> dict:
    """What the compose and drafting forms both show: the recipients chosen, what was typed, its errors and the
    attachments with the upload limits."""
    limit = request.app.state.settings.max_upload_bytes
    return {
        "groups": groups,
        "chosen": _chosen(orgs, values["recipient_org_ids"]),
        "chosen_cc": _chosen(orgs, values["cc_org_ids"]),
        "chosen_groups": [g for g in groups if g["id"] in values["recipient_group_ids"]],
        "candidates": candidates or {},
        "v": values,
        "errors": errors,
        "attachments": list(zip(values["attachment_ids"], values["attachment_names"], strict=False)),
        "max_bytes": limit,
        "max_mb": limit // (1024 * 1024),
        "accept": ACCEPT,
    }


def _chosen(orgs: list[dict], ids: list[str]) -> list[dict]:
    by_id = {org["id"]: org for org in orgs}
    return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]


@router.post("/compose")
async def send(request: Request) -> Response:
    form = await check_csrf(request)
    values = forms.values_from(form)
    if not values["idempotency_key"]:
        values["idempotency_key"] = uuid.uuid4().hex
    client = api(request)
    try:
        await _upload_fallback(client, form, values)
        errors, candidates = await _typed(client, values, lang_of(request))
        if errors:
            return await _form(request, values, errors, status=422, candidates=candidates)
        letter = await client.post(
            "/letters", forms.letter_request(values), headers={"Idempotency-Key": values["idempotency_key"]}
        )
    except ApiError as error:
        if error.status not in (409, 413, 415, 422):
            raise
        return await _form(request, values, forms.field_errors(error, lang_of(request)), status=error.status)
    return RedirectResponse(f"/letters/{letter['id']}?notice=sent&doc={letter['doc_no']}", status_code=303)


async def _typed(client: Api, values: dict, lang: str) -> tuple[dict, dict]:
    """What a browser without the picker script sends as text: recipients by name or code, moved into the
    id lists when they name one unit; and the Buddhist-era dates. The field errors, and per field the units
    a fragment matched for the clerk to choose from."""
    errors = forms.date_errors(values, lang)
    candidates: dict[str, list[dict]] = {}
    if values["recipient_text"].strip() or values["cc_text"].strip():
        me = await whoami(client)
        orgs = recipients(await directory(client), me)
        groups = await client.get("/groups")
        for text_field, ids, group_ids, error_field in (
            ("recipient_text", "recipient_org_ids", "recipient_group_ids", "recipients"),
            ("cc_text", "cc_org_ids", None, "cc"),
        ):
            found = resolve(values[text_field], orgs, groups if group_ids else [])
            values[ids] = list(dict.fromkeys(values[ids] + found.org_ids))
            if group_ids:
                values[group_ids] = list(dict.fromkeys(values[group_ids] + found.group_ids))
            values[text_field] = "\n".join(found.left)
            if found.problems:
                errors[error_field] = " ".join(forms.readable(problem, lang) for problem in found.problems)
                candidates[error_field] = found.candidates
    return errors, candidates


async def _upload_fallback(client: Api, form, values: dict) -> None:
    """Files posted with the form (a browser without the upload script) go through the API first; each one
    uploaded is kept in `values`, so a later refusal does not upload it again."""
    for upload in form.getlist("files"):
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        content = await upload.read()
        try:
            stored = await _attach(client, upload.filename, content, upload.content_type)
        except ApiError as error:
            error.body.setdefault("errors", [{"field": "attachment_ids", "message": error.detail}])
            raise
        values["attachment_ids"].append(stored["id"])
        values["attachment_names"].append(stored["filename"])


async def _attach(client: Api, name: str, content: bytes, content_type: str | None) -> dict:
    files = {"file": (name, content, content_type or "application/octet-stream")}
    return (await client.request("POST", "/attachments", files=files)).json()
