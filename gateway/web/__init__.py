"""The web interface for clerks, officers who draft, executives who review and sign, auditors and
administrators: server-rendered pages at `/` that are a client of the public API at /api/v1, called in-process
with the signed-in user's token."""

from __future__ import annotations

from fastapi import FastAPI

from gateway.web.client import in_process
from gateway.web.pages import (
    account,
    admin_people,
    admin_units,
    assets,
    audit,
    auth,
    compose,
    delegations,
    drafts,
    files,
    followup,
    inbox,
    letter,
    oidc,
    picker,
    registers,
)

ROUTERS = (
    assets,
    auth,
    oidc,
    account,
    inbox,
    compose,
    letter,
    drafts,
    delegations,
    registers,
    followup,
    audit,
    files,
    picker,
    admin_units,
    admin_people,
)


def mount(app: FastAPI) -> None:
    """Adds the pages to the gateway app; the API routes are matched first, so /api/v1 is unchanged."""
    app.state.web_http = in_process(app)
    for module in ROUTERS:
        app.include_router(module.router)
