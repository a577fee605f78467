"""A service as the launcher sees it: an HTTP app plus the background work (consumers, outbox relay) and
the start-up steps (wait for the database, migrate, seed). Built by each service's bootstrap; started the
same way in embedded and distributed mode."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI, Request
from sqlalchemy.exc import SQLAlchemyError

from shared.bus import BatchHandler, Bus
from shared.db import Database
from shared.migrate import upgrade
from shared.outbox import OutboxRelay
from shared.problems import Problem, problem_response
from shared.reconciler import Reconciler
from shared.settings import Settings
from shared.transient import transient
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
    consumers: dict[str, BatchHandler] = field(default_factory=dict)
    startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # After this long an unsent outbox row or a dead-lettered message is flagged as stuck (Settings).
    stuck_after_seconds: float = 60.0
    reconciler: Reconciler | None = None

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
        if self.relay or self.consumers:
            queues = self.consumers if hasattr(self.bus, "dead_letter_count") else ()
            self.reconciler = Reconciler(self.name, self.stuck_after_seconds, self.relay, self.bus, queues)
            self.reconciler.start()
        log.info("%s started", self.name)

    async def stop(self) -> None:
        if self.reconciler:
            await self.reconciler.stop()
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
    answer_unavailable(app)
    return app


def answer_unavailable(app: FastAPI) -> None:
    """A database that is away (refused, reset, restarting) answers 503 problem+json, so clients know to
    try again; only a real failure is a 500."""

    async def unavailable(request: Request, exc: Exception):
        if transient(exc):
            log.warning("%s %s: database unavailable (%s)", request.method, request.url.path, exc.__class__.__name__)
            return problem_response(Problem(503, "ฐานข้อมูลไม่พร้อมใช้งาน โปรดลองใหม่ (database unavailable)"))
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(Problem(500, "ระบบขัดข้อง โปรดลองใหม่ภายหลัง (internal error)"))

    for kind in (SQLAlchemyError, OSError):
        app.add_exception_handler(kind, unavailable)
