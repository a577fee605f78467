"""Builds the audit service from settings and the ports it is given. Nothing is built at import time."""

from __future__ import annotations

from pathlib import Path

from services.audit import api, consumers
from services.audit.checkpoints import Checkpointer, CheckpointSettings, load_signing_key
from shared.bus import Bus
from shared.db import Database
from shared.objectstore import open_store
from shared.runtime import ServiceRuntime, answer_unavailable
from shared.settings import Settings
from shared.web import create_app

NAME = "audit"


def build(settings: Settings, bus: Bus, db: Database | None = None) -> ServiceRuntime:
    db = db or Database(settings.database_url_for(NAME), schema=NAME)
    # Loaded first: without a signing key outside demo mode the service refuses to start.
    key = load_signing_key(settings)
    checkpointer = Checkpointer(db, open_store(settings.storage_url, settings.data_dir), key, CheckpointSettings())
    app = create_app("sarabun-audit", {"database": db.ping, "bus": bus.ready})
    app.state.db = db
    app.state.service_secret = settings.service_secret
    app.state.checkpointer = checkpointer
    app.include_router(api.router)
    answer_unavailable(app)
    # No outbox relay: the audit service publishes nothing, it only listens.
    return ServiceRuntime(
        name=NAME,
        app=app,
        db=db,
        bus=bus,
        migrations=str(Path(__file__).parent / "migrations"),
        stuck_after_seconds=settings.stuck_after_seconds,
        consumers=consumers.handlers(db, checkpointer.appended),
        startup=[checkpointer.start],
        shutdown=[checkpointer.stop],
    )
