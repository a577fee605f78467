"""The benchmark's own infrastructure: a RabbitMQ vhost, a PostgreSQL database, an S3 stand-in, a data
folder, free ports, and the gateway and four services as OS processes (as tests/integration does)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aio_pika
import asyncpg
import httpx

from shared.objectstore import open_store
from shared.topology import QUEUES, dead_letter_queue, retry_queue

VHOST = os.environ.get("SARABUN_BENCH_VHOST", "sarabun-bench")
AMQP_URL = f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"
POSTGRES_ADMIN_URL = os.environ.get("SARABUN_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SERVICES = ("intake", "routing", "storage", "audit")
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_vhost() -> None:
    """Creates the bench vhost once and grants guest on it; the default vhost is never touched."""
    listed = subprocess.run(
        ["rabbitmqctl", "list_vhosts", "-q", "--no-table-headers"], capture_output=True, text=True, timeout=60
    )
    if listed.returncode != 0:
        raise RuntimeError(f"rabbitmqctl list_vhosts failed: {listed.stderr.strip()}")
    if VHOST not in listed.stdout.split():
        subprocess.run(["rabbitmqctl", "add_vhost", VHOST], check=True, capture_output=True, timeout=60)
    subprocess.run(
        ["rabbitmqctl", "set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
        timeout=60,
    )


async def clear_vhost_queues(extra: tuple[str, ...] = ()) -> None:
    """Empties the bench vhost of Sarabun's queues, so nothing of an earlier run leaks into this one."""
    assert AMQP_URL.endswith("/" + VHOST)
    connection = await aio_pika.connect(AMQP_URL, timeout=10)
    try:
        channel = await connection.channel()
        for queue in QUEUES:
            for name in (queue, retry_queue(queue), dead_letter_queue(queue)):
                await channel.queue_delete(name)
        for name in extra:
            await channel.queue_delete(name)
    finally:
        await connection.close()


class Infra:
    """Everything the run creates, and removes again in `close`."""

    def __init__(self) -> None:
        self.db_name = f"sarabun_bench_{uuid.uuid4().hex[:10]}"
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
        self.db_plain_url = f"{base}/{self.db_name}"
        self.db_url = self.db_plain_url.replace("postgresql://", "postgresql+asyncpg://", 1)
        self.data_dir = Path(tempfile.mkdtemp(prefix="sarabun-bench-"))
        self.s3_port = free_port()
        self.s3_url = f"s3://bench:bench-secret@127.0.0.1:{self.s3_port}/sarabun-bench"
        self.ports = {name: free_port() for name in (*SERVICES, "gateway")}
        self.processes: dict[str, subprocess.Popen] = {}
        self.db_created = False
        # The deployment's upload limit: high enough for the bench's largest upload.
        self.max_upload_bytes = 2 * 1024**3

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    async def create_database(self) -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{self.db_name}"')
            self.db_created = True
        finally:
            await conn.close()

    async def drop_database(self) -> None:
        if not self.db_created:
            return
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            self.db_created = False
        finally:
            await conn.close()

    def _spawn(self, name: str, args: list[str], env: dict) -> None:
        log = open(self.data_dir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.data_dir / f"{name}.log"
        return f"--- {name} ---\n" + (path.read_text(errors="replace")[-chars:] if path.exists() else "")

    async def start_s3(self, within: float = 60.0) -> None:
        moto = Path(sys.executable).parent / "moto_server"
        self._spawn("moto", [str(moto), "-H", "127.0.0.1", "-p", str(self.s3_port)], dict(os.environ))
        await self._wait_http(f"http://127.0.0.1:{self.s3_port}/", "moto", within, path_ok=lambda s: s < 500)
        await open_store(self.s3_url, self.data_dir).ensure()

    async def start_deployment(self, within: float = 90.0) -> None:
        env = {
            **os.environ,
            "SARABUN_DEMO": "1",
            "SARABUN_DATABASE_URL": self.db_url,
            "SARABUN_BUS_URL": AMQP_URL,
            "SARABUN_STORAGE_URL": self.s3_url,
            "SARABUN_DATA_DIR": str(self.data_dir),
            "SARABUN_PORT": str(self.ports["gateway"]),
            "SARABUN_INTAKE_URL": f"http://127.0.0.1:{self.ports['intake']}",
            "SARABUN_ROUTING_URL": f"http://127.0.0.1:{self.ports['routing']}",
            "SARABUN_STORAGE_URL_INTERNAL": f"http://127.0.0.1:{self.ports['storage']}",
            "SARABUN_AUDIT_URL": f"http://127.0.0.1:{self.ports['audit']}",
            "SARABUN_MAX_UPLOAD_BYTES": str(self.max_upload_bytes),
        }
        for name in (*SERVICES, "gateway"):  # the gateway last, as up-local does
            args = [sys.executable, "-m", "services.launcher", "serve", name, "--port", str(self.ports[name])]
            self._spawn(name, args, env)
        for name in (*SERVICES, "gateway"):
            await self._wait_http(f"http://127.0.0.1:{self.ports[name]}/readyz", name, within)

    def pids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self.processes.items() if process.poll() is None}

    async def _wait_http(self, url: str, name: str, within: float, path_ok=lambda s: s == 200) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                for proc_name, process in self.processes.items():
                    if process.poll() is not None:
                        raise RuntimeError(f"{proc_name} exited with {process.returncode}\n{self.log_tail(proc_name)}")
                try:
                    if path_ok((await client.get(url)).status_code):
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.25)
        raise RuntimeError(f"{name} not ready within {within}s\n{self.log_tail(name)}")

    def stop_processes(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.processes.clear()

    async def close(self) -> None:
        self.stop_processes()
        try:
            await self.drop_database()
        finally:
            shutil.rmtree(self.data_dir, ignore_errors=True)
