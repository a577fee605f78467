"""The directory for the recipient picker, downloaded once by the page and filtered in the browser.

Why the browser filters rather than asking the server at each keystroke: for 8,000 units the list is about
1.1 MB of JSON (1.4 MB with English names), about 260 KB gzipped, the UUIDs being most of that; it is fetched
once per page (answered 304 while it is unchanged) as soon as the compose page opens, and after that every
keystroke and every step through the tree is answered from memory in milliseconds, with no round trip and
no load on the services. A search per keystroke would cost a request through the gateway to routing,
which reads the whole directory each time, and tree browsing would need a request per level."""

from __future__ import annotations

import gzip
import hashlib
import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.web import directory
from gateway.web.pages.common import directory as all_orgs
from gateway.web.render import WebRoute, api

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# Revalidated every time (a unit renamed this morning shows at once), sent again only when it changed.
CACHE = "private, no-cache"
COMPRESS_ABOVE = 1024


@router.get("/directory.json")
async def directory_json(request: Request) -> Response:
    client = api(request)
    payload = directory.compact(await all_orgs(client), await client.get("/groups"))
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    tag = 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": CACHE, "Vary": "Accept-Encoding, Cookie"}
    if tag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if len(body) > COMPRESS_ABOVE and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, compresslevel=6)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)
