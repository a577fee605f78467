"""The pages' own CSS, scripts and icon, the Sarabun typeface served from its installed package, and the API
documentation (Swagger UI, from the installed fastapi-offline package): nothing is loaded from a CDN, so every
page works on a closed network and tells no third party who reads it."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
import fontpkg_sarabun
from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from gateway.web.render import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

STATIC = Path(__file__).parent.parent / "static"
FONTS = Path(fontpkg_sarabun.ROOT) / "files"
FONT_FILES = ("Sarabun-Regular.ttf", "Sarabun-SemiBold.ttf", "Sarabun-Bold.ttf")
TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}
CACHE = {"Cache-Control": "public, max-age=3600"}
SWAGGER = Path(fastapi_offline.__file__).parent / "static"
SWAGGER_FILES = {"swagger-ui.css": TYPES[".css"], "swagger-ui-bundle.js": TYPES[".js"]}
# The page is Swagger UI's own; /static/docs.js starts it, because the pages' CSP allows no inline script.
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sarabun API</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<script src="/docs/assets/swagger-ui-bundle.js" defer></script>
<script src="/static/docs.js" defer></script>
</head>
<body>
<div id="swagger-ui"></div>
</body>
</html>
"""


@router.get("/favicon.ico")
async def favicon() -> Response:
    return FileResponse(STATIC / "favicon.ico", media_type=TYPES[".ico"], headers=CACHE)


@router.get("/docs")
async def docs() -> Response:
    return HTMLResponse(DOCS_PAGE)


@router.get("/docs/assets/{name}")
async def docs_asset(name: str) -> Response:
    if name not in SWAGGER_FILES:
        return Response(status_code=404)
    return FileResponse(SWAGGER / name, media_type=SWAGGER_FILES[name], headers=CACHE)


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
