"""notify's running service on SQLite and on PostgreSQL, with a real SMTP server on loopback."""

from __future__ import annotations

import uuid

import pytest

from services.notify import bootstrap
from services.notify.tests.support import Clock, SmtpServer
from shared.bus.memory import MemoryBus
from shared.db import Database
from shared.settings import Settings


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clock():
    return Clock()


def settings(tmp_path, port: int | None, **more) -> Settings:
    mail = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_from": "สารบรรณ <saraban@cgd.example>"}
    return Settings(
        demo=False,
        jwt_secret="j" * 40,
        service_secret="s" * 40,
        data_dir=tmp_path,
        smtp_tls="none",
        smtp_timeout_seconds=5,
        smtp_retry_seconds=0.05,
        smtp_retry_max_seconds=0.2,
        outbox_poll_seconds=0.05,
        notify_scan_seconds=3600,  # the tests run the rounds themselves
        public_url="https://saraban.example.go.th",
        **(mail if port else {}),
        **more,
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
def database(request, tmp_path):
    """None: the service's own SQLite file; else a schema of its own on the test PostgreSQL."""
    if request.param == "postgresql":
        return Database(request.getfixturevalue("postgres_url"), schema=f"notify_{uuid.uuid4().hex[:8]}")
    return None


@pytest.fixture
async def start(tmp_path, database, clock):
    """Starts notify with the given SMTP port (None: no mail server configured); stops it afterwards."""
    started = []

    async def run(port: int | None, **more):
        bus = MemoryBus(retry_seconds=0.05)
        runtime = bootstrap.build(settings(tmp_path, port, **more), bus, database, clock=clock)
        await bus.connect()
        await runtime.start()
        started.append((runtime, bus))
        return runtime

    yield run
    for runtime, bus in reversed(started):
        await runtime.stop()
        await bus.close()
