"""The distributed deployment as OS processes on this machine: the gateway and the five services, each
`python -m services.launcher serve NAME --port P`, and moto's S3 server when the object store is to be local.
The distributed integration tests, the fault suite (which passes URLs that lead through its fault proxies)
and the benchmark all start, kill, restart and stop their deployments with it. deploy/local/up.sh does the
same for an operator, with pid files so that another shell can stop it.

    with LocalDeployment(database_url, bus_url, storage_url, data_dir, settings={"SARABUN_DEMO": "1"}) as d:
        httpx.get(d.gateway + "/readyz")
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import httpx

SERVICES = ("intake", "routing", "storage", "audit", "notify")
NAMES = (*SERVICES, "gateway")  # the gateway last, as up-local starts it; the order is not required
ROOT = Path(__file__).resolve().parents[2]
MOTO = "moto"


class NotReady(RuntimeError):
    """A process exited or did not answer /readyz in time; the message carries the tail of its log."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def empty_queues(bus_url: str, extra: Iterable[str] = ()) -> None:
    """Deletes Sarabun's queues (with their retry and dead-letter queues) and `extra` on the broker, so that
    messages of an earlier run cannot leak into this one; the services declare them again at start-up."""
    import aio_pika

    from shared.topology import QUEUES, dead_letter_queue, retry_queue

    connection = await aio_pika.connect(bus_url, timeout=10)
    try:
        channel = await connection.channel()
        for queue in QUEUES:
            for name in (queue, retry_queue(queue), dead_letter_queue(queue)):
                await channel.queue_delete(name)
        for name in extra:
            await channel.queue_delete(name)
    finally:
        await connection.close()


class LocalDeployment:
    """The processes of one deployment on the given database, bus and object store. `settings` (SARABUN_*
    variables) apply to every process, `per_process` to one of them (e.g. audit's own database URL); the
    environment they are added to is `environ`, by default this process's without any SARABUN_ variable, so
    that a developer's shell cannot change the deployment. Logs go to `data_dir`/NAME.log."""

    def __init__(
        self,
        database_url: str,
        bus_url: str,
        storage_url: str,
        data_dir: Path,
        *,
        settings: Mapping[str, str] | None = None,
        per_process: Mapping[str, Mapping[str, str]] | None = None,
        environ: Mapping[str, str] | None = None,
        ports: Mapping[str, int] | None = None,
    ) -> None:
        self.database_url, self.bus_url, self.storage_url = database_url, bus_url, storage_url
        self.data_dir = Path(data_dir)
        self.settings = dict(settings or {})
        self.per_process = {name: dict(values) for name, values in (per_process or {}).items()}
        if environ is None:
            environ = {k: v for k, v in os.environ.items() if not k.startswith("SARABUN_")}
        self.environ = dict(environ)
        self.ports = {name: free_port() for name in NAMES} | dict(ports or {})
        self.processes: dict[str, subprocess.Popen] = {}

    def __enter__(self) -> LocalDeployment:
        try:
            self.start_all()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_) -> None:
        self.stop()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def gateway(self) -> str:
        return self.url("gateway")

    def env(self, name: str = "gateway", **extra: str) -> dict[str, str]:
        """The environment NAME's process starts with (also right for a CLI command on this deployment)."""
        return {
            **self.environ,
            "SARABUN_DATABASE_URL": self.database_url,
            "SARABUN_BUS_URL": self.bus_url,
            "SARABUN_STORAGE_URL": self.storage_url,
            "SARABUN_DATA_DIR": str(self.data_dir),
            "SARABUN_PORT": str(self.ports["gateway"]),
            "SARABUN_INTAKE_URL": self.url("intake"),
            "SARABUN_ROUTING_URL": self.url("routing"),
            "SARABUN_STORAGE_URL_INTERNAL": self.url("storage"),
            "SARABUN_AUDIT_URL": self.url("audit"),
            "SARABUN_NOTIFY_URL": self.url("notify"),
            **self.settings,
            **self.per_process.get(name, {}),
            **extra,
        }

    # --- starting --------------------------------------------------------------------------------------

    def start(self, name: str, **extra_env: str) -> None:
        """Starts NAME without waiting for it; `extra_env` applies to this start only (e.g. a crash point)."""
        command = [sys.executable, "-m", "services.launcher", "serve", name, "--port", str(self.ports[name])]
        self._spawn(name, command, self.env(name, **extra_env))

    def start_all(self, within: float = 120.0) -> None:
        for name in NAMES:
            self.start(name)
        self.wait_ready(*NAMES, within=within)

    def start_moto(self, within: float = 60.0) -> None:
        """moto's S3 server on the host and port of the storage URL (it keeps objects in memory)."""
        parts = urlsplit(self.storage_url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        moto = Path(sys.executable).parent / "moto_server"
        self._spawn(MOTO, [str(moto), "-H", host, "-p", str(port)], dict(os.environ))
        self._wait(MOTO, f"http://{host}:{port}/", lambda status: status < 500, within)

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Appended, so that a restarted process's log still shows why the last one ended.
        with open(self.data_dir / f"{name}.log", "a") as log:  # the child keeps its own copy of the file
            log.write(f"\n=== {time.strftime('%H:%M:%S')} starting {' '.join(command[1:])} ===\n")
            log.flush()
            self.processes[name] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)

    # --- waiting ---------------------------------------------------------------------------------------

    def wait_ready(self, *names: str, within: float = 120.0) -> None:
        """Until every named process (all six by default) answers 200 on /readyz. Raises NotReady, with the
        log's tail, as soon as one of them exits, or for those still not ready after `within` seconds."""
        pending = list(names or NAMES)
        deadline = time.monotonic() + within
        with httpx.Client(timeout=5) as client:
            while pending:
                for name in list(pending):
                    if self._answers(client, name, f"{self.url(name)}/readyz", lambda status: status == 200):
                        pending.remove(name)
                if pending and time.monotonic() >= deadline:
                    raise NotReady(f"not ready within {within:.0f} s: {', '.join(pending)}\n{self.logs(*pending)}")
                if pending:
                    time.sleep(0.25)

    def wait_all_ready(self, within: float = 120.0) -> None:
        self.wait_ready(*NAMES, within=within)

    def _wait(self, name: str, url: str, ok, within: float) -> None:
        deadline = time.monotonic() + within
        with httpx.Client(timeout=5) as client:
            while not self._answers(client, name, url, ok):
                if time.monotonic() >= deadline:
                    raise NotReady(f"{name} not ready within {within:.0f} s\n{self.logs(name)}")
                time.sleep(0.25)

    def _answers(self, client: httpx.Client, name: str, url: str, ok) -> bool:
        process = self.processes[name]
        if process.poll() is not None:
            raise NotReady(f"{name} exited with {process.returncode}\n{self.logs(name)}")
        try:
            return ok(client.get(url).status_code)
        except httpx.HTTPError:
            return False

    def wait_exit(self, name: str, within: float = 120.0) -> int:
        """Waits for a process to end by itself (e.g. a crash point fired) and returns its exit status."""
        return self.processes[name].wait(timeout=within)

    # --- faults and stopping ---------------------------------------------------------------------------

    def kill(self, name: str) -> None:
        """SIGKILL: the process gets no chance to finish anything, as in a crash."""
        process = self.processes[name]
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def restart(self, name: str, within: float = 120.0, **extra_env: str) -> None:
        self.kill(name)
        self.start(name, **extra_env)
        self.wait_ready(name, within=within)

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM to the gateway and the services together, SIGKILL to any still running after `grace`
        seconds; then moto the same way, so that no service loses its object store while shutting down."""
        self._stop([n for n in self.processes if n != MOTO], grace)
        self._stop([n for n in self.processes if n == MOTO], grace)
        self.processes.clear()

    def _stop(self, names: list[str], grace: float) -> None:
        running = [self.processes[n] for n in names if self.processes[n].poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + grace
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)

    # --- what to look at -------------------------------------------------------------------------------

    def pids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self.processes.items() if process.poll() is None}

    def logs(self, *names: str, tail: int = 4000) -> str:
        """The last `tail` characters of each named process's log (every process's by default)."""
        out = []
        for name in names or tuple(self.processes) or NAMES:
            path = self.data_dir / f"{name}.log"
            out.append(f"--- {name} ---\n" + (path.read_text(errors="replace")[-tail:] if path.exists() else ""))
        return "\n".join(out)
