"""What a browser fetches besides the pages: the API documentation and the icon, all from the deployment
itself (a closed government network reaches no CDN), under the pages' own CSP."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest

from services.launcher import embedded
from shared.settings import Settings


@pytest.fixture
async def web(tmp_path):
    deployment = embedded(Settings(demo=True, data_dir=tmp_path, consumer_retry_seconds=0.05))
    await deployment.start()
    transport = httpx.ASGITransport(app=deployment.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sarabun.test") as client:
        yield client
    await deployment.stop()


def referenced(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


async def test_docs_load_every_asset_from_the_gateway(web):
    page = await web.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text, "the CSP allows no inline script"
    urls = referenced(page.text)
    assert any(url.endswith("swagger-ui-bundle.js") for url in urls)
    assert any(url.endswith("swagger-ui.css") for url in urls)
    assert not re.search(r"https?://", page.text), "no external host named in the page"
    for url in urls:
        assert not urlsplit(url).netloc, url
        asset = await web.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url
    init = (await web.get("/static/docs.js")).text
    assert '"/openapi.json"' in init and "validatorUrl: null" in init
    assert (await web.get("/openapi.json")).status_code == 200


async def test_no_page_loads_documentation_from_a_cdn(web):
    assert (await web.get("/redoc")).status_code == 404
    assert (await web.get("/docs/assets/../../settings.py")).status_code == 404
    assert (await web.get("/docs/assets/index.html")).status_code == 404


async def test_the_icon_answers_and_every_page_links_it(web):
    icon = await web.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    svg = await web.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.text.startswith("<svg")
    signin = await web.get("/signin")
    assert "/favicon.ico" in referenced(signin.text) and "/static/favicon.svg" in referenced(signin.text)
