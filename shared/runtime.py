"""A service as the launcher sees it: an HTTP app plus the background work (consumers, outbox relay) and
the start-up steps (wait for the database, migrate, seed). Built by each service's bootstrap; started the
same way in embedded and distributed mode."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI

from shared.bus import Bus, MessageHandler
from shared.db import Database
from shared.migrate import upgrade
from shared.outbox import OutboxRelay
from shared.settings import Settings
from shared.web import ReadinessCheck, create_app

log = logging.getLogger("sarabun.runtime")


@dataclass
class ServiceRuntime:
    name: str
    app: FastAPI
    db: Database
    bus: Bus | None
    migrations: str
    relay: OutboxRelay | None = None
    consumers: dict[str, MessageHandler] = field(default_factory=dict)
    startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def start(self) -> None:
        """Assumes the bus is connected (the launcher owns it: one per process)."""
        await self.db.wait_until_reachable()
        await upgrade(self.db, self.migrations)
        for step in self.startup:
            await step()
        for queue, handler in self.consumers.items():
            await self.bus.subscribe(queue, handler)
        if self.relay:
            self.relay.start()
        log.info("%s started", self.name)

    async def stop(self) -> None:
        if self.relay:
            await self.relay.stop()
        for step in self.shutdown:
            await step()
        await self.db.dispose()


def service_app(name: str, settings: Settings, db: Database, bus: Bus, router: APIRouter, **checks: ReadinessCheck):
    """A service's internal HTTP app: its routes, the principal check's secret, and readiness of its ports."""
    app = create_app(f"sarabun-{name}", {"database": db.ping, "bus": bus.ready, **checks})
    app.state.db = db
    app.state.service_secret = settings.service_secret
    app.include_router(router)
    return app
