"""Builds the intake service from settings and the ports it is given. Nothing is built at import time."""

from __future__ import annotations

from pathlib import Path

from services.intake import api
from services.intake.adapters import tables
from services.intake.consumers import consumers
from shared.bus import Bus
from shared.db import Database
from shared.outbox import OutboxRelay
from shared.runtime import ServiceRuntime, service_app
from shared.settings import Settings

NAME = "intake"


def build(settings: Settings, bus: Bus, db: Database | None = None) -> ServiceRuntime:
    db = db or Database(settings.database_url_for(NAME), schema=NAME)
    app = service_app(NAME, settings, db, bus, api.router)
    return ServiceRuntime(
        name=NAME,
        app=app,
        db=db,
        bus=bus,
        migrations=str(Path(__file__).parent / "migrations"),
        stuck_after_seconds=settings.stuck_after_seconds,
        relay=OutboxRelay(db, tables.outbox, bus, NAME, settings.outbox_poll_seconds),
        consumers=consumers(db),
    )
