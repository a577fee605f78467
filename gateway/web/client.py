"""The web pages' way into the system: the public API at /api/v1, called in-process on the gateway's own app
with the signed-in user's token, so the pages use exactly what any outside client uses."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

API = "/api/v1"
TIMEOUT = httpx.Timeout(60.0)


class ApiError(Exception):
    """A problem+json answer of the API, kept whole so a page can show its detail and field errors."""

    def __init__(self, status: int, body: dict):
        super().__init__(body.get("detail") or str(status))
        self.status = status
        self.body = body

    @property
    def detail(self) -> str:
        return str(self.body.get("detail") or self.body.get("title") or self.status)

    @property
    def errors(self) -> list[dict]:
        errors = self.body.get("errors")
        return errors if isinstance(errors, list) else []


class SignInNeeded(Exception):
    """No session, or the API no longer accepts its token (expired, revoked): back to the sign-in page."""


class FreshSignInNeeded(SignInNeeded):
    """The token is good, but the action (administration) needs a sign-in within the last 15 minutes."""


FRESH_SIGN_IN_TYPE = "/problems/fresh-sign-in-required"


def in_process(app: FastAPI) -> httpx.AsyncClient:
    # No lifespan is run: the gateway app is already started; ASGITransport only passes requests to it.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sarabun", timeout=TIMEOUT)


class Api:
    """One user's view of the API. `token` None means signed out: only sign-in is possible."""

    def __init__(self, http: httpx.AsyncClient, token: str | None):
        self.http = http
        self.token = token

    def _headers(self, extra: dict | None = None) -> dict:
        if not self.token:
            raise SignInNeeded()
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    async def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = self._headers(kwargs.pop("headers", None))
        response = await self.http.request(method, API + path, headers=headers, **kwargs)
        if response.status_code == 401:
            if str(_problem(response).get("type", "")).endswith(FRESH_SIGN_IN_TYPE):
                raise FreshSignInNeeded()
            raise SignInNeeded()
        if response.status_code >= 400:
            raise ApiError(response.status_code, _problem(response))
        return response

    async def get(self, path: str, **params) -> dict | list:
        clean = {k: v for k, v in params.items() if v not in (None, "")}
        return (await self.request("GET", path, params=clean)).json()

    async def post(self, path: str, json: dict | None = None, headers: dict | None = None) -> dict:
        return (await self.request("POST", path, json=json if json is not None else {}, headers=headers)).json()

    async def patch(self, path: str, json: dict) -> dict:
        return (await self.request("PATCH", path, json=json)).json()

    async def upload(self, path: str, name: str, content: bytes, content_type: str, **params) -> dict:
        """A file as the multipart field `file`, as the browser sent it to the page."""
        files = {"file": (name, content, content_type or "application/octet-stream")}
        return (await self.request("POST", path, files=files, params=params)).json()

    async def sign_in(self, username: str, password: str) -> dict:
        response = await self.http.post(f"{API}/auth/token", data={"username": username, "password": password})
        if response.status_code != 200:
            raise ApiError(response.status_code, _problem(response))
        return response.json()


def _problem(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {"status": response.status_code, "detail": response.reason_phrase}
