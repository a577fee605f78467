"""One distributed deployment for the fault tests of a module, behind fault proxies, with a database of its
own and empty queues; and the history its clients build up, checked after every fault."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from deploy.local.processes import empty_queues
from tests.faults.checker import DUPLICATED, LOST, UNEXPECTED, History, check
from tests.faults.cluster import Cluster, target_of
from tests.faults.proxy import FaultProxy
from tests.faults.workload import Workload


def _admin(url: str, sql: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:  # the fixture may be set up inside a running event loop
        pool.submit(asyncio.run, run()).result()


@pytest.fixture(scope="module")
def database_url(postgres_url):
    name = f"sarabun_faults_{uuid.uuid4().hex[:10]}"
    base = postgres_url.rsplit("/", 1)[0]
    admin = base.replace("postgresql+asyncpg://", "postgresql://") + "/postgres"
    _admin(admin, f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"
    _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def cluster(database_url, rabbitmq_url, s3_server, tmp_path_factory):
    with running_cluster(database_url, rabbitmq_url, s3_server, tmp_path_factory) as deployment:
        yield deployment


@contextlib.contextmanager
def running_cluster(database_url, rabbitmq_url, s3_server, tmp_path_factory, settings=None):
    """The deployment behind its proxies on empty queues, started, until the block ends; `settings` are
    SARABUN_* variables for every process besides the cluster's own."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, empty_queues(rabbitmq_url)).result()
    storage_url = f"s3://testing:testing@{s3_server}/sarabun-faults-{uuid.uuid4().hex[:8]}"
    proxies = {
        "postgres": FaultProxy(*target_of(database_url, 5432)),
        "postgres-audit": FaultProxy(*target_of(database_url, 5432)),  # audit's alone
        "rabbitmq": FaultProxy(*target_of(rabbitmq_url, 5672)),
        "s3": FaultProxy(*target_of(s3_server, 80)),
    }
    for proxy in proxies.values():
        proxy.start()
    data_dir = tmp_path_factory.mktemp("faults")
    deployment = Cluster(database_url, rabbitmq_url, storage_url, data_dir, proxies, settings)
    try:
        deployment.start_all()
        yield deployment
    finally:
        deployment.stop()
        for proxy in proxies.values():
            proxy.close()


@pytest.fixture(scope="module")
def history() -> History:
    """Everything the clients were told during the module; each test checks all of it again."""
    return History()


@pytest.fixture
async def workload(cluster, history):
    async with httpx.AsyncClient(base_url=cluster.gateway, timeout=30) as api:
        yield Workload(api, history)


async def assert_holds(workload: Workload, cluster: Cluster) -> None:
    """After the faults are healed: wait for the system to settle, then nothing lost, duplicated or
    unexpected in anything the clients were told."""
    cluster.wait_all_ready()
    await workload.quiet()
    report = check(workload.history, await workload.final_state())
    print(f"checker:\n{report}\n5xx/transport answers while retrying: {dict(workload.server_errors)}")
    failed = report.total(LOST) + report.total(DUPLICATED) + report.total(UNEXPECTED)
    assert failed == 0, f"{report}\n{cluster.logs()}"
    for name in ("intake", "routing", "storage"):  # and the reconcilers see every outbox drained

        async def drained(name=name) -> bool:
            return await metric(cluster, name, "sarabun_outbox_unsent", service=name) == 0

        assert await workload.until(drained, f"{name}'s outbox to drain"), cluster.logs(name)


async def metric(cluster: Cluster, name: str, sample: str, **labels: str) -> float | None:
    """One sample of a process's /metrics, or None when it is not there (yet)."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"http://127.0.0.1:{cluster.ports[name]}/metrics")).text
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == sample and s.labels == labels:
                return s.value
    return None
