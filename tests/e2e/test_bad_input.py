"""Every mistake a user can make answers 4xx problem+json and changes nothing."""

import uuid

import pytest

from tests.e2e.helpers import eventually, inbox_item, login, org_ids


def assert_problem(response, status: int):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]


@pytest.mark.parametrize(
    "change",
    [
        {"recipient_org_ids": []},
        {"recipient_org_ids": [str(uuid.uuid4())]},
        {"attachment_ids": [str(uuid.uuid4())]},
        {"urgency": "yesterday"},
        {"secrecy": "very_secret"},
        {"type": "postcard"},
        {"subject": ""},
        {"subject": "   "},
        {"secrecy": "top_secret"},
        {"recipient_org_ids": ["not-a-uuid"]},
        {"unexpected_field": 1},
    ],
)
async def test_refused_letters_answer_422_and_take_no_number(api, change):
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    body = {"type": "external", "subject": "เรื่องทดสอบ", "recipient_org_ids": [orgs["cgd"]], **change}
    assert_problem(await api.post("/api/v1/letters", headers=ops, json=body), 422)
    good = await api.post("/api/v1/letters", headers=ops, json=_valid_parts(orgs))
    assert good.json()["doc_no"] == "กค 0200/1"  # the refused attempt consumed no number


def _valid_parts(orgs):
    return {
        "type": "external",
        "subject": "เรื่องทดสอบ",
        "recipient_org_ids": [orgs["cgd"]],
        "urgency": "normal",
        "secrecy": "normal",
        "attachment_ids": [],
    }


async def test_top_secret_cites_the_rule(api):
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    body = {"type": "external", "subject": "ลับ", "recipient_org_ids": [orgs["cgd"]], "secrecy": "top_secret"}
    response = await api.post("/api/v1/letters", headers=ops, json=body)
    assert_problem(response, 422)
    assert "ข้อ 29" in response.json()["detail"]


async def test_malformed_json_and_ids(api):
    ops = await login(api, "ops.clerk")
    raw = await api.post("/api/v1/letters", headers={**ops, "content-type": "application/json"}, content=b"{nope")
    assert_problem(raw, 422)
    assert_problem(await api.get("/api/v1/letters/12345", headers=ops), 422)
    assert_problem(await api.post("/api/v1/deliveries/xyz/receive", headers=ops), 422)


async def test_other_agencies_things_are_not_found(api):
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    body = {"type": "external", "subject": "ถึงกรมบัญชีกลาง", "recipient_org_ids": [orgs["cgd"]]}
    letter = (await api.post("/api/v1/letters", headers=ops, json=body)).json()
    cgd, rd = await login(api, "cgd.clerk"), await login(api, "rd.clerk")
    item = await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    assert_problem(await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=rd), 404)
    assert_problem(await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=ops), 404)
    assert_problem(await api.get(f"/api/v1/letters/{letter['id']}", headers=rd), 404)
    assert_problem(await api.get(f"/api/v1/letters/{uuid.uuid4()}", headers=ops), 404)
    mine = (await api.get(f"/api/v1/letters/{letter['id']}", headers=cgd)).json()
    assert [d["id"] for d in mine["deliveries"]] == [item["delivery_id"]]


async def test_sign_in_mistakes(api):
    assert_problem(await api.post("/api/v1/auth/token", data={"username": "ops.clerk", "password": "wrong"}), 401)
    assert_problem(await api.post("/api/v1/auth/token", data={"username": "nobody", "password": "x"}), 401)
    assert_problem(await api.get("/api/v1/me"), 401)
    assert_problem(await api.get("/api/v1/me", headers={"Authorization": "Bearer not.a.token"}), 401)


async def test_roles_are_denied_by_default(api):
    auditor = await login(api, "auditor")
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    body = {"type": "external", "subject": "x", "recipient_org_ids": [orgs["cgd"]]}
    assert_problem(await api.post("/api/v1/letters", headers=auditor, json=body), 403)
    assert_problem(await api.get("/api/v1/inbox", headers=auditor), 403)
