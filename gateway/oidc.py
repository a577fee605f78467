"""Sign-in through the agency's OpenID Connect identity provider: the relying party's side of the authorization
code flow with PKCE (S256), done by authlib. Discovery, `state`, `nonce`, the code exchange with its verifier and
the ID token's checks (signature against the provider's JWKS, issuer, audience, expiry, nonce) are authlib's.
This module keeps the short-lived transaction between the two legs in an encrypted cookie of its own, and turns
every failure into a reason a person can read."""

from __future__ import annotations

import base64
import json
import warnings
from dataclasses import dataclass

import authlib.deprecate
import httpx
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import Request
from fastapi.responses import Response
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError

from shared import thai
from shared.settings import Settings

with warnings.catch_warnings():
    # authlib 1.9 announces at import that it will one day prefer the httpx2 fork; the httpx it finds here is
    # still fully supported by this pinned version.
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
    from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App

TRANSACTION_COOKIE = "sarabun_oidc"
TRANSACTION_PATH = "/auth/oidc"
# How long a person may stay at the provider's page between the two legs.
TRANSACTION_SECONDS = 600
CALLBACK_PATH = "/auth/oidc/callback"
NEXT_KEY = "next"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# Clocks of the provider and of this host may differ a little.
LEEWAY_SECONDS = 120


class Refused(Exception):
    """The sign-in cannot go on. `reason` is the audit log's word for it, `detail` what the person reads."""

    def __init__(self, status: int, reason: str | None, detail: str):
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail


def unreachable() -> Refused:
    return Refused(
        503,
        None,
        "ติดต่อผู้ให้บริการยืนยันตัวตนของหน่วยงานไม่ได้ในขณะนี้ โปรดลองใหม่ภายหลัง "
        "(the identity provider is unreachable or answered wrongly)",
    )


def state_refused() -> Refused:
    return Refused(
        400,
        "state",
        "คำขอเข้าสู่ระบบนี้ไม่ได้เริ่มจากเบราว์เซอร์นี้ หมดเวลา หรือใช้ไปแล้ว กรุณาเริ่มเข้าสู่ระบบใหม่ "
        "(missing, expired or mismatched sign-in state)",
    )


def _token_refused(exc: JoseError) -> Refused:
    """The ID token failed a check: say which, in words."""
    claim = exc.claim if isinstance(exc, ClaimError) else None
    if isinstance(exc, ExpiredTokenError):
        why = "หมดอายุแล้ว (expired ID token)"
    elif isinstance(exc, BadSignatureError):
        why = "มีลายมือชื่อที่ตรวจสอบไม่ผ่าน (bad ID token signature)"
    elif claim == "aud":
        why = "ไม่ได้ออกให้ระบบนี้ (ID token issued for another client: audience)"
    elif claim == "nonce":
        why = "ไม่ตรงกับคำขอเข้าสู่ระบบนี้ (ID token nonce mismatch)"
    elif claim == "iss":
        why = "ไม่ได้ออกโดยผู้ให้บริการที่ตั้งค่าไว้ (ID token from another issuer)"
    elif claim:
        why = f"มีข้อมูล {claim} ไม่ถูกต้อง (invalid ID token claim {claim!r})"
    else:
        why = f"ตรวจสอบไม่ผ่าน (invalid ID token: {exc.error or type(exc).__name__})"
    return Refused(401, "id_token", f"โทเค็นยืนยันตัวตนจากผู้ให้บริการ{why}")


@dataclass(frozen=True)
class Identity:
    """Who the provider vouched for: the username from the configured claim, and a name to show."""

    username: str
    display_name: str
    email: str | None


class RelyingParty:
    """This deployment as a client of the agency's identity provider. Discovery happens on first use (and again
    after a failure), so the gateway starts even while the provider is away."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.issuer = (settings.oidc_issuer or "").rstrip("/")
        self.client_id = settings.oidc_client_id or ""
        self.client: StarletteOAuth2App = OAuth().register(
            name="agency",
            client_id=self.client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=f"{self.issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256", "timeout": TIMEOUT},
        )
        self.client.framework.expires_in = TRANSACTION_SECONDS
        self._box = _box(settings.jwt_secret)

    async def metadata(self) -> dict:
        """The provider's discovery document, checked to be the configured issuer's own."""
        try:
            metadata = await self.client.load_server_metadata()
        except (httpx.HTTPError, ValueError) as exc:
            raise unreachable() from exc
        if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
            self.client.server_metadata.pop("_loaded_at", None)  # read it again next time
            raise Refused(
                503,
                None,
                "ผู้ให้บริการยืนยันตัวตนแจ้งชื่อผู้ออกไม่ตรงกับที่ตั้งค่าไว้ (SARABUN_OIDC_ISSUER) "
                "(the provider's discovery document names another issuer)",
            )
        return metadata

    def claims_options(self, metadata: dict) -> dict:
        # authlib checks the nonce and expiry itself; the issuer and audience only when told what they must be.
        return {
            "iss": {"essential": True, "value": metadata["issuer"]},
            "aud": {"essential": True, "value": self.client_id},
        }

    async def begin(self, request: Request, redirect_uri: str, next_: str, fresh: bool = False) -> tuple[str, dict]:
        """The provider's authorization address to send the browser to, and the transaction to keep until the
        browser comes back (state, nonce, code verifier, redirect address, where to go afterwards). `fresh` asks
        the provider to authenticate the person again rather than reuse its own session (`prompt=login`)."""
        await self.metadata()
        transaction: dict = {}
        extra = {"prompt": "login"} if fresh else {}
        try:
            redirect = await self.client.authorize_redirect(_with_session(request, transaction), redirect_uri, **extra)
        except (httpx.HTTPError, ValueError) as exc:
            raise unreachable() from exc
        transaction[NEXT_KEY] = next_
        return redirect.headers["location"], transaction

    async def finish(self, request: Request, transaction: dict) -> dict:
        """The ID token's claims, once authlib has matched the state, exchanged the code with its verifier and
        verified the token; Refused otherwise."""
        metadata = await self.metadata()
        if request.query_params.get("error"):
            error = thai.clean(request.query_params["error"])[:100]
            raise Refused(
                403,
                "provider_error",
                f"ผู้ให้บริการยืนยันตัวตนไม่อนุญาตให้เข้าสู่ระบบ ({error}) "
                "(the identity provider refused or the sign-in was cancelled)",
            )
        try:
            token = await self.client.authorize_access_token(
                _with_session(request, transaction), claims_options=self.claims_options(metadata), leeway=LEEWAY_SECONDS
            )
        except MismatchingStateError as exc:
            raise state_refused() from exc
        except OAuthError as exc:  # the token endpoint refused the code: used already, expired or forged
            raise Refused(
                400,
                "code",
                "รหัสยืนยันจากผู้ให้บริการใช้ไม่ได้ (ใช้ไปแล้วหรือหมดอายุ) กรุณาเริ่มเข้าสู่ระบบใหม่ "
                f"(the provider refused the authorization code: {exc.error})",
            ) from exc
        except JoseError as exc:
            raise _token_refused(exc) from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise unreachable() from exc
        if not token.get("userinfo"):
            raise Refused(401, "id_token", "ผู้ให้บริการไม่ได้ส่งโทเค็นยืนยันตัวตน (no ID token in the answer)")
        return dict(token["userinfo"])

    async def verify_id_token(self, token: dict, nonce: str) -> dict:
        """The checks `finish` has authlib make on a token answer, on their own: for a token this deployment did
        not get through the flow (tests of the defects a real provider does not produce)."""
        metadata = await self.metadata()
        try:
            claims = await self.client.parse_id_token(
                token, nonce=nonce, claims_options=self.claims_options(metadata), leeway=LEEWAY_SECONDS
            )
        except JoseError as exc:
            raise _token_refused(exc) from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise unreachable() from exc
        return dict(claims)

    def identity(self, claims: dict) -> Identity:
        """The username is the configured claim, spelt as every username is (NFC, trimmed, lower case)."""
        name = self.settings.oidc_username_claim
        value = claims.get(name)
        username = thai.clean(value).lower() if isinstance(value, str) else ""
        if not username or len(username) > 100:
            raise Refused(
                403,
                "no_username",
                f"ผู้ให้บริการยืนยันตัวตนไม่ได้ส่งชื่อผู้ใช้ ({name}) ที่ใช้ได้ (the ID token has no usable {name!r} claim)",
            )
        shown = claims.get("name")
        email = claims.get("email")
        return Identity(
            username=username,
            display_name=(thai.clean(shown) if isinstance(shown, str) else "")[:200] or username,
            email=thai.clean(email)[:320] if isinstance(email, str) and email.strip() else None,
        )

    # The transaction cookie: encrypted and authenticated (Fernet), so its nonce and code verifier stay unread
    # and unchanged; SameSite=Lax because the provider sends the browser back from another site.

    def keep(self, response: Response, request: Request, transaction: dict) -> None:
        sealed = self._box.encrypt(json.dumps(transaction, separators=(",", ":")).encode()).decode("ascii")
        response.set_cookie(
            TRANSACTION_COOKIE,
            sealed,
            max_age=TRANSACTION_SECONDS,
            path=TRANSACTION_PATH,
            httponly=True,
            samesite="lax",
            secure=not self.settings.demo or request.url.scheme == "https",
        )

    def transaction(self, request: Request) -> dict:
        """The transaction this browser started, or an empty one (which no state matches)."""
        sealed = request.cookies.get(TRANSACTION_COOKIE)
        if not sealed or len(sealed) > 8000:
            return {}
        try:
            kept = json.loads(self._box.decrypt(sealed.encode("ascii"), ttl=TRANSACTION_SECONDS))
        except (InvalidToken, ValueError):
            return {}
        return kept if isinstance(kept, dict) else {}

    def forget(self, response: Response, request: Request) -> None:
        response.delete_cookie(
            TRANSACTION_COOKIE,
            path=TRANSACTION_PATH,
            httponly=True,
            samesite="lax",
            secure=not self.settings.demo or request.url.scheme == "https",
        )


def redirect_uri(request: Request, settings: Settings) -> str:
    """Where the provider sends the browser back: under SARABUN_PUBLIC_URL, or this request's own address."""
    base = settings.public_url.rstrip("/") if settings.public_url else str(request.base_url).rstrip("/")
    return base + CALLBACK_PATH


def _box(secret: str) -> Fernet:
    # A key of its own, derived from the gateway's secret, so the cookie key is not the token-signing key.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"sarabun oidc transaction").derive(
        secret.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _with_session(request: Request, session: dict) -> Request:
    """The request as authlib's Starlette client expects it, with `session` the dict it keeps its state data in:
    here the transaction that travels in the cookie, not a server-side session."""
    return Request({**request.scope, "session": session}, request.receive)
