"""The distributed deployment under test: one OS process per service, reaching PostgreSQL, RabbitMQ and the
S3 stand-in through fault proxies, so a test can kill and restart any process and cut or stall any link."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from tests.faults.proxy import FaultProxy, _free_port

SERVICES = ("intake", "routing", "storage", "audit")
NAMES = (*SERVICES, "gateway")


def through(url: str, proxy: FaultProxy) -> str:
    """The same URL with its host and port replaced by the proxy's."""
    parts = urlsplit(url)
    user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}"))


def target_of(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"tcp://{url}")
    return parts.hostname or "127.0.0.1", parts.port or default_port


@dataclass
class Cluster:
    database_url: str
    bus_url: str
    storage_url: str
    data_dir: Path
    proxies: dict[str, FaultProxy]
    ports: dict[str, int] = field(default_factory=lambda: {name: _free_port() for name in NAMES})
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def env(self, name: str, **extra: str) -> dict[str, str]:
        """A service reaches the database through its own proxy when there is one (`postgres-audit`)."""
        database = self.proxies.get(f"postgres-{name}", self.proxies["postgres"])
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("SARABUN_")},
            "SARABUN_DEMO": "1",
            "SARABUN_DATABASE_URL": through(self.database_url, database),
            "SARABUN_BUS_URL": through(self.bus_url, self.proxies["rabbitmq"]),
            "SARABUN_STORAGE_URL": through(self.storage_url, self.proxies["s3"]),
            "SARABUN_DATA_DIR": str(self.data_dir),
            "SARABUN_PORT": str(self.ports["gateway"]),
            "SARABUN_OUTBOX_POLL_SECONDS": "0.5",
            "SARABUN_STUCK_AFTER_SECONDS": "20",
            "SARABUN_INTAKE_URL": f"http://127.0.0.1:{self.ports['intake']}",
            "SARABUN_ROUTING_URL": f"http://127.0.0.1:{self.ports['routing']}",
            "SARABUN_STORAGE_URL_INTERNAL": f"http://127.0.0.1:{self.ports['storage']}",
            "SARABUN_AUDIT_URL": f"http://127.0.0.1:{self.ports['audit']}",
            **extra,
        }

    def start(self, name: str, **extra_env: str) -> None:
        log = open(self.data_dir / f"{name}.log", "a")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "services.launcher", "serve", name, "--port", str(self.ports[name])],
            env=self.env(name, **extra_env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start_all(self) -> None:
        for name in NAMES:
            self.start(name)
        for name in NAMES:
            self.wait_ready(name)

    def kill(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def restart(self, name: str, **extra_env: str) -> None:
        self.kill(name)
        self.start(name, **extra_env)
        self.wait_ready(name)

    def wait_exit(self, name: str, within: float = 120.0) -> int:
        """Waits for a process to end by itself (a crash point fired) and returns its exit status."""
        return self.processes[name].wait(timeout=within)

    def wait_ready(self, name: str, within: float = 120.0) -> None:
        url = f"http://127.0.0.1:{self.ports[name]}/readyz"
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise AssertionError(f"{name} exited with {self.processes[name].returncode}\n{self.logs(name)}")
            try:
                if httpx.get(url, timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise AssertionError(f"{name} not ready within {within}s\n{self.logs(name)}")

    def wait_all_ready(self, within: float = 120.0) -> None:
        for name in NAMES:
            self.wait_ready(name, within)

    def logs(self, *names: str, tail: int = 4000) -> str:
        out = []
        for name in names or NAMES:
            path = self.data_dir / f"{name}.log"
            out.append(f"--- {name} ---\n" + (path.read_text(errors="replace")[-tail:] if path.exists() else ""))
        return "\n".join(out)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
