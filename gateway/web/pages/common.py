"""What several pages look up: who is signed in and the directory's names."""

from __future__ import annotations

import asyncio

from gateway.web.client import Api, ApiError


async def whoami(api: Api) -> dict:
    return await api.get("/me")


async def directory(api: Api, retired: bool = False, at: str | None = None) -> list[dict]:
    """The units in force, for choosing one; with `retired`, also those an old letter or register may name;
    with `at`, under the names they had at that moment (a letter shows the names it was sent under)."""
    return await api.get("/orgs", retired="true" if retired else None, at=at)


def names(orgs: list[dict]) -> dict[str, str]:
    return {org["id"]: org["name"] for org in orgs}


def is_clerk(me: dict) -> bool:
    return "clerk" in me.get("roles", [])


def is_auditor(me: dict) -> bool:
    return "auditor" in me.get("roles", [])


def is_admin(me: dict) -> bool:
    return "admin" in me.get("roles", [])


def home_of(me: dict) -> str:
    if is_clerk(me):
        return "/inbox"
    if is_auditor(me):
        return "/audit"
    if is_admin(me):
        return "/admin/people"
    if {"staff", "executive"} & set(me.get("roles", [])):
        return "/drafts"
    return "/me"


# How many metadata questions a page asks the API at once: enough to be quick, few enough to share the workers.
AT_ONCE = 8


async def attachment_meta(api: Api, ids: list[str]) -> dict[str, dict | None]:
    """{attachment id: its metadata}, None for one the API does not show (yet): a recipient may open the letter
    a moment before storage has heard that it may read the files."""
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(attachment_id: str) -> dict | None:
        async with gate:
            try:
                return await api.get(f"/attachments/{attachment_id}/meta")
            except ApiError:
                return None

    unique = list(dict.fromkeys(ids))
    return dict(zip(unique, await asyncio.gather(*(one(i) for i in unique)), strict=True))


async def signatures_of(api: Api, letter_id: str) -> list[dict]:
    """What the check of a letter's electronic signatures found: [{signer, valid, trusted, signed_at, problem?}];
    empty for a letter without signed PDFs, or one the check does not show to this person."""
    try:
        found = await api.get(f"/letters/{letter_id}/signatures")
    except ApiError:
        return []
    items = found.get("items", []) if isinstance(found, dict) else found
    return [s for s in items if isinstance(s, dict)]


async def signatures_of_many(api: Api, letter_ids: list[str]) -> dict[str, list[dict]]:
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(letter_id: str) -> list[dict]:
        async with gate:
            return await signatures_of(api, letter_id)

    unique = list(dict.fromkeys(letter_ids))
    return dict(zip(unique, await asyncio.gather(*(one(i) for i in unique)), strict=True))
