"""The notify service's clock work: every so often, remind of deadlines and make the day's digests. Each round
is idempotent (reminders and digests have unique keys), so replicas may run it side by side."""

from __future__ import annotations

import asyncio
import logging

from services.notify import service
from shared.db import Database

log = logging.getLogger("sarabun.notify.scheduler")


class Scheduler:
    def __init__(self, db: Database, ctx: service.Context, every_seconds: float):
        self.db, self.ctx, self.every = db, ctx, every_seconds
        self._task: asyncio.Task | None = None

    async def round(self) -> tuple[int, int]:
        """Reminders made, digests made."""
        return await service.remind_deadlines(self.db, self.ctx), await service.make_digests(self.db, self.ctx)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notify-scheduler")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await self.round()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the database is away: the next round does it
                log.warning("notification round failed; trying again in %.0fs", self.every, exc_info=True)
            await asyncio.sleep(self.every)
