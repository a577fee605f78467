"""Builds the notify service from settings and the ports it is given. Nothing is built at import time.

Without SARABUN_SMTP_HOST e-mail is off: notifications are kept in the page only and no mail is queued."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from services.notify import api, consumers, service
from services.notify.adapters.smtp import Mailer, MailSettings
from services.notify.relay import MailRelay, RetryPolicy
from services.notify.scheduler import Scheduler
from shared import thai
from shared.bus import Bus
from shared.db import Database
from shared.runtime import ServiceRuntime, service_app
from shared.settings import Settings

NAME = "notify"


def build(
    settings: Settings,
    bus: Bus,
    db: Database | None = None,
    clock: Callable[[], datetime] = thai.now,
) -> ServiceRuntime:
    db = db or Database(settings.database_url_for(NAME), schema=NAME)
    mail = MailSettings.from_settings(settings)
    ctx = service.Context(
        mail_enabled=mail is not None,
        public_url=settings.public_url,
        digest_time=settings.notify_digest_time,
        clock=clock,
    )
    app = service_app(NAME, settings, db, bus, api.router)
    app.state.notify = ctx
    scheduler = Scheduler(db, ctx, settings.notify_scan_seconds)
    relay = None
    if mail is not None:
        retry = RetryPolicy(settings.smtp_retry_seconds, settings.smtp_retry_max_seconds)
        relay = MailRelay(db, Mailer(mail), retry, poll_seconds=settings.outbox_poll_seconds, clock=clock)
    app.state.scheduler, app.state.mail_relay = scheduler, relay

    async def seed_demo_people() -> None:
        await service.seed_demo_people(db)

    async def start_background() -> None:
        scheduler.start()
        if relay is not None:
            relay.start()

    async def stop_background() -> None:
        await scheduler.stop()
        if relay is not None:
            await relay.stop()

    return ServiceRuntime(
        name=NAME,
        app=app,
        db=db,
        bus=bus,
        migrations=str(Path(__file__).parent / "migrations"),
        stuck_after_seconds=settings.stuck_after_seconds,
        consumers=consumers.handlers(db, ctx),
        startup=[*([seed_demo_people] if settings.demo else []), start_background],
        shutdown=[stop_background],
    )
