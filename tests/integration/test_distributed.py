"""The same scenario with every service as its own OS process, on real PostgreSQL, RabbitMQ and the S3
stand-in: the distributed deployment, exercised end to end."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time

import aio_pika
import httpx
import pytest

from shared.topology import QUEUES, dead_letter_queue, retry_queue
from tests.adoption import put_into_service
from tests.e2e import test_actions, test_letter_rules, test_receive_stamp, test_registers, test_search, test_secrecy
from tests.e2e.test_put_into_service import create_first_admin, production_env
from tests.flow import core_flow

SERVICES = ("intake", "routing", "storage", "audit")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def fresh_topology(amqp_url: str) -> None:
    """Start from empty queues so messages of an earlier run cannot leak into this one."""
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    for queue in QUEUES:
        for name in (queue, retry_queue(queue), dead_letter_queue(queue)):
            await channel.queue_delete(name)
    await connection.close()


def wait_ready(url: str, processes: dict, logs, within: float = 90.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}:\n{logs(name)}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    pytest.fail(f"{url} not ready within {within}s:\n" + "\n".join(logs(n) for n in processes))


@contextlib.contextmanager
def processes_of(database_url, amqp_url, s3_url, tmp_path, env: dict[str, str], before=None):
    """The gateway and every service as its own process on these servers, until the block ends. `before`
    runs against the fresh deployment's settings before any process starts (e.g. an operator's command)."""
    asyncio.run(fresh_topology(amqp_url))
    ports = {name: free_port() for name in (*SERVICES, "gateway")}
    env = {
        **env,
        "SARABUN_DATABASE_URL": database_url,
        "SARABUN_BUS_URL": amqp_url,
        "SARABUN_STORAGE_URL": s3_url,
        "SARABUN_DATA_DIR": str(tmp_path),
        "SARABUN_PORT": str(ports["gateway"]),
        "SARABUN_INTAKE_URL": f"http://127.0.0.1:{ports['intake']}",
        "SARABUN_ROUTING_URL": f"http://127.0.0.1:{ports['routing']}",
        "SARABUN_STORAGE_URL_INTERNAL": f"http://127.0.0.1:{ports['storage']}",
        "SARABUN_AUDIT_URL": f"http://127.0.0.1:{ports['audit']}",
    }
    if before:
        before(env)
    processes: dict[str, subprocess.Popen] = {}

    def logs(name: str) -> str:
        path = tmp_path / f"{name}.log"
        return f"--- {name} ---\n" + (path.read_text()[-3000:] if path.exists() else "")

    try:
        for name in (*SERVICES, "gateway"):  # the gateway last, as up-local does; order is not required
            log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", "services.launcher", "serve", name, "--port", str(ports[name])],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        for name in (*SERVICES, "gateway"):
            wait_ready(f"http://127.0.0.1:{ports[name]}", processes, logs)
        yield ports, processes, logs
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def deployment(fresh_postgres_url, rabbitmq_url, s3_url, tmp_path):
    demo = {**os.environ, "SARABUN_DEMO": "1"}
    with processes_of(fresh_postgres_url, rabbitmq_url, s3_url, tmp_path, demo) as running:
        yield running


async def test_the_flow_across_separate_processes(deployment):
    ports, processes, logs = deployment
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['gateway']}", timeout=30) as api:
        try:
            letter = await core_flow(api)
        except AssertionError:
            print("\n".join(logs(name) for name in processes))
            raise
        assert letter["doc_no"] == "กค 0200/1"
        for port in ports.values():  # every process serves the operational endpoints
            for path in ("/healthz", "/readyz", "/metrics"):
                assert (await api.get(f"http://127.0.0.1:{port}{path}")).status_code == 200


SCENARIOS = [
    test_actions.test_recall_only_from_recipients_that_have_not_registered,
    test_actions.test_forward_a_registered_letter_and_the_new_unit_registers_it,
    test_actions.test_a_circular_to_the_department_group_and_who_has_not_registered,
    test_letter_rules.test_one_hundred_letters_sent_at_once_are_numbered_1_to_100,
    test_letter_rules.test_one_hundred_receipts_at_once_are_numbered_1_to_100,
    test_receive_stamp.test_a_received_letter_has_a_stamped_copy_for_the_receiving_unit_only,
    test_registers.test_the_send_register_lists_both_series_by_number,
    test_search.test_a_mid_word_thai_fragment_finds_the_letter_in_inbox_and_outbox,
    test_secrecy.test_a_secret_letter_is_masked_for_uncleared_users_and_views_are_audited,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__.removeprefix("test_"))
async def test_the_rules_hold_across_processes(deployment, scenario):
    """The embedded end-to-end scenarios again, on PostgreSQL, RabbitMQ and S3 with a process per service."""
    ports, processes, logs = deployment
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['gateway']}", timeout=60) as api:
        try:
            await scenario(api)
        except AssertionError:
            print("\n".join(logs(name) for name in processes))
            raise


@pytest.fixture
def production(fresh_postgres_url, rabbitmq_url, s3_url, tmp_path, oidc_provider):
    """SARABUN_DEMO unset, real secrets, `sarabun admin create` on the fresh PostgreSQL database before any
    process starts, sign-in through a real OpenID Connect provider."""
    env = production_env(
        SARABUN_OIDC_ISSUER=oidc_provider,
        SARABUN_OIDC_CLIENT_ID="sarabun",
        SARABUN_OIDC_CLIENT_SECRET="client-secret-of-this-agency",
    )
    with processes_of(fresh_postgres_url, rabbitmq_url, s3_url, tmp_path, env, before=create_first_admin) as running:
        yield running


async def test_an_agency_puts_sarabun_into_service_across_processes(production, oidc_provider):
    """tests/adoption.py with a process per service on PostgreSQL, RabbitMQ and S3."""
    ports, processes, logs = production
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['gateway']}", timeout=60) as api:
        try:
            await put_into_service(api, oidc_provider)
        except AssertionError:
            print("\n".join(logs(name) for name in processes))
            raise
