"""Intake's internal draft routes as the gateway calls them: the shapes of their answers, and bad input as
problem+json (422, 404, 409), never a 500."""

import asyncio
import uuid

import httpx
import pytest

from services.intake import drafts_api
from services.intake.bootstrap import build
from services.intake.tests.directory import announcement, hear
from services.intake.tests.test_drafts import (
    BUDGET,
    CGD,
    CGD_CLERK,
    DEPUTY,
    DG,
    DIRECTOR,
    HEAD,
    MOF,
    OFFICER,
    RD,
    RD_CLERK,
    draft_request,
)
from shared.bus.memory import MemoryBus
from shared.principal import HEADER, Principal, internal_token
from shared.settings import Settings

VIEW_KEYS = {
    "id", "org_id", "org_name", "register_org_id", "author", "status", "version", "current", "type", "subject",
    "urgency", "secrecy", "circular", "signer", "doc_no", "doc_date", "signed_by", "signed_at", "on_behalf_of",
    "delegation_kind", "delegation_id", "letter_id", "letter_status", "signed_pdf_id", "signed_pdf_sha256",
    "created_at", "updated_at", "fields", "reviewers", "versions", "history",
}  # fmt: skip


@pytest.fixture
async def intake(tmp_path):
    settings = Settings(demo=True, data_dir=tmp_path)
    runtime = build(settings, MemoryBus())
    await runtime.start()
    await hear(
        runtime.db,
        announcement(MOF, "ministry"),
        announcement(CGD, "department", MOF),
        announcement(BUDGET, "division", CGD),
        announcement(RD, "department", MOF),
    )
    transport = httpx.ASGITransport(app=runtime.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:

        def call(who: Principal):
            async def request(method: str, path: str, **kwargs) -> httpx.Response:
                headers = {HEADER: internal_token(who, settings.service_secret)}
                return await client.request(method, path, headers=headers, **kwargs)

            return request

        yield call
    await runtime.stop()


def body(**change) -> dict:
    """A draft's JSON as the gateway sends it, with some fields replaced as given (even badly)."""
    return {**draft_request().model_dump(mode="json"), **change}


def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


async def test_the_line_through_the_routes_answers_draft_views(intake):
    officer, head, director, deputy, clerk = (intake(w) for w in (OFFICER, HEAD, DIRECTOR, DEPUTY, CGD_CLERK))
    created = ok(await officer("POST", "/drafts", json=body()), 201)
    assert set(created) == VIEW_KEYS
    assert (created["status"], created["version"], created["current"], created["author"]) == (
        "draft",
        1,
        OFFICER.user,
        OFFICER.user,
    )
    assert created["reviewers"] == [
        {"username": HEAD.user, "display_name": HEAD.user, "position": "ผู้ตรวจ", "state": "waiting"},
        {"username": DIRECTOR.user, "display_name": DIRECTOR.user, "position": "ผู้ตรวจ", "state": "waiting"},
    ]
    assert created["signer"]["state"] == "waiting" and created["fields"]["body"] == draft_request().body
    assert created["history"][0].keys() == {"type", "actor", "at", "version"}
    draft = f"/drafts/{created['id']}"

    ok(await officer("POST", f"{draft}/propose"))
    listed = ok(await head("GET", "/drafts", params={"box": "to_review"}))
    assert [d["id"] for d in listed["items"]] == [created["id"]] and listed["next_cursor"] is None
    ok(await head("POST", f"{draft}/endorse"))
    returned = ok(await director("POST", f"{draft}/return", json={"reason": "แก้ตัวเลข"}))
    assert [r["state"] for r in returned["reviewers"]] == ["waiting", "returned"]
    assert returned["history"][-1] == {**returned["history"][-1], "type": "returned", "reason": "แก้ตัวเลข"}
    v2 = ok(await officer("PUT", draft, json=body(body="ฉบับที่สอง")))
    assert (v2["version"], [v["version"] for v in v2["versions"]]) == (2, [1, 2])
    first = ok(await head("GET", f"{draft}/versions/1"))
    assert set(first) == {"version", "fields", "created_by", "created_at"} and first["fields"]["body"] != "ฉบับที่สอง"
    for who, action in ((officer, "propose"), (head, "endorse"), (director, "endorse")):
        ok(await who("POST", f"{draft}/{action}"))

    waiting = ok(await deputy("GET", "/drafts", params={"box": "to_sign", "for": [DG.user, "someone.else"]}))
    assert [d["id"] for d in waiting["items"]] == [created["id"]]
    sign = {"on_behalf_of": DG.user, "delegation_kind": "delegated", "delegation_id": str(uuid.uuid4())}
    signing = ok(await deputy("POST", f"{draft}/sign", json=sign))
    assert (signing["status"], signing["doc_no"], signing["signed_by"]) == ("signing", "กค 0402/1", DEPUTY.user)
    pdf = {"attachment_id": str(uuid.uuid4()), "sha256": "0" * 64}
    signed = ok(await deputy("POST", f"{draft}/signed", json=pdf))
    assert (signed["status"], signed["signer"]["state"], signed["letter_status"]) == ("signed", "signed", "signed")

    letter = ok(await clerk("POST", f"{draft}/dispatch"))
    sent = ok(await intake(OFFICER)("GET", f"/letters/{letter['id']}"))
    assert letter.keys() == sent.keys() and letter["status"] == "sent" and letter["doc_no"] == "กค 0402/1"
    assert [d["recipient_org_id"] for d in letter["deliveries"]] == [str(RD)]
    assert letter["attachment_ids"] == [pdf["attachment_id"]]


async def test_bad_input_is_a_clear_problem(intake):
    officer = intake(OFFICER)
    for bad, field in (
        (body(body="   "), "body"),
        ({k: v for k, v in body().items() if k != "signer"}, "signer"),
        (body(reviewers=[{"username": f"r{i}"} for i in range(11)]), "reviewers"),
        (body(reviewers=[{"username": HEAD.user}, {"username": HEAD.user}]), "reviewers"),
        (body(secrecy="top_secret"), "secrecy"),
    ):
        answer = problem(await officer("POST", "/drafts", json=bad), 422)
        assert answer["errors"][0]["field"] == field, answer
    created = ok(await officer("POST", "/drafts", json=body()), 201)
    draft = f"/drafts/{created['id']}"
    problem(await intake(RD_CLERK)("GET", draft), 404)
    problem(await officer("GET", f"/drafts/{uuid.uuid4()}"), 404)
    problem(await officer("GET", f"{draft}/versions/9"), 404)
    problem(await officer("GET", f"{draft}/versions/0"), 422)
    problem(await officer("GET", "/drafts", params={"box": "everything"}), 422)
    problem(await officer("GET", "/drafts", params={"box": "mine", "cursor": "not-a-cursor"}), 422)
    answer = problem(await officer("POST", f"{draft}/endorse"), 409)
    assert "draft" in answer["detail"] and "ร่าง" in answer["detail"]
    problem(await officer("POST", f"{draft}/return", json={"reason": ""}), 422)
    problem(await officer("POST", f"{draft}/sign", json={"on_behalf_of": DG.user}), 422)  # kind missing
    problem(await officer("POST", f"{draft}/signed", json={"attachment_id": str(uuid.uuid4()), "sha256": "x"}), 422)


async def test_two_endorsements_at_once_one_wins(intake):
    officer, head = intake(OFFICER), intake(HEAD)
    created = ok(await officer("POST", "/drafts", json=body()), 201)
    draft = f"/drafts/{created['id']}"
    ok(await officer("POST", f"{draft}/propose"))
    answers = await asyncio.gather(*(head("POST", f"{draft}/endorse") for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [200, 409]
    history = ok(await officer("GET", draft))["history"]
    assert [h["type"] for h in history] == ["created", "proposed", "endorsed"]


async def test_every_draft_route_answers_only_the_gateway(tmp_path):
    runtime = build(Settings(demo=True, data_dir=tmp_path), MemoryBus())
    await runtime.start()
    try:
        transport = httpx.ASGITransport(app=runtime.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            for route in drafts_api.router.routes:
                path = route.path.format(draft_id=uuid.uuid4(), version=1)
                for method in route.methods:
                    answer = await client.request(method, path, params={"box": "mine"}, json={})
                    assert problem(answer, 401)["detail"] == "ต้องเรียกผ่านเกตเวย์ (service token required)"
    finally:
        await runtime.stop()
