"""Importing a file, the same way for the directory and for people: upload → the API's dry run shown as a
preview (counts first, then what is added, changed with its fields, retired) or the rows refused → a confirming
button that re-posts exactly the previewed file (gateway/web/held.py) → what the import did."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from gateway.web import held, i18n
from gateway.web.client import ApiError
from gateway.web.pages.common import whoami
from gateway.web.render import api, check_csrf, lang_of, render


@dataclass(frozen=True)
class ImportKind:
    """What differs between the two imports."""

    purpose: str  # "units" | "people": also what a held file may be used for
    api_path: str
    page: str
    back: str
    active: str
    max_bytes: int
    key_columns: tuple[str, ...]  # the file's key column, under its English or Thai heading
    name_columns: tuple[str, ...]
    probe: tuple[str, dict]  # an admin-only read: the form is refused (or asks for a fresh sign-in) before any upload
    accept: str = ".csv,.json,text/csv,application/json"

    def title(self, t) -> str:
        return t(f"import.{self.purpose}_title")


async def form_page(request: Request, kind: ImportKind) -> Response:
    client = api(request)
    me = await whoami(client)
    path, params = kind.probe
    await client.get(path, **params)
    return _page(request, kind, me)


async def preview(request: Request, kind: ImportKind) -> Response:
    """The dry run of the uploaded file."""
    form = await check_csrf(request)
    client = api(request)
    me = await whoami(client)
    upload = form.get("file")
    t = i18n.translator(lang_of(request))
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, kind, me, status=422, problem=t("import.no_file"))
    content = await upload.read(kind.max_bytes + 1)
    file = held.Held(name=upload.filename[:200], content_type=upload.content_type or "", content=content)
    try:
        plan = await client.upload(kind.api_path, file.name, content, file.content_type, dry_run="true")
    except ApiError as error:
        return _refused(request, kind, me, error)
    return _page(
        request,
        kind,
        me,
        plan=plan,
        file=file,
        hidden=held.hold(request, kind.purpose, file),
        names=await _names_now(client, kind) | _names_in(content, kind),
    )


async def apply(request: Request, kind: ImportKind) -> Response:
    """The previewed file, applied; refused when what comes back is not what was previewed."""
    await request.form(max_part_size=held.MAX_FORM_PART)  # the held file is one large field
    form = await check_csrf(request)
    client = api(request)
    me = await whoami(client)
    file = held.release(request, kind.purpose, form)
    if file is None:
        return _page(request, kind, me, status=409, problem=i18n.translator(lang_of(request))("import.stale"))
    try:
        result = await client.upload(kind.api_path, file.name, file.content, file.content_type, dry_run="false")
    except ApiError as error:
        return _refused(request, kind, me, error)
    names = await _names_now(client, kind) | _names_in(file.content, kind)
    return _page(request, kind, me, plan=result, file=file, names=names)


def _refused(request: Request, kind: ImportKind, me: dict, error: ApiError) -> Response:
    """Rows refused by the API as a table; a refusal of the whole file (too large, not CSV) as its message."""
    if error.status in (401, 403):
        raise error
    rows = [e for e in error.errors if isinstance(e, dict)]
    return _page(request, kind, me, status=error.status, problem=error.detail, rows=rows)


def _page(request: Request, kind: ImportKind, me: dict, status: int = 200, **context) -> Response:
    defaults = {"plan": None, "file": None, "hidden": None, "names": {}, "problem": None, "rows": []}
    return render(
        request,
        "admin_import.html",
        status=status,
        me=me,
        kind=kind,
        max_mb=kind.max_bytes // (1024 * 1024),
        active=kind.active,
        **(defaults | context),
    )


def _names_in(content: bytes, kind: ImportKind) -> dict[str, str]:
    """{key: name} as the file gives them, to show beside the keys of the preview; whatever cannot be read
    is left out (the API, not this, decides what the file means)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return {}
    try:
        rows = json.loads(text).get("units", []) if text.lstrip().startswith("{") else _csv_rows(text)
    except (ValueError, AttributeError, csv.Error):
        return {}
    names = {}
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        key = next((str(row[c]).strip() for c in kind.key_columns if row.get(c)), "")
        name = next((str(row[c]).strip() for c in kind.name_columns if row.get(c)), "")
        if key and name:
            names[key.lower() if kind.purpose == "people" else key] = name
    return names


def _csv_rows(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    return [{(k or "").strip(): v for k, v in row.items()} for row in reader]


async def _names_now(client, kind: ImportKind) -> dict[str, str]:
    """Names of the units the directory has now (changed and retired ones are not in an added file's rows)."""
    if kind.purpose != "units":
        return {}
    try:
        units = (await client.get("/admin/directory/export", format="json"))["units"]
    except ApiError:
        return {}
    return {unit["key"]: unit["name"] for unit in units}
