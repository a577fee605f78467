"""Notifications through the public API, the whole system in one process with a real SMTP server on loopback:
an officer proposes a draft, the section head is told by e-mail that it waits for his review; he endorses it
and the director-general is told it awaits his signature. Each reads the mail back from the server and the
in-page list, marks one read, and chooses a daily digest instead; an event delivered again sends no second
mail. The walk of a received letter from the registry to the officer who acts, with each person's mail read
back: the ones they chose, once, even with the orders delivered again. Then the bad requests: each a clear
4xx."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from services.intake.adapters.tables import outbox as intake_outbox
from services.launcher import embedded
from services.notify.tests.support import SmtpServer, header
from services.routing.adapters.tables import outbox as routing_outbox
from shared import thai
from shared.contracts import Envelope
from shared.settings import Settings
from tests.e2e import test_work
from tests.e2e.helpers import eventually, login, org_ids
from tests.e2e.test_drafting import a_draft, ok, step


@pytest.fixture
async def mail_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def api(tmp_path, mail_server):
    settings = Settings(
        demo=True,
        data_dir=tmp_path,
        consumer_retry_seconds=0.05,
        outbox_poll_seconds=0.05,
        smtp_host="127.0.0.1",
        smtp_port=mail_server.port,
        smtp_tls="none",
        smtp_from="สารบรรณ กรมบัญชีกลาง <saraban@cgd.example>",
        public_url="https://saraban.example.go.th",
    )
    deployment = embedded(settings)
    await deployment.start()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=deployment.app), base_url="http://sarabun") as c:
        c.deployment = deployment
        yield c
    await deployment.stop()


async def mail_to(server: SmtpServer, address: str, count: int = 1):
    async def arrived():
        found = server.inbox.to(address)
        return found if len(found) >= count else None

    return await eventually(arrived)


async def a_draft_line_is_told(api: httpx.AsyncClient, mail_server: SmtpServer) -> dict:
    """The scenario, in both modes: the reviewer, then the signer, told by mail and in the page."""
    officer, head, dg = [await login(api, name) for name in ("cgd.officer", "cgd.head", "cgd.dg")]
    orgs = await org_ids(api, officer)
    draft = await ok(await api.post("/api/v1/drafts", headers=officer, json=a_draft(orgs, reviewers=["cgd.head"])), 201)
    await step(api, officer, draft["id"], "propose")

    (mail,) = await mail_to(mail_server, "cgd.head@sarabun.example")
    assert "รอท่านพิจารณา" in mail["Subject"] and header(mail, "From") == "สารบรรณ กรมบัญชีกลาง <saraban@cgd.example>"
    body = mail.get_content()
    assert body.index("รอท่านพิจารณา") < body.index("waits for your review")
    assert f"https://saraban.example.go.th/drafts/{draft['id']}" in body

    listed = await ok(await api.get("/api/v1/notifications", headers=head))
    assert listed["unread"] == 1
    (item,) = listed["items"]
    assert (item["kind"], item["draft_id"], item["read"]) == ("draft_to_review", draft["id"], False)
    assert item["link"] == f"/drafts/{draft['id']}" and str(thai.buddhist_year()) in item["created_at_th"]
    read = await ok(await api.post(f"/api/v1/notifications/{item['id']}/read", headers=head))
    assert read["read"] is True
    assert (await ok(await api.get("/api/v1/notifications", headers=head)))["unread"] == 0
    # Someone else's notification does not exist for the reader.
    other = await api.post(f"/api/v1/notifications/{item['id']}/read", headers=dg)
    assert other.status_code == 404 and other.headers["content-type"].startswith("application/problem+json")

    await step(api, head, draft["id"], "endorse")
    (signature,) = await mail_to(mail_server, "cgd.dg@sarabun.example")
    assert "รอท่านลงนาม" in signature["Subject"]
    return dg


async def test_reviewer_and_signer_are_told_by_mail_and_in_the_page_once(api, mail_server):
    dg = await a_draft_line_is_told(api, mail_server)

    # The endorsement's event delivered again, as a broker does after a lost acknowledgement: nobody is told
    # twice and no second mail goes out.
    endorsed = await _published(api, "draft.endorsed.v1")
    before = _duplicates()
    await api.deployment.bus.publish(endorsed)
    await api.deployment.bus.publish(endorsed)
    await eventually(lambda: _at_least(before + 2))
    notify = api.deployment.services["notify"]
    await notify.app.state.mail_relay.relay_once()
    assert len(mail_server.inbox.to("cgd.dg@sarabun.example")) == 1
    assert [i["kind"] for i in (await ok(await api.get("/api/v1/notifications", headers=dg)))["items"]] == [
        "awaiting_signature"
    ]


async def test_the_work_walk_mails_each_person_what_they_chose_and_once(api, mail_server):
    """The walk of tests/e2e/test_work.py with mail: the director-general and the division's head are told of
    the proposals, the officer of his assignment and the director of the reply awaiting his signature, each by
    e-mail at once; the deputy chose a daily digest for what is given him for information, so he finds it in the
    page and gets no mail now. The orders delivered again send nothing more."""
    deputy = await login(api, "cgd.deputy")
    chosen = {"choices": {"for_information": "digest"}}
    await ok(await api.put("/api/v1/me/notifications", headers=deputy, json=chosen))

    await test_work.test_a_registered_letter_goes_to_the_officer_who_acts_and_is_closed_per_unit(api)

    expected = {
        "cgd.dg@sarabun.example": "เสนอท่านพิจารณา",
        "cgd.head@sarabun.example": "เสนอท่านพิจารณา",
        "cgd.officer@sarabun.example": "ท่านได้รับมอบหมายให้ดำเนินการ",
        "cgd.director@sarabun.example": "รอท่านลงนาม",
    }
    for address, says in expected.items():
        (mail,) = await mail_to(mail_server, address)
        assert says in mail["Subject"], (address, mail["Subject"])
    proposal = (await mail_to(mail_server, "cgd.dg@sarabun.example"))[0].get_content()
    assert "ขอให้รายงานผลการเบิกจ่ายงบประมาณ" in proposal  # the letter's subject: it is not classified
    assigned = (await mail_to(mail_server, "cgd.officer@sarabun.example"))[0].get_content()
    assert "กำหนดเสร็จ" in assigned and "https://saraban.example.go.th/worklist" in assigned
    assert mail_server.inbox.to("cgd.deputy@sarabun.example") == []
    told = (await ok(await api.get("/api/v1/notifications", headers=deputy)))["items"]
    assert [i["kind"] for i in told] == ["for_information"]

    orders = await _published(api, "delivery.ordered.v1", "routing")
    before = _duplicates()
    for order in orders:
        await api.deployment.bus.publish(order)
    await eventually(lambda: _at_least(before + len(orders)))
    await api.deployment.services["notify"].app.state.mail_relay.relay_once()
    assert len(mail_server.inbox.to("cgd.officer@sarabun.example")) == 1
    assert len(mail_server.inbox.messages) == len(expected)


async def _published(api, event_type: str, service: str = "intake") -> Envelope | list[Envelope]:
    """The event as intake published it, from its outbox; or every one of that type a service published."""
    tables = {"intake": intake_outbox, "routing": routing_outbox}
    outbox = tables[service]
    async with api.deployment.services[service].db.read() as session:
        bodies = (await session.execute(select(outbox.c.body).where(outbox.c.type == event_type))).scalars().all()
    found = [Envelope.model_validate_json(body) for body in bodies]
    if service == "intake":
        (only,) = found
        return only
    return found


def _duplicates() -> float:
    """Messages notify's consumer has recognised as handled before (its inbox), in this process."""
    labels = {"consumer": "notify.events", "outcome": "duplicate"}
    return REGISTRY.get_sample_value("sarabun_inbox_handled_total", labels) or 0.0


async def _at_least(count: float) -> bool:
    return _duplicates() >= count


async def test_choices_are_one_s_own_and_checked(api):
    deputy = await login(api, "cgd.deputy")
    settings = await ok(await api.get("/api/v1/me/notifications", headers=deputy))
    assert set(settings["choices"].values()) == {"immediate"} and settings["email"] == "cgd.deputy@sarabun.example"
    assert settings["email_enabled"] is True and len(settings["kinds"]) == 8
    changed = await ok(
        await api.put("/api/v1/me/notifications", headers=deputy, json={"choices": {"for_information": "digest"}})
    )
    assert changed["choices"]["for_information"] == "digest" and changed["choices"]["assigned_to_you"] == "immediate"
    other = await ok(await api.get("/api/v1/me/notifications", headers=await login(api, "cgd.dg")))
    assert other["choices"]["for_information"] == "immediate"

    for bad in (
        {"choices": {"lunch_is_ready": "immediate"}},
        {"choices": {"for_information": "sometimes"}},
        {"choices": "all"},
        {"choices": {}, "extra": 1},
    ):
        refused = await api.put("/api/v1/me/notifications", headers=deputy, json=bad)
        assert refused.status_code == 422, bad
        assert refused.headers["content-type"].startswith("application/problem+json")
    for cursor in ("yesterday", "0001-01-01T00:00:00+14:00_" + "0" * 32, "2026-12-01T10:00:00_" + "0" * 32):
        bad_cursor = await api.get("/api/v1/notifications", params={"cursor": cursor}, headers=deputy)
        assert bad_cursor.status_code == 422, cursor
    assert (await api.get("/api/v1/notifications")).status_code == 401
