"""The browser session: the API access token in an HttpOnly, SameSite=Strict cookie (never in a URL or in
anything a script can read), a CSRF token for every form, and where to go back to after signing in."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response

SESSION_COOKIE = "sarabun_session"
CSRF_COOKIE = "sarabun_csrf"
LANG_COOKIE = "lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
YEAR = 365 * 24 * 3600


def token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def secure(request: Request) -> bool:
    """Outside demo mode cookies are sent only over TLS, whatever scheme reached the gateway: a deployment
    sits behind a TLS-terminating proxy that speaks plain HTTP to it. Demo mode on http://127.0.0.1 keeps
    them working without TLS (and sets Secure when the request did come over https)."""
    return not request.app.state.settings.demo or request.url.scheme == "https"


def start(response: Response, request: Request, access_token: str, seconds: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        access_token,
        max_age=seconds,
        httponly=True,
        samesite="strict",
        secure=secure(request),
        path="/",
    )


def end(response: Response, request: Request | None = None) -> None:
    flag = secure(request) if request is not None else False
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=flag)


def _csrf_key(request: Request) -> bytes:
    secret = request.app.state.settings.jwt_secret.encode("utf-8")
    return hmac.new(secret, b"sarabun-web-csrf", hashlib.sha256).digest()


def csrf_seed(request: Request) -> str:
    """The browser's random CSRF seed; a new one is made (and set by `remember_csrf`) when it has none."""
    seed = request.cookies.get(CSRF_COOKIE)
    if not seed or len(seed) > 100:
        seed = request.state.new_csrf_seed = getattr(request.state, "new_csrf_seed", None) or secrets.token_urlsafe(32)
    return seed


def csrf_token(request: Request) -> str:
    """What forms carry: an HMAC of the browser's seed, so a page on another site can neither read nor forge it."""
    return hmac.new(_csrf_key(request), csrf_seed(request).encode("ascii"), hashlib.sha256).hexdigest()


def remember_csrf(request: Request, response: Response) -> None:
    seed = getattr(request.state, "new_csrf_seed", None)
    if seed:
        response.set_cookie(
            CSRF_COOKIE, seed, max_age=YEAR, httponly=True, samesite="strict", secure=secure(request), path="/"
        )


def csrf_valid(request: Request, submitted: str | None) -> bool:
    seed = request.cookies.get(CSRF_COOKIE)
    if not seed or not submitted:
        return False
    expected = hmac.new(_csrf_key(request), seed.encode("ascii", "replace"), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, submitted)


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a path on this site: never a scheme, a host, `//host` or a backslash trick."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def here(request: Request) -> str:
    """The current page as a relative path, to come back to after signing in."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")
