"""The directory for administrators: the unit tree (ministry → department or OPS → division → section), found
by name or code, retired units on request, exported as CSV or JSON, and imported with a preview first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.web.directory import fold
from gateway.web.pages import admin_import
from gateway.web.pages.common import whoami
from gateway.web.render import WebRoute, api, render
from shared import thai

router = APIRouter(route_class=WebRoute, include_in_schema=False)

DIRECTORY_IMPORT = admin_import.ImportKind(
    purpose="units",
    api_path="/admin/directory/import",
    page="/admin/units/import",
    back="/admin/units",
    active="units",
    max_bytes=10 * 1024 * 1024,
    key_columns=("key", "รหัสหน่วยงาน"),
    name_columns=("name", "ชื่อหน่วยงาน"),
    probe=("/admin/directory/export", {"format": "json"}),
)
OPEN_LEVELS = 2  # ministries and their departments open; divisions and sections folded until asked for


@dataclass
class Node:
    unit: dict
    level: int
    retired: bool
    children: list[Node] = field(default_factory=list)
    matched: bool = True


@router.get("/admin/units")
async def units_page(request: Request) -> Response:
    query = request.query_params
    wanted = query.get("q", "")[:200]
    with_retired = query.get("retired") == "1"
    client = api(request)
    me = await whoami(client)
    units = (await client.get("/admin/directory/export", format="json"))["units"]
    roots, shown = tree(units, thai.today(), with_retired, fold(wanted))
    return render(
        request,
        "admin_units.html",
        me=me,
        roots=roots,
        shown=shown,
        q=wanted,
        with_retired=with_retired,
        filtering=bool(fold(wanted)),
        open_levels=OPEN_LEVELS,
        names={unit["key"]: unit["name"] for unit in units},
        active="units",
    )


def tree(units: list[dict], today: date, with_retired: bool, wanted: str) -> tuple[list[Node], int]:
    """The units as a tree, siblings by letter code; retired units only `with_retired`; with a search, the
    units that match and the units above them (to show where they sit). Also how many units are shown."""
    kept = [unit for unit in units if with_retired or not retired(unit, today)]
    by_key = {unit["key"]: Node(unit, 0, retired(unit, today)) for unit in kept}
    roots: list[Node] = []
    for node in by_key.values():
        parent = by_key.get(node.unit.get("parent_key") or "")
        (parent.children if parent and parent is not node else roots).append(node)
    for node in by_key.values():
        node.children.sort(key=_order)
    roots.sort(key=_order)
    _level(roots, 1, set())
    if wanted:
        roots = _matching(roots, wanted)
    return roots, _count(roots)


def retired(unit: dict, today: date) -> bool:
    valid_to = unit.get("valid_to")
    return bool(valid_to) and date.fromisoformat(str(valid_to)[:10]) < today


def _order(node: Node) -> tuple[str, str]:
    return (node.unit.get("code") or "", node.unit.get("name") or "")


def _level(nodes: list[Node], level: int, seen: set[str]) -> None:
    for node in nodes:
        if node.unit["key"] in seen:  # a cycle in the data must not hang the page
            node.children = []
            continue
        seen.add(node.unit["key"])
        node.level = level
        _level(node.children, level + 1, seen)


def _matching(nodes: list[Node], wanted: str) -> list[Node]:
    kept = []
    for node in nodes:
        node.children = _matching(node.children, wanted)
        node.matched = _matches(node.unit, wanted)
        if node.matched or node.children:
            kept.append(node)
    return kept


def _matches(unit: dict, wanted: str) -> bool:
    texts = (unit.get(name) or "" for name in ("name", "name_en", "code", "key", "national_code"))
    return any(wanted in fold(text) for text in texts)


def _count(nodes: list[Node]) -> int:
    return sum(int(node.matched) + _count(node.children) for node in nodes)


@router.get("/admin/units/export")
async def export(request: Request, format: str = "csv") -> Response:
    """The API's export as a download: the browser holds no API token, so the page fetches it."""
    answer = await api(request).request(
        "GET", "/admin/directory/export", params={"format": "json" if format == "json" else "csv"}
    )
    headers = {"Content-Disposition": answer.headers.get("content-disposition") or _json_disposition()}
    return Response(answer.content, media_type=answer.headers.get("content-type"), headers=headers)


def _json_disposition() -> str:
    return f'attachment; filename="directory-{thai.today().isoformat()}.json"'


@router.get("/admin/units/import")
async def import_form(request: Request) -> Response:
    return await admin_import.form_page(request, DIRECTORY_IMPORT)


@router.post("/admin/units/import")
async def import_preview(request: Request) -> Response:
    return await admin_import.preview(request, DIRECTORY_IMPORT)


@router.post("/admin/units/import/apply")
async def import_apply(request: Request) -> Response:
    return await admin_import.apply(request, DIRECTORY_IMPORT)
