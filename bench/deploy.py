"""The benchmark's own infrastructure: a RabbitMQ vhost, a PostgreSQL database, an S3 stand-in, a data
folder, free ports, and the gateway and four services as OS processes (deploy/local/processes.py, as the
distributed integration tests and the fault suite start them)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import asyncpg

from deploy.local.processes import LocalDeployment, empty_queues, free_port
from shared.objectstore import open_store

VHOST = os.environ.get("SARABUN_BENCH_VHOST", "sarabun-bench")
AMQP_URL = f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"
POSTGRES_ADMIN_URL = os.environ.get("SARABUN_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


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
    await empty_queues(AMQP_URL, extra)


class Infra:
    """Everything the run creates, and removes again in `close`."""

    def __init__(self) -> None:
        self.db_name = f"sarabun_bench_{uuid.uuid4().hex[:10]}"
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
        self.db_plain_url = f"{base}/{self.db_name}"
        self.db_url = self.db_plain_url.replace("postgresql://", "postgresql+asyncpg://", 1)
        self.data_dir = Path(tempfile.mkdtemp(prefix="sarabun-bench-"))
        self.s3_url = f"s3://bench:bench-secret@127.0.0.1:{free_port()}/sarabun-bench"
        self.db_created = False
        # The deployment's upload limit: high enough for the bench's largest upload.
        self.max_upload_bytes = 2 * 1024**3
        self.deployment = LocalDeployment(
            self.db_url,
            AMQP_URL,
            self.s3_url,
            self.data_dir,
            settings={"SARABUN_DEMO": "1", "SARABUN_MAX_UPLOAD_BYTES": str(self.max_upload_bytes)},
            environ=os.environ,
        )

    @property
    def gateway_url(self) -> str:
        return self.deployment.gateway

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

    async def start_s3(self) -> None:
        await asyncio.to_thread(self.deployment.start_moto)
        await open_store(self.s3_url, self.data_dir).ensure()

    async def start_deployment(self) -> None:
        await asyncio.to_thread(self.deployment.start_all)

    def pids(self) -> dict[str, int]:
        return self.deployment.pids()

    async def close(self) -> None:
        await asyncio.to_thread(self.deployment.stop)
        try:
            await self.drop_database()
        finally:
            shutil.rmtree(self.data_dir, ignore_errors=True)
