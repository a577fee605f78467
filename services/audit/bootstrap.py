"""Builds the audit service from settings and the ports it is given. Nothing is built at import time."""

from __future__ import annotations

from pathlib import Path

from services.audit import api, consumers
from shared.bus import Bus
from shared.db import Database
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from shared.web import create_app

NAME = "audit"


def build(settings: Settings, bus: Bus, db: Database | None = None) -> ServiceRuntime:
    db = db or Database(settings.database_url_for(NAME), schema=NAME)
    app = create_app("sarabun-audit", {"database": db.ping, "bus": bus.ready})
    app.state.db = db
    app.state.service_secret = settings.service_secret
    app.include_router(api.router)
    # No outbox relay: the audit service publishes nothing, it only listens.
    return ServiceRuntime(
        name=NAME,
        app=app,
        db=db,
        bus=bus,
        migrations=str(Path(__file__).parent / "migrations"),
        consumers=consumers.handlers(db),
    )
