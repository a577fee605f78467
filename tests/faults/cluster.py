"""The distributed deployment under test: one OS process per service, reaching PostgreSQL, RabbitMQ and the
S3 stand-in through fault proxies, so a test can kill and restart any process and cut or stall any link."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from deploy.local.processes import NAMES, LocalDeployment
from tests.faults.proxy import FaultProxy

# Quicker than the defaults, so that a test waits seconds, not minutes, for the reconcilers to act.
SETTINGS = {"SARABUN_DEMO": "1", "SARABUN_OUTBOX_POLL_SECONDS": "0.5", "SARABUN_STUCK_AFTER_SECONDS": "20"}


def through(url: str, proxy: FaultProxy) -> str:
    """The same URL with its host and port replaced by the proxy's."""
    parts = urlsplit(url)
    user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}"))


def target_of(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"tcp://{url}")
    return parts.hostname or "127.0.0.1", parts.port or default_port


class Cluster:
    """The servers' own URLs (for the tests' direct look), their proxies, and the processes, which reach the
    servers only through the proxies: `postgres`, `rabbitmq`, `s3`, and `postgres-NAME` for a service with a
    database link of its own. Starting, killing, restarting, waiting and logs are the deployment's
    (deploy/local/processes.py): `cluster.restart("audit", SARABUN_CRASH_AT=...)`."""

    def __init__(
        self,
        database_url: str,
        bus_url: str,
        storage_url: str,
        data_dir: Path,
        proxies: dict[str, FaultProxy],
        settings: dict[str, str] | None = None,
    ):
        self.database_url, self.bus_url, self.storage_url = database_url, bus_url, storage_url
        self.proxies = proxies
        own_links = {name: proxies[f"postgres-{name}"] for name in NAMES if f"postgres-{name}" in proxies}
        self.deployment = LocalDeployment(
            through(database_url, proxies["postgres"]),
            through(bus_url, proxies["rabbitmq"]),
            through(storage_url, proxies["s3"]),
            data_dir,
            settings=SETTINGS | (settings or {}),
            per_process={name: {"SARABUN_DATABASE_URL": through(database_url, p)} for name, p in own_links.items()},
        )

    def __getattr__(self, name: str):
        if name == "deployment":  # not built yet: no attribute of it either
            raise AttributeError(name)
        return getattr(self.deployment, name)
