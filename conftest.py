"""Fixtures for tests that need real servers. Absent servers skip the test with a reason, or fail it when
SARABUN_REQUIRE_INFRA=1 (CI), so a missing server can never pass silently."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "SARABUN_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
AMQP_URL = os.environ.get("SARABUN_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def missing(what: str) -> None:
    message = f"{what} is not available here"
    if os.environ.get("SARABUN_REQUIRE_INFRA") == "1":
        pytest.fail(f"{message}, and SARABUN_REQUIRE_INFRA=1 requires it")
    pytest.skip(message)


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh, empty PostgreSQL database for this test session, dropped afterwards."""
    if not reachable(POSTGRES_ADMIN_URL, 5432):
        missing(f"PostgreSQL ({POSTGRES_ADMIN_URL})")
    import asyncpg

    name = f"sarabun_test_{uuid.uuid4().hex[:10]}"
    plain = POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(plain)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def run(sql: str) -> None:  # in a thread: the fixture may be first requested inside a running loop
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, admin(sql)).result()

    run(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_postgres_url(postgres_url):
    """An empty database of its own for one test (a deployment that numbers from 1 again)."""
    import asyncpg

    name = f"sarabun_test_{uuid.uuid4().hex[:10]}"
    base = postgres_url.rsplit("/", 1)[0]
    plain = base.replace("postgresql+asyncpg://", "postgresql://") + "/postgres"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(plain)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, admin(f'CREATE DATABASE "{name}"')).result()
    yield f"{base}/{name}"
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')).result()


@pytest.fixture(scope="session")
def rabbitmq_url():
    """A vhost of its own for this test session, so two runs on one broker never see each other's queues.
    Without `rabbitmqctl` (a remote broker) the configured vhost is used as it is."""
    if not reachable(AMQP_URL, 5672):
        missing(f"RabbitMQ ({AMQP_URL})")
    vhost = f"sarabun-test-{uuid.uuid4().hex[:10]}"
    if not rabbitmqctl("add_vhost", vhost):
        yield AMQP_URL
        return
    try:
        user = urlsplit(AMQP_URL).username or "guest"
        rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
        yield AMQP_URL.rsplit("/", 1)[0] + "/" + vhost
    finally:
        rabbitmqctl("delete_vhost", vhost)


def rabbitmqctl(*args: str) -> bool:
    if shutil.which("rabbitmqctl") is None:
        return False
    return subprocess.run(["rabbitmqctl", *args], capture_output=True, timeout=120).returncode == 0


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3-compatible server on a free local port: the stand-in for MinIO."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        missing("moto's S3 server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_url(s3_server):
    """An S3 URL with a bucket of its own for each test."""
    return f"s3://testing:testing@{s3_server}/sarabun-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def oidc_provider():
    """A real OpenID Connect provider (oidc-provider-mock) on a free local port, for the whole test session.
    Any client id and secret are accepted. Its authorization page signs in whichever `sub` its form is sent with
    (`action=deny` refuses instead); `PUT /users/{sub}` with a JSON object sets that person's claims, which
    go into the ID token. Issuer: the returned base URL."""
    import warnings

    try:
        import authlib.deprecate

        with warnings.catch_warnings():  # the provider's own use of authlib modules authlib plans to move
            warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
            from oidc_provider_mock import run_server_in_thread
    except ImportError:
        missing("oidc-provider-mock")
    with run_server_in_thread(require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"
