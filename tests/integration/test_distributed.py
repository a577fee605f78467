"""The same scenario with every service as its own OS process, on real PostgreSQL, RabbitMQ and the S3
stand-in: the distributed deployment, exercised end to end."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from deploy.local.processes import LocalDeployment, empty_queues
from services.notify.tests.support import SmtpServer
from tests.adoption import put_into_service
from tests.e2e import (
    test_actions,
    test_drafting,
    test_letter_rules,
    test_notifications,
    test_receive_stamp,
    test_registers,
    test_search,
    test_secrecy,
    test_work,
)
from tests.e2e.test_put_into_service import create_first_admin, production_env
from tests.flow import core_flow


@contextlib.contextmanager
def processes_of(database_url, amqp_url, s3_url, tmp_path, environ=None, settings=None, before=None):
    """The gateway and every service as its own process on these servers, until the block ends. `before`
    runs with the fresh deployment's environment before any process starts (e.g. an operator's command)."""
    asyncio.run(empty_queues(amqp_url))
    deployment = LocalDeployment(database_url, amqp_url, s3_url, tmp_path, environ=environ, settings=settings)
    if before:
        before(deployment.env())
    with deployment:  # a process that does not come up fails the test with the tail of its log
        yield deployment


@pytest.fixture
def deployment(fresh_postgres_url, rabbitmq_url, s3_url, tmp_path):
    demo = {"SARABUN_DEMO": "1"}
    with processes_of(fresh_postgres_url, rabbitmq_url, s3_url, tmp_path, settings=demo) as running:
        yield running


async def test_the_flow_across_separate_processes(deployment):
    async with httpx.AsyncClient(base_url=deployment.gateway, timeout=30) as api:
        try:
            letter = await core_flow(api)
        except AssertionError:
            print(deployment.logs())
            raise
        assert letter["doc_no"] == "กค 0200/1"
        for name in deployment.ports:  # every process serves the operational endpoints
            for path in ("/healthz", "/readyz", "/metrics"):
                assert (await api.get(deployment.url(name) + path)).status_code == 200


@pytest.fixture
def with_mail(fresh_postgres_url, rabbitmq_url, s3_url, tmp_path):
    """The demo deployment with its notify process sending mail to a real SMTP server in this test."""
    server = SmtpServer()
    server.start()
    settings = {
        "SARABUN_DEMO": "1",
        "SARABUN_SMTP_HOST": "127.0.0.1",
        "SARABUN_SMTP_PORT": str(server.port),
        "SARABUN_SMTP_TLS": "none",
        "SARABUN_SMTP_FROM": "สารบรรณ กรมบัญชีกลาง <saraban@cgd.example>",
        "SARABUN_PUBLIC_URL": "https://saraban.example.go.th",
    }
    try:
        with processes_of(fresh_postgres_url, rabbitmq_url, s3_url, tmp_path, settings=settings) as running:
            yield running, server
    finally:
        server.stop()


async def test_a_draft_s_line_is_told_by_mail_across_processes(with_mail):
    deployment, server = with_mail
    async with httpx.AsyncClient(base_url=deployment.gateway, timeout=60) as api:
        try:
            await test_notifications.a_draft_line_is_told(api, server)
        except AssertionError:
            print(deployment.logs())
            raise
    assert len(server.inbox.messages) == 2


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
    # Storage's signing keys and demo CA, intake's numbering at signing and the gateway's delegations, each in
    # its own process: drafted, returned, endorsed, signed by a delegate, dispatched, verified and registered.
    test_drafting.test_a_draft_goes_up_the_line_is_signed_by_a_delegate_dispatched_and_verified,
    # Routing's work on a registered letter, the gateway's people and the audit log, each in its own process:
    # proposed, ordered to a division and a deputy, registered and assigned there, closed per unit, acknowledged.
    test_work.test_a_registered_letter_goes_to_the_officer_who_acts_and_is_closed_per_unit,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__.removeprefix("test_"))
async def test_the_rules_hold_across_processes(deployment, scenario):
    """The embedded end-to-end scenarios again, on PostgreSQL, RabbitMQ and S3 with a process per service."""
    async with httpx.AsyncClient(base_url=deployment.gateway, timeout=60) as api:
        try:
            await scenario(api)
        except AssertionError:
            print(deployment.logs())
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
    async with httpx.AsyncClient(base_url=production.gateway, timeout=60) as api:
        try:
            await put_into_service(api, oidc_provider)
        except AssertionError:
            print(production.logs())
            raise
