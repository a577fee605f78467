"""The pages' own CSS and scripts, and the Sarabun typeface served from its installed package (no CDN)."""

from __future__ import annotations

from pathlib import Path

import fontpkg_sarabun
from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from gateway.web.render import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

STATIC = Path(__file__).parent.parent / "static"
FONTS = Path(fontpkg_sarabun.ROOT) / "files"
FONT_FILES = ("Sarabun-Regular.ttf", "Sarabun-SemiBold.ttf", "Sarabun-Bold.ttf")
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
CACHE = {"Cache-Control": "public, max-age=3600"}


@router.get("/static/fonts/{name}")
async def font(name: str) -> Response:
    if name not in FONT_FILES:
        return Response(status_code=404)
    return FileResponse(FONTS / name, media_type="font/ttf", headers=CACHE)


@router.get("/static/{name}")
async def asset(name: str) -> Response:
    # Only files that exist directly in the folder: the name is looked up, never joined as a path.
    files = {p.name: p for p in STATIC.iterdir() if p.is_file()}
    path = files.get(name)
    if path is None or path.suffix not in TYPES:
        return Response(status_code=404)
    return FileResponse(path, media_type=TYPES[path.suffix], headers=CACHE)
