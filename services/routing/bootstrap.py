"""Builds the routing service from settings and the ports it is given. Nothing is built at import time."""

from __future__ import annotations

import logging
from pathlib import Path

from services.routing import api, service
from services.routing.adapters import tables
from services.routing.consumers import consumers
from shared.bus import Bus
from shared.db import Database
from shared.outbox import OutboxRelay
from shared.problems import Problem
from shared.runtime import ServiceRuntime, service_app
from shared.settings import Settings

NAME = "routing"
log = logging.getLogger("sarabun.routing")


def build(settings: Settings, bus: Bus, db: Database | None = None) -> ServiceRuntime:
    db = db or Database(settings.database_url_for(NAME), schema=NAME)
    app = service_app(NAME, settings, db, bus, api.router)

    async def seed() -> None:
        try:
            await service.seed_directory(db)
        except Problem as refused:  # the sample clashes with what an administrator imported: theirs stands
            log.error("sample directory not loaded: %s %s", refused.detail, refused.errors)
        await service.seed_groups(db)

    return ServiceRuntime(
        name=NAME,
        app=app,
        db=db,
        bus=bus,
        migrations=str(Path(__file__).parent / "migrations"),
        stuck_after_seconds=settings.stuck_after_seconds,
        relay=OutboxRelay(db, tables.outbox, bus, NAME, settings.outbox_poll_seconds),
        consumers=consumers(db),
        startup=[seed] if settings.demo else [],
    )
