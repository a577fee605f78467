"""Notify under faults, in the distributed deployment: its consumer is killed after committing a batch and
before acknowledging it, while the mail server is down. The broker redelivers the batch and notify's inbox
drops it; the mail waits in notify's outbox and, once the server is up, every mail arrives exactly once."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from services.notify.tests.support import SmtpServer
from tests.e2e.helpers import eventually, login, org_ids
from tests.e2e.test_drafting import a_draft
from tests.faults.conftest import running_cluster
from tests.faults.test_faults import KILLED, exited

pytestmark = pytest.mark.timeout(240)

REVIEWER = "cgd.head@sarabun.example"


@pytest.fixture(scope="module")
def mail_server():
    server = SmtpServer()  # down until the test starts it
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cluster(database_url, rabbitmq_url, s3_server, tmp_path_factory, mail_server):
    mail = {
        "SARABUN_SMTP_HOST": "127.0.0.1",
        "SARABUN_SMTP_PORT": str(mail_server.port),
        "SARABUN_SMTP_TLS": "none",
        "SARABUN_SMTP_FROM": "saraban@cgd.example",
        "SARABUN_SMTP_RETRY_SECONDS": "0.5",
        "SARABUN_SMTP_RETRY_MAX_SECONDS": "2",
    }
    with running_cluster(database_url, rabbitmq_url, s3_server, tmp_path_factory, mail) as deployment:
        yield deployment


async def test_a_killed_consumer_and_a_mail_server_down_then_up_send_each_mail_once(cluster, mail_server):
    await asyncio.to_thread(cluster.restart, "notify", SARABUN_CRASH_AT="consumer.after_commit:1")
    async with httpx.AsyncClient(base_url=cluster.gateway, timeout=30) as api:
        officer = await login(api, "cgd.officer")
        orgs = await org_ids(api, officer)
        drafts = []
        for n in range(1, 4):
            body = a_draft(orgs, reviewers=["cgd.head"], subject=f"ขอความร่วมมือ ฉบับทดสอบที่ {n}")
            made = await api.post("/api/v1/drafts", headers=officer, json=body)
            assert made.status_code == 201, made.text
            drafts.append(made.json()["id"])
            proposed = await api.post(f"/api/v1/drafts/{drafts[-1]}/propose", headers=officer)
            assert proposed.status_code == 200, proposed.text
        assert await exited(cluster, "notify") == KILLED
        await asyncio.to_thread(cluster.restart, "notify")

        head = await login(api, "cgd.head")

        async def in_the_page():
            listed = (await api.get("/api/v1/notifications", headers=head)).json()
            return len(listed["items"]) == 3 and listed

        listed = await eventually(in_the_page, within=60)
        assert sorted(item["draft_id"] for item in listed["items"]) == sorted(drafts)
        assert mail_server.inbox.messages == []  # the server is down: the mail waits

        mail_server.start()

        async def delivered():
            return len(mail_server.inbox.to(REVIEWER)) >= 3

        await eventually(delivered, within=60)
        await asyncio.sleep(3)  # a second copy, if any were coming, would be here by now
    mailed = [re.search(r"/drafts/([0-9a-f-]{36})", m.get_content()).group(1) for m in mail_server.inbox.messages]
    assert sorted(mailed) == sorted(drafts), cluster.logs("notify")
