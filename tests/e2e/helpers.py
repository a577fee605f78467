"""What the end-to-end tests share: a client that knows only the public API."""

from __future__ import annotations

import asyncio
import time

import httpx

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PASSWORD = "sarabun-demo"


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict:
    response = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def org_ids(client: httpx.AsyncClient, headers: dict) -> dict[str, str]:
    response = await client.get("/api/v1/orgs", headers=headers)
    assert response.status_code == 200, response.text
    return {org["key"]: org["id"] for org in response.json()}


async def eventually(check, within: float = 10.0, interval: float = 0.05):
    """Polls an async check until it returns something truthy; the flow is asynchronous by design."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(interval)


async def inbox_item(client: httpx.AsyncClient, headers: dict, letter_id: str) -> dict | None:
    response = await client.get("/api/v1/inbox", headers=headers)
    assert response.status_code == 200, response.text
    return next((i for i in response.json()["items"] if i["letter_id"] == letter_id), None)


# What intake answers while it has not yet heard of a unit routing has just added (see send_once_known).
NOT_YET_KNOWN = ("(unknown recipient_org_ids)", "(an internal memo stays within one ministry; use an external letter)")


async def send_once_known(client: httpx.AsyncClient, headers: dict, body: dict, within: float = 10.0):
    """POST /letters from or to units an administrator has just imported. Intake learns of them from routing's
    announcements a moment after the import has answered, and until then refuses the letter as to an unknown
    unit (or, for a memo, as leaving the ministry); a refused letter takes no number and leaves nothing
    behind, so it is sent again until intake knows them. Any other answer is returned at once."""

    async def answered():
        response = await client.post("/api/v1/letters", headers=headers, json=body)
        refused = response.status_code == 422 and response.json()["detail"].endswith(NOT_YET_KNOWN)
        return None if refused else response

    return await eventually(answered, within=within)
