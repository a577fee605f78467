"""Builds the intake service from settings and the ports it is given. Nothing is built at import time."""

from __future__ import annotations

from pathlib import Path

from services.intake import api, drafts_api, service
from services.intake.adapters import tables
from services.intake.consumers import consumers
from shared.bus import Bus
from shared.db import Database
from shared.outbox import OutboxRelay
from shared.runtime import ServiceRuntime, service_app
from shared.seed import sample_org_ids
from shared.settings import Settings

NAME = "intake"


def build(settings: Settings, bus: Bus, db: Database | None = None) -> ServiceRuntime:
    db = db or Database(settings.database_url_for(NAME), schema=NAME)
    checks = {"directory": sample_directory_known(db)} if settings.demo else {}
    app = service_app(NAME, settings, db, bus, api.router, **checks)
    app.state.dispatch_on_signing = settings.dispatch_on_signing
    app.include_router(drafts_api.router)
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


def sample_directory_known(db: Database):
    """Demo mode: routing seeds the sample directory at its first start and announces each unit; until all of
    them have reached intake, a letter to one would be refused, so intake is not ready yet. Once they are
    there they stay (units are never deleted, only retired), so a yes is remembered."""
    ids = sample_org_ids()
    known = False

    async def check() -> bool:
        nonlocal known
        known = known or await service.knows_units(db, ids)
        return known

    return check
