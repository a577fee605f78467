"""Outside demo mode every cookie the web interface sets is Secure, even when the request reached the gateway
over plain HTTP: a deployment sits behind a proxy that ends TLS and forwards http:// to it."""

from __future__ import annotations

import base64
import re
import secrets

import httpx
import pytest

from gateway.bootstrap import seed_users
from services.launcher import embedded
from services.routing.service import seed_directory
from shared.settings import Settings

PASSWORD = "a-long-password-for-this-test-only"


@pytest.fixture
async def production(tmp_path):
    settings = Settings(
        demo=False,
        data_dir=tmp_path,
        consumer_retry_seconds=0.05,
        jwt_secret=secrets.token_urlsafe(48),
        service_secret=secrets.token_urlsafe(48),
        audit_signing_key=base64.b64encode(secrets.token_bytes(32)).decode(),
    )
    deployment = embedded(settings)
    await deployment.start()
    # The directory and users an administrator would have imported and created.
    await seed_directory(deployment.services["routing"].db)
    await seed_users(deployment.gateway.db, PASSWORD)
    yield deployment
    await deployment.stop()


def cookie(response: httpx.Response, name: str) -> str:
    return next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}="))


def secure(header: str) -> bool:
    return "secure" in [part.strip().lower() for part in header.split(";")]


async def test_sign_in_sets_secure_cookies_outside_demo_mode(production):
    transport = httpx.ASGITransport(app=production.app)
    # Plain http, as the proxy forwards it: the cookies are Secure all the same.
    async with httpx.AsyncClient(transport=transport, base_url="http://sarabun.test") as plain:
        form = await plain.get("/signin")
        assert secure(cookie(form, "sarabun_csrf"))
        switched = await plain.get("/lang/en")
        assert secure(cookie(switched, "lang"))
    # The browser sees https (the proxy's side), so it sends the Secure cookies back.
    async with httpx.AsyncClient(transport=transport, base_url="https://sarabun.test") as client:
        form = await client.get("/signin")
        csrf = re.search(r'name="csrf-token" content="([0-9a-f]+)"', form.text).group(1)
        data = {"username": "ops.clerk", "password": PASSWORD, "csrf_token": csrf}
        signed_in = await client.post("/signin", data=data)
        assert signed_in.status_code == 303, signed_in.text
        session = cookie(signed_in, "sarabun_session")
        assert secure(session) and "HttpOnly" in session and "SameSite=strict" in session
        signed_out = await client.post("/signout", data={"csrf_token": csrf})
        assert secure(cookie(signed_out, "sarabun_session"))


async def test_demo_mode_over_plain_http_keeps_its_cookies_usable(tmp_path):
    deployment = embedded(Settings(demo=True, data_dir=tmp_path, consumer_retry_seconds=0.05))
    await deployment.start()
    try:
        transport = httpx.ASGITransport(app=deployment.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
            assert not secure(cookie(await client.get("/signin"), "sarabun_csrf"))
    finally:
        await deployment.stop()
