"""The mail relay: sends the mail outbox to the SMTP server. A mail stays in the outbox until the server has
taken it and is marked sent at once after that, as the event relay marks an event only once the broker has
confirmed it; a server that is away or answers 4xx delays the mail (tried again after a delay that doubles up
to a maximum) and loses nothing. Several replicas may run: each claims the mails it sends for a while, and a
claim left by a process that died runs out and the mail is sent by another."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import Counter

from services.notify.adapters.repository import NotifyRepository
from services.notify.adapters.smtp import Mailer, MailRefused
from shared import thai
from shared.db import Database

log = logging.getLogger("sarabun.notify.relay")

MAILS = Counter("sarabun_notify_mails_total", "Notification mails by outcome", ["outcome"])


@dataclass(frozen=True)
class RetryPolicy:
    first: float = 30.0  # seconds before the second attempt
    maximum: float = 1800.0

    def delay(self, attempts: int) -> timedelta:
        """After `attempts` failed attempts: first, 2×first, 4×first, ... up to the maximum."""
        return timedelta(seconds=min(self.first * 2 ** max(attempts - 1, 0), self.maximum))


class MailRelay:
    def __init__(
        self,
        db: Database,
        mailer: Mailer,
        retry: RetryPolicy,
        *,
        poll_seconds: float = 1.0,
        batch: int = 50,
        clock: Callable[[], datetime] = thai.now,
    ):
        self.db, self.mailer, self.retry = db, mailer, retry
        self.poll_seconds, self.batch, self.clock = poll_seconds, batch, clock
        # Long enough for a whole round at the server's timeout; a claim only runs out when its process died.
        self.claim = timedelta(seconds=mailer.settings.timeout * (batch + 2))
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        db.on_commit(self._wake.set)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notify-mail-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                while await self.relay_once() == self.batch:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the database is away: the mails stay and are tried again
                log.warning("mail relay failed; retrying", exc_info=True)
            try:
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def relay_once(self) -> int:
        """Sends one round of due mails over one connection; returns how many were claimed."""
        now = self.clock()
        async with self.db.transaction(notify=False) as session:
            due = await NotifyRepository(session).claim_due(now, now + self.claim, self.batch)
        if not due:
            return 0
        try:
            async with self.mailer.connection() as server:
                for mail in due:
                    await self._send(server, mail)
        except Exception as exc:  # noqa: BLE001 - cannot reach or keep the server: each unsent mail waits
            log.warning("mail server %s unavailable: %s", self.mailer.settings.host, exc)
            for mail in due:
                if not mail.get("done"):
                    await self._later(mail, exc)
        return len(due)

    async def _send(self, server, mail: dict) -> None:
        try:
            await server.send(mail["id"], mail["to_address"], mail["subject"], mail["body"])
        except MailRefused as refused:
            log.error("mail %s to %s refused for good: %s", mail["id"], mail["username"], refused)
            attempts, error = mail["attempts"] + 1, str(refused)
            async with self.db.transaction(notify=False) as session:
                await NotifyRepository(session).mark_failed(mail["id"], attempts, self.clock(), error)
            MAILS.labels("refused").inc()
            mail["done"] = True
            return
        except (OSError, TimeoutError, ConnectionError):
            raise  # the connection is gone: the rest of the round waits too
        except Exception as exc:  # noqa: BLE001 - a temporary refusal of this one message (4xx)
            await self._later(mail, exc)
            mail["done"] = True
            return
        # Taken by the server: marked at once, so it is never sent again.
        async with self.db.transaction(notify=False) as session:
            await NotifyRepository(session).mark_sent(mail["id"], self.clock())
        MAILS.labels("sent").inc()
        mail["done"] = True

    async def _later(self, mail: dict, error: Exception) -> None:
        attempts = mail["attempts"] + 1
        next_at, reason = self.clock() + self.retry.delay(attempts), f"{type(error).__name__}: {error}"
        async with self.db.transaction(notify=False) as session:
            await NotifyRepository(session).mark_retry(mail["id"], attempts, next_at, reason)
        MAILS.labels("retry").inc()
