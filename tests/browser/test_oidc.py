"""Signing in through the agency's identity provider in Chromium: the sign-in page's button, the provider's own
page on another site, and back to the inbox with a session, as a person would."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.browser.conftest import VIEWPORT, running


@pytest.fixture(scope="module")
def oidc_server(tmp_path_factory, oidc_provider) -> Iterator[str]:
    """`sarabun run` (embedded, demo mode) with the test provider as its identity provider."""
    settings = {
        "SARABUN_OIDC_ISSUER": oidc_provider,
        "SARABUN_OIDC_CLIENT_ID": "sarabun-browser-test",
        "SARABUN_OIDC_CLIENT_SECRET": "browser-test-secret",
    }
    with running(tmp_path_factory.mktemp("sarabun-oidc"), **settings) as base:
        yield base


@pytest.fixture
def page(browser, oidc_server):
    context = browser.new_context(base_url=oidc_server, viewport=VIEWPORT, locale="th-TH")
    yield context.new_page()
    context.close()


def person(provider: str, **claims) -> str:
    sub = f"person-{uuid.uuid4().hex[:12]}"
    assert httpx.put(f"{provider}/users/{sub}", json=claims).status_code == 204
    return sub


def test_a_clerk_signs_in_with_the_agency_account_and_lands_on_the_inbox(page, oidc_provider):
    sub = person(oidc_provider, preferred_username="cgd.clerk")
    page.goto("/signin")
    page.get_by_role("link", name="เข้าสู่ระบบด้วยบัญชีของหน่วยงาน").click()
    page.wait_for_url(f"{oidc_provider}/oauth2/authorize?**")
    page.fill("input[name=sub]", sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url("**/inbox")
    assert page.get_by_role("heading", name="หนังสือเข้า").is_visible()
    assert "เจ้าหน้าที่สารบรรณ กรมบัญชีกลาง" in page.locator(".who").inner_text()
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["sarabun_session"]["httpOnly"] and "sarabun_oidc" not in cookies


def test_a_refusal_at_the_provider_comes_back_as_a_thai_page(page, oidc_provider):
    page.goto("/signin")
    page.click("#signin-oidc")
    page.wait_for_url(f"{oidc_provider}/oauth2/authorize?**")
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url("**/auth/oidc/callback?**")
    assert "ไม่อนุญาตให้เข้าสู่ระบบ" in page.locator("#oidc-error").inner_text()
    page.get_by_role("link", name="กลับไปหน้าเข้าสู่ระบบ").click()
    page.wait_for_url("**/signin")
    assert "sarabun_session" not in {cookie["name"] for cookie in page.context.cookies()}
