"""Builds the storage service from settings and the ports it is given. Nothing is built at import time."""

from __future__ import annotations

import logging
from pathlib import Path

from pyhanko.sign.timestamps import HTTPTimeStamper

from services.storage import api, consumers
from services.storage.adapters import tables
from services.storage.adapters.keys import SigningKeys
from services.storage.service import Signing, UploadPolicy
from shared.bus import Bus
from shared.db import Database
from shared.objectstore import ObjectStore, open_store
from shared.outbox import OutboxRelay
from shared.runtime import ServiceRuntime, service_app
from shared.settings import Settings

NAME = "storage"


def build(settings: Settings, bus: Bus, db: Database | None = None, store: ObjectStore | None = None) -> ServiceRuntime:
    db = db or Database(settings.database_url_for(NAME), schema=NAME)
    store = store or open_store(settings.storage_url, settings.data_dir)
    policy = UploadPolicy(max_bytes=settings.max_upload_bytes, spool_dir=settings.data_dir / "spool" / NAME)

    async def make_spool_dir() -> None:
        policy.spool_dir.mkdir(parents=True, exist_ok=True)

    signing = Signing(
        keys=SigningKeys.from_settings(settings),
        timestamper=HTTPTimeStamper(settings.signing_tsa_url) if settings.signing_tsa_url else None,
        garuda=settings.garuda_image,
    )
    # pyHanko logs a stack trace for every signature that does not chain to a trust root, which for a recipient
    # is a finding, recorded and shown, not a fault of this service.
    logging.getLogger("pyhanko.sign.validation.generic_cms").setLevel(logging.ERROR)

    app = service_app(NAME, settings, db, bus, api.router, store=store.ready)
    app.state.store = store
    app.state.upload_policy = policy
    app.state.signing = signing
    return ServiceRuntime(
        name=NAME,
        app=app,
        db=db,
        bus=bus,
        migrations=str(Path(__file__).parent / "migrations"),
        stuck_after_seconds=settings.stuck_after_seconds,
        relay=OutboxRelay(db, tables.outbox, bus, NAME, settings.outbox_poll_seconds),
        consumers=consumers.handlers(db, store, signing.keys),
        startup=[store.ensure, make_spool_dir],
    )
