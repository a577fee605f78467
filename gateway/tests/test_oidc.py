"""Sign-in through the agency's identity provider, against a real OpenID Connect provider (oidc-provider-mock)
on a local port: the browser's redirects followed by httpx, the gateway in embedded mode in this process."""

from __future__ import annotations

import json
import re
import socket
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from gateway.adapters import tables
from gateway.adapters.repository import UserRepository
from gateway.oidc import TRANSACTION_COOKIE
from services.launcher import embedded
from shared.settings import Settings

BASE = "http://sarabun.test"
CLIENT_ID = "sarabun-test-client"


def settings_for(issuer: str, tmp_path, **extra) -> Settings:
    return Settings(
        demo=True,
        data_dir=tmp_path,
        consumer_retry_seconds=0.05,
        oidc_issuer=issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret="client-secret-of-the-test",
        **extra,
    )


async def started(settings: Settings):
    deployment = embedded(settings)
    await deployment.start()
    # This site in-process; the provider (any other address) over the network, as a browser would reach both.
    client = httpx.AsyncClient(
        mounts={BASE: httpx.ASGITransport(app=deployment.app)}, base_url=BASE, follow_redirects=True, timeout=30
    )
    return deployment, client


@pytest.fixture
async def site(oidc_provider, tmp_path):
    deployment, client = await started(settings_for(oidc_provider, tmp_path))
    async with client:
        yield deployment, client
    await deployment.stop()


def person(provider: str, **claims) -> str:
    """A new subject at the provider, with these claims in its ID tokens."""
    sub = f"person-{uuid.uuid4().hex[:12]}"
    assert httpx.put(f"{provider}/users/{sub}", json=claims).status_code == 204
    return sub


async def at_provider(client: httpx.AsyncClient, next_: str | None = None) -> httpx.Response:
    """The provider's authorization page, reached from this site's sign-in link."""
    page = await client.get("/auth/oidc/login", params={"next": next_} if next_ else None)
    assert page.status_code == 200 and page.url.host == "localhost", page.text
    return page


async def consent(client: httpx.AsyncClient, page: httpx.Response, sub: str) -> httpx.Response:
    """Signs in as `sub` at the provider; returns the provider's redirect back to this site, not yet followed."""
    back = await client.post(str(page.url), data={"sub": sub}, follow_redirects=False)
    assert back.status_code == 302 and back.headers["location"].startswith(f"{BASE}/auth/oidc/callback?")
    return back


async def sign_in_through(client: httpx.AsyncClient, sub: str, next_: str | None = None) -> httpx.Response:
    page = await at_provider(client, next_)
    return await client.post(str(page.url), data={"sub": sub})  # followed back to the callback


def continue_to(page: httpx.Response) -> str:
    return re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', page.text).group(1)


async def me(client: httpx.AsyncClient) -> httpx.Response:
    token = client.cookies.get("sarabun_session", domain="sarabun.test")
    return await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


async def recorded(deployment, event_type: str) -> list[dict]:
    """The gateway's outbox rows of this type: what reaches the audit log through the bus."""
    async with deployment.gateway.db.read() as session:
        rows = (await session.execute(select(tables.outbox.c.body).where(tables.outbox.c.type == event_type))).all()
    return [json.loads(row.body)["data"] for row in rows]


async def test_a_known_person_signs_in_through_the_provider_and_lands_on_their_home_page(site, oidc_provider):
    deployment, client = site
    signin = await client.get("/signin")
    assert "เข้าสู่ระบบด้วยบัญชีของหน่วยงาน" in signin.text and 'href="/auth/oidc/login"' in signin.text

    going = await client.get("/auth/oidc/login", follow_redirects=False)
    assert going.status_code == 303
    asked = parse_qs(urlsplit(going.headers["location"]).query)
    assert going.headers["location"].startswith(f"{oidc_provider}/oauth2/authorize?")
    assert asked["code_challenge_method"] == ["S256"] and len(asked["code_challenge"][0]) == 43
    assert asked["client_id"] == [CLIENT_ID] and asked["response_type"] == ["code"]
    assert asked["redirect_uri"] == [f"{BASE}/auth/oidc/callback"]
    assert asked["state"][0] and asked["nonce"][0] and "openid" in asked["scope"][0].split()
    kept = going.headers["set-cookie"]
    assert kept.startswith(f"{TRANSACTION_COOKIE}=") and "HttpOnly" in kept and "SameSite=lax" in kept
    assert "Path=/auth/oidc" in kept
    assert asked["state"][0] not in kept and asked["nonce"][0] not in kept  # sealed, not just signed
    assert "prompt" not in asked
    again = await client.get("/auth/oidc/login?fresh=true&next=/inbox", follow_redirects=False)
    assert parse_qs(urlsplit(again.headers["location"]).query)["prompt"] == ["login"]

    sub = person(oidc_provider, preferred_username="cgd.clerk", name="เจ้าหน้าที่สารบรรณ")
    landed = await sign_in_through(client, sub)
    assert landed.status_code == 200 and landed.url.path == "/auth/oidc/callback"
    assert continue_to(landed) == "/inbox"
    session_cookie = next(h for h in landed.headers.get_list("set-cookie") if h.startswith("sarabun_session="))
    assert "HttpOnly" in session_cookie and "SameSite=strict" in session_cookie
    assert client.cookies.get(TRANSACTION_COOKIE) is None  # used once, then gone
    who = await me(client)
    assert who.status_code == 200 and who.json()["username"] == "cgd.clerk"
    inbox = await client.get(continue_to(landed))
    assert inbox.status_code == 200 and inbox.url.path == "/inbox"


async def test_sign_in_goes_back_to_the_page_asked_for_and_never_to_another_site(site, oidc_provider):
    _, client = site
    sub = person(oidc_provider, preferred_username="ops.clerk")
    back = await sign_in_through(client, sub, next_="/registers/send?year=2569")
    assert continue_to(back) == "/registers/send?year=2569"
    away = await sign_in_through(client, sub, next_="//evil.example/phish")
    assert continue_to(away) == "/inbox"


async def test_a_wrong_or_missing_state_is_refused_and_logged(site, oidc_provider):
    deployment, client = site
    sub = person(oidc_provider, preferred_username="cgd.clerk")
    back = await consent(client, await at_provider(client), sub)
    forged = re.sub(r"state=[^&]+", "state=forged", back.headers["location"])
    refused = await client.get(forged)
    assert refused.status_code == 400 and "ไม่ได้เริ่มจากเบราว์เซอร์นี้" in refused.text
    assert "sarabun_session" not in client.cookies

    # The genuine answer, in a browser that never started this sign-in (no transaction cookie).
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=deployment.app)) as other:
        elsewhere = await other.get(back.headers["location"], headers={"Accept": "application/json"})
    assert elsewhere.status_code == 400
    assert elsewhere.headers["content-type"].startswith("application/problem+json")
    assert "state" in elsewhere.json()["detail"]
    assert [e["reason"] for e in await recorded(deployment, "auth.external-sign-in-refused.v1")] == ["state", "state"]


async def test_a_replayed_code_is_refused_by_the_provider(site, oidc_provider):
    deployment, client = site
    sub = person(oidc_provider, preferred_username="cgd.clerk")
    back = await consent(client, await at_provider(client), sub)
    transaction = client.cookies.get(TRANSACTION_COOKIE)
    first = await client.get(back.headers["location"])
    assert first.status_code == 200 and (await me(client)).status_code == 200
    client.cookies.clear()
    # Both the code and the browser's transaction captured and sent again: the provider exchanges a code once.
    client.cookies.set(TRANSACTION_COOKIE, transaction, domain="sarabun.test", path="/auth/oidc")
    again = await client.get(back.headers["location"])
    assert again.status_code == 400 and "invalid_grant" in again.text and "ใช้ไปแล้ว" in again.text
    assert "sarabun_session" not in client.cookies
    assert [e["reason"] for e in await recorded(deployment, "auth.external-sign-in-refused.v1")] == ["code"]


async def test_a_refusal_at_the_provider_is_shown_with_its_reason(site, oidc_provider):
    deployment, client = site
    page = await at_provider(client)
    denied = await client.post(str(page.url), data={"action": "deny"})
    assert denied.url.path == "/auth/oidc/callback" and "error=access_denied" in str(denied.url)
    assert denied.status_code == 403 and "access_denied" in denied.text and "ไม่อนุญาต" in denied.text
    assert [e["reason"] for e in await recorded(deployment, "auth.external-sign-in-refused.v1")] == ["provider_error"]


async def test_a_person_without_an_account_here_is_refused_in_thai_and_nothing_is_created(site, oidc_provider):
    deployment, client = site
    sub = person(oidc_provider, preferred_username="someone.new")
    refused = await sign_in_through(client, sub)
    assert refused.status_code == 403 and "ยังไม่มีบัญชีผู้ใช้ someone.new" in refused.text
    assert "sarabun_session" not in client.cookies
    async with deployment.gateway.db.read() as session:
        assert await UserRepository(session).get("someone.new") is None
    logged = await recorded(deployment, "auth.external-sign-in-refused.v1")
    assert [e["reason"] for e in logged] == ["unknown_user"]
    assert logged[0]["username_sha256"] and "someone.new" not in json.dumps(logged)


async def test_a_disabled_account_is_refused(site, oidc_provider):
    deployment, client = site
    async with deployment.gateway.db.transaction() as session:
        await session.execute(update(tables.users).where(tables.users.c.username == "rd.clerk").values(active=False))
    refused = await sign_in_through(client, person(oidc_provider, preferred_username="rd.clerk"))
    assert refused.status_code == 403 and "ถูกระงับ" in refused.text
    assert "sarabun_session" not in client.cookies
    assert [e["reason"] for e in await recorded(deployment, "auth.external-sign-in-refused.v1")] == ["disabled_user"]


async def test_a_token_without_the_username_claim_is_refused(site, oidc_provider):
    deployment, client = site
    refused = await sign_in_through(client, person(oidc_provider, name="ไม่มีชื่อผู้ใช้"))
    assert refused.status_code == 403 and "preferred_username" in refused.text
    assert [e["reason"] for e in await recorded(deployment, "auth.external-sign-in-refused.v1")] == ["no_username"]


async def test_the_username_may_come_from_another_claim(oidc_provider, tmp_path):
    deployment, client = await started(settings_for(oidc_provider, tmp_path, oidc_username_claim="sub"))
    async with client:
        page = await at_provider(client)
        signed_in = await client.post(str(page.url), data={"sub": "td.clerk"})
        assert signed_in.status_code == 200 and (await me(client)).json()["username"] == "td.clerk"
    await deployment.stop()


async def test_unknown_people_get_a_disabled_account_to_approve_when_so_configured(oidc_provider, tmp_path):
    settings = settings_for(oidc_provider, tmp_path, oidc_unknown_users="create_disabled")
    deployment, client = await started(settings)
    async with client:
        sub = person(oidc_provider, preferred_username="new.person", name="คนใหม่", email="new@example.go.th")
        answer = await sign_in_through(client, sub)
        assert answer.status_code == 403 and "sarabun_session" not in client.cookies
        async with deployment.gateway.db.read() as session:
            account = await UserRepository(session).get("new.person")
        if tables.users.c.org_id.nullable:
            assert "ส่งคำขอเปิดบัญชีให้ผู้ดูแลระบบอนุมัติแล้ว" in answer.text
            assert account["active"] is False and account["org_id"] is None and account["roles"] == []
            requests = await recorded(deployment, "auth.account-requested.v1")
            assert [(r["username"], r["display_name"]) for r in requests] == [("new.person", "คนใหม่")]
            again = await sign_in_through(client, sub)  # not before an administrator enables it
            assert again.status_code == 403 and "รอผู้ดูแลระบบอนุมัติ" in again.text
        else:  # every account needs a unit here: none is made, and the page says an administrator must add it
            assert account is None and "ผู้ดูแลระบบต้องเพิ่มบัญชี" in answer.text
            assert await recorded(deployment, "auth.account-requested.v1") == []
            refusals = await recorded(deployment, "auth.external-sign-in-refused.v1")
            assert [e["reason"] for e in refusals] == ["unknown_user"]
    await deployment.stop()


async def test_an_unreachable_provider_is_a_503_page_not_a_crash(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # nothing listens there once the probe is closed
    deployment, client = await started(settings_for(f"http://127.0.0.1:{closed}", tmp_path))
    async with client:
        page = await client.get("/auth/oidc/login")
        assert page.status_code == 503 and "ติดต่อผู้ให้บริการยืนยันตัวตนของหน่วยงานไม่ได้" in page.text
        answer = await client.get("/auth/oidc/callback?code=x&state=y", headers={"Accept": "application/json"})
        assert answer.status_code == 503 and answer.headers["content-type"].startswith("application/problem+json")
    await deployment.stop()


async def test_without_a_provider_there_is_no_such_sign_in_and_the_password_form_stays(tmp_path):
    deployment = embedded(Settings(demo=True, data_dir=tmp_path))
    await deployment.start()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=deployment.app), base_url=BASE) as client:
        page = await client.get("/signin")
        assert "/auth/oidc/login" not in page.text and 'id="password"' in page.text
        assert (await client.get("/auth/oidc/login")).status_code == 404
        assert (await client.get("/auth/oidc/callback?" + urlencode({"code": "c", "state": "s"}))).status_code == 404
    await deployment.stop()


async def test_with_local_passwords_off_the_page_offers_only_the_agency_account(site):
    deployment, client = site
    app = deployment.app
    app.state.settings = app.state.settings.model_copy(update={"local_passwords": False})
    page = await client.get("/signin")
    assert "เข้าสู่ระบบด้วยบัญชีของหน่วยงาน" in page.text
    assert 'id="password"' not in page.text and 'action="/signin"' not in page.text
    english = await client.get("/signin", cookies={"lang": "en"})
    assert "Sign in with your agency account" in english.text
