"""The API documentation in a real browser: Swagger UI renders the gateway's OpenAPI from the deployment's own
files under the pages' CSP, asking no other host for anything."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.browser.conftest import VIEWPORT


def test_docs_render_from_the_deployment_alone(browser, server):
    context = browser.new_context(base_url=server, viewport=VIEWPORT)
    requested: list[str] = []
    refused: list[str] = []
    page = context.new_page()
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: message.type == "error" and refused.append(message.text))
    try:
        page.goto("/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Sarabun API")
        operation = page.locator(".opblock-summary-path", has_text="/api/v1/letters").first
        expect(operation).to_be_visible()
        operation.click()
        expect(page.locator(".opblock.is-open .parameters-container").first).to_be_visible()
        page.goto("/favicon.ico")
    finally:
        context.close()
    own = urlsplit(server).netloc
    assert [url for url in requested if urlsplit(url).netloc not in (own, "")] == []
    # Swagger UI tries a few inline styles the CSP refuses; they change nothing visible. Scripts, fetches and
    # images must all pass.
    refused = [text for text in refused if "'style-src 'self''" not in text]
    assert refused == [], "\n".join(refused)
