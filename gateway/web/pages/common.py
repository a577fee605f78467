"""What several pages look up: who is signed in and the directory's names."""

from __future__ import annotations

from gateway.web.client import Api


async def whoami(api: Api) -> dict:
    return await api.get("/me")


async def directory(api: Api) -> list[dict]:
    return await api.get("/orgs")


def names(orgs: list[dict]) -> dict[str, str]:
    return {org["id"]: org["name"] for org in orgs}


def is_clerk(me: dict) -> bool:
    return "clerk" in me.get("roles", [])


def is_auditor(me: dict) -> bool:
    return "auditor" in me.get("roles", [])


def home_of(me: dict) -> str:
    if is_clerk(me):
        return "/inbox"
    if is_auditor(me):
        return "/audit"
    return "/me"
