"""The ID token checks a real provider never fails on purpose (a foreign audience, an expired token, a bad
signature, a wrong nonce, another issuer), made on tokens signed here with a test key that a local server
publishes as the provider's JWKS, through the same authlib validation the callback uses. Also the settings and
the transaction cookie."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.responses import Response
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey
from pydantic import ValidationError
from starlette.requests import Request

from gateway.oidc import TRANSACTION_COOKIE, Refused, RelyingParty, redirect_uri
from shared.settings import Settings

CLIENT_ID = "sarabun"
NONCE = "nonce-of-this-sign-in"
KEY = RSAKey.generate_key(2048, parameters={"kid": "provider-key"}, private=True)


class _Provider(BaseHTTPRequestHandler):
    """Discovery and JWKS only: what the ID token checks read."""

    documents: dict[str, dict] = {}

    def do_GET(self):  # noqa: N802 (the http.server name)
        document = self.documents.get(self.path)
        body = json.dumps(document).encode()
        self.send_response(200 if document else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    base = f"http://127.0.0.1:{server.server_port}"
    _Provider.documents = {
        "/.well-known/openid-configuration": {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "id_token_signing_alg_values_supported": ["RS256"],
        },
        "/jwks": KeySet([KEY]).as_dict(private=False),
    }
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()


def relying_party(issuer: str, **extra) -> RelyingParty:
    return RelyingParty(Settings(demo=True, oidc_issuer=issuer, oidc_client_id=CLIENT_ID, **extra))


def claims(issuer: str, **changes) -> dict:
    now = int(time.time())
    good = {"iss": issuer, "sub": "s-1", "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": NONCE}
    return {**good, "preferred_username": "cgd.clerk", **changes}


def signed(payload: dict, key=KEY, alg: str = "RS256") -> dict:
    header = {"alg": alg, "kid": "provider-key"}
    return {
        "id_token": jwt.encode(header, {k: v for k, v in payload.items() if v is not None}, key),
        "access_token": "a",
    }


async def test_a_good_token_passes_and_gives_its_claims(issuer):
    checked = await relying_party(issuer).verify_id_token(signed(claims(issuer)), NONCE)
    assert checked["preferred_username"] == "cgd.clerk"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"aud": "another-client"}, "audience"),
        # authlib alone would take this one: a foreign audience naming this client as the authorised party.
        ({"aud": "another-client", "azp": CLIENT_ID}, "audience"),
        ({"aud": ["another-client", "a-third"]}, "audience"),
        ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 900}, "expired"),
        ({"nonce": "a-nonce-of-another-sign-in"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"iss": "https://idp.elsewhere.example"}, "issuer"),
        ({"aud": None}, "aud"),
    ],
)
async def test_a_token_failing_a_check_is_refused_naming_it(issuer, change, words):
    with pytest.raises(Refused) as refused:
        await relying_party(issuer).verify_id_token(signed(claims(issuer, **change)), NONCE)
    assert refused.value.status == 401 and refused.value.reason == "id_token"
    assert words in refused.value.detail and "โทเค็นยืนยันตัวตน" in refused.value.detail


async def test_a_token_not_signed_by_the_providers_key_is_refused(issuer):
    impostor = RSAKey.generate_key(2048, parameters={"kid": "provider-key"}, private=True)
    with pytest.raises(Refused) as refused:
        await relying_party(issuer).verify_id_token(signed(claims(issuer), key=impostor), NONCE)
    assert refused.value.status == 401 and "signature" in refused.value.detail
    # Signed with a shared secret instead (the classic algorithm confusion): HS256 is not an algorithm allowed.
    with pytest.raises(Refused):
        await relying_party(issuer).verify_id_token(
            signed(claims(issuer), key=OctKey.generate_key(), alg="HS256"), NONCE
        )


def test_the_username_is_the_configured_claim_nfc_normalised_and_trimmed():
    rp = RelyingParty(
        Settings(demo=True, oidc_issuer="https://idp.example", oidc_client_id="c", oidc_username_claim="email")
    )
    who = rp.identity({"email": "  somchai@finance.go.th ", "name": "สมชาย\u0e4d\u0e32"})
    assert who.username == "somchai@finance.go.th" and who.display_name == "สมชาย\u0e33"
    decomposed = RelyingParty(Settings(demo=True, oidc_issuer="https://i", oidc_client_id="c")).identity(
        {"preferred_username": "cafe\u0301"}
    )
    assert decomposed.username == "caf\u00e9" and decomposed.display_name == "caf\u00e9"
    for bad in ({}, {"email": ""}, {"email": 7}, {"email": "x" * 101}):
        with pytest.raises(Refused) as refused:
            rp.identity(bad)
        assert refused.value.reason == "no_username" and "email" in refused.value.detail


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"demo": True, "oidc_issuer": "https://idp.example"}, "SARABUN_OIDC_CLIENT_ID"),
        ({"demo": True, "oidc_client_id": "c"}, "SARABUN_OIDC_ISSUER"),
        ({"oidc_issuer": "https://idp.example", "oidc_client_id": "c"}, "SARABUN_OIDC_CLIENT_SECRET"),
        ({"demo": True, "oidc_issuer": "https://i", "oidc_client_id": "c", "oidc_scopes": "profile"}, "openid"),
        ({"demo": True, "oidc_unknown_users": "let_in"}, "oidc_unknown_users"),
    ],
)
def test_an_incomplete_provider_setting_stops_the_start_naming_it(settings, named):
    secrets = {"jwt_secret": "j" * 40, "service_secret": "s" * 40}
    with pytest.raises(ValidationError) as refused:
        Settings(**secrets, **settings)
    assert named in str(refused.value)


def test_the_provider_is_off_until_issuer_and_client_are_set():
    assert not Settings(demo=True).oidc_enabled
    production = Settings(
        jwt_secret="j" * 40,
        service_secret="s" * 40,
        oidc_issuer="https://i",
        oidc_client_id="c",
        oidc_client_secret="x",
    )
    assert production.oidc_enabled


def request_to(url_scheme: str = "http", cookie: str | None = None) -> Request:
    headers = [(b"host", b"sarabun.example")] + ([(b"cookie", cookie.encode())] if cookie else [])
    scope = {"type": "http", "method": "GET", "scheme": url_scheme, "path": "/auth/oidc/login", "query_string": b""}
    return Request({**scope, "headers": headers, "server": ("sarabun.example", 80), "root_path": ""})


def test_the_transaction_cookie_is_sealed_lax_and_secure_outside_demo_mode():
    production = Settings(
        jwt_secret="j" * 40,
        service_secret="s" * 40,
        oidc_issuer="https://i",
        oidc_client_id="c",
        oidc_client_secret="x",
    )
    rp = RelyingParty(production)
    response = Response()
    rp.keep(response, request_to(), {"next": "/inbox", "secret-bit": "verifier"})
    cookie = response.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie and "verifier" not in cookie
    sealed = cookie.split(";")[0].split("=", 1)[1]
    assert rp.transaction(request_to(cookie=f"{TRANSACTION_COOKIE}={sealed}")) == {
        "next": "/inbox",
        "secret-bit": "verifier",
    }
    tampered = sealed[:-6] + ("AAAAAA" if not sealed.endswith("AAAAAA") else "BBBBBB")
    assert rp.transaction(request_to(cookie=f"{TRANSACTION_COOKIE}={tampered}")) == {}
    other_secret = RelyingParty(production.model_copy(update={"jwt_secret": "k" * 40}))
    assert other_secret.transaction(request_to(cookie=f"{TRANSACTION_COOKIE}={sealed}")) == {}

    demo = RelyingParty(Settings(demo=True, oidc_issuer="https://i", oidc_client_id="c"))
    response = Response()
    demo.keep(response, request_to(), {})
    assert "Secure" not in response.headers["set-cookie"]


def test_the_redirect_address_follows_the_public_url_when_set():
    plain = Settings(demo=True)
    assert redirect_uri(request_to(), plain) == "http://sarabun.example/auth/oidc/callback"
    public = Settings(demo=True, public_url="https://sarabun.finance.go.th/")
    assert redirect_uri(request_to(), public) == "https://sarabun.finance.go.th/auth/oidc/callback"
