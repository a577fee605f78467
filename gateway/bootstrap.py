"""Builds the gateway: the public API at /api/v1 over the five services. Nothing is built at import time.

`transports` is given in embedded mode (each service's ASGI app in the same process); otherwise the
gateway reaches the services at their configured URLs."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import APIRouter

from gateway import denials, web
from gateway.adapters import tables
from gateway.adapters.repository import UserRepository
from gateway.api import (
    admin_directory,
    admin_users,
    attachments,
    audit,
    auth,
    delegations,
    directory,
    drafts,
    letters,
    notifications,
    registers,
    work,
)
from gateway.auth import hash_password
from gateway.clients import SERVICES, Services
from gateway.denials import record
from gateway.people.accounts import Accounts
from gateway.people.delegations import Delegations
from gateway.people.service import People, contact
from shared import thai
from shared.bus import Bus
from shared.db import Database
from shared.outbox import OutboxRelay
from shared.runtime import ServiceRuntime, answer_unavailable
from shared.seed import DEMO_USERS, org_id
from shared.settings import Settings
from shared.web import create_app

NAME = "gateway"
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def build(
    settings: Settings, bus: Bus, transports: dict[str, httpx.AsyncBaseTransport] | None = None
) -> ServiceRuntime:
    db = Database(settings.database_url_for(NAME), schema=NAME)
    services = Services(_clients(settings, transports), settings.service_secret)
    app = create_app(
        "Sarabun API",
        {"database": db.ping, "bus": bus.ready, "services": services.ready},
        version="1",
        description="ระบบสารบรรณอิเล็กทรอนิกส์ — electronic official correspondence",
    )
    app.state.db = db
    app.state.services = services
    app.state.settings = settings
    app.state.accounts = Accounts(db, services)
    app.state.people = People(db, on_change=app.state.accounts.forget)
    app.state.delegations = Delegations(db)
    api = APIRouter(prefix="/api/v1")
    # The work's routes before letters': its /deliveries/{id}/{action} would otherwise take them.
    routers = (auth, directory, attachments, work, letters, drafts, delegations, registers, audit, notifications)
    for module in (*routers, admin_directory, admin_users):
        api.include_router(module.router)
    app.include_router(api)
    denials.install(app)
    answer_unavailable(app)  # the gateway's own database away: 503, as in the services
    web.mount(app)  # the web interface at /, a client of /api/v1

    async def seed_demo_users() -> None:
        await seed_users(db, settings.demo_password)

    return ServiceRuntime(
        name=NAME,
        app=app,
        db=db,
        bus=bus,
        migrations=str(Path(__file__).parent / "migrations"),
        relay=OutboxRelay(db, tables.outbox, bus, NAME, settings.outbox_poll_seconds),
        startup=[seed_demo_users] if settings.demo else [],
        shutdown=[services.close],
    )


def _clients(settings: Settings, transports) -> dict[str, httpx.AsyncClient]:
    if transports:
        return {
            name: httpx.AsyncClient(transport=transports[name], base_url=f"http://{name}", timeout=TIMEOUT)
            for name in SERVICES
        }
    urls = settings.service_urls()
    return {name: httpx.AsyncClient(base_url=urls[name], timeout=TIMEOUT) for name in SERVICES}


async def seed_users(db: Database, password: str) -> None:
    """The demo identities; existing users are left as they are. Those added with an e-mail address announce
    it (`user.contact`, by "system"), so notifications reach them like anyone an administrator adds."""
    password_hash = hash_password(password)
    async with db.transaction() as session:
        repo = UserRepository(session)
        there = await repo.many([user.username for user in DEMO_USERS])
        for user in DEMO_USERS:
            if user.username in there:
                continue
            await repo.add_if_missing(
                {
                    "username": user.username,
                    "display_name": user.display_name,
                    "org_id": org_id(user.org_key),
                    "roles": list(user.roles),
                    "clearance": user.clearance,
                    "position": user.position,
                    "email": user.email,
                    "password_hash": password_hash,
                    "active": True,
                }
            )
            if user.email:
                event = contact({"username": user.username, "email": user.email}, thai.now())
                await record(session, event, actor="system")
