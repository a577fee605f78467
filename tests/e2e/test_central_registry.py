"""Central registries (สารบรรณกลาง) through the public API, in embedded mode: a unit keeping no registers of
its own is numbered in, and listed by, the registers of its nearest parent that keeps them; a unit that
keeps its own numbers in them."""

import asyncio

from shared.thai import buddhist_year
from tests.e2e.helpers import eventually, inbox_item, login, org_ids, send_once_known
from tests.e2e.test_bad_input import assert_problem

PASSWORD = "รหัสผ่าน-สารบรรณ-2569"
CGD_NAME, SECRETARIAT_NAME, MAIL_NAME = "กรมบัญชีกลาง", "สำนักงานเลขานุการกรม", "กลุ่มงานสารบรรณ"
# A section under กรมบัญชีกลาง's secretariat, which keeps no registers either: both use the department's.
MAILROOM = {
    "key": "cgd.secretariat.mail",
    "name": MAIL_NAME,
    "code": "กค 0401.1",
    "kind": "section",
    "parent_key": "cgd.secretariat",
    "own_registers": False,
}


async def person(api, admin: dict, username: str, org_key: str) -> dict:
    """A clerk of the unit, created by the administrator, signed in."""
    body = {
        "username": username,
        "display_name": "นายสมชาย ทะเบียนดี",
        "org_key": org_key,
        "roles": ["clerk"],
        "clearance": "normal",
        "password": PASSWORD,
    }
    created = await api.post("/api/v1/admin/users", headers=admin, json=body)
    assert created.status_code == 201, created.text
    return await login(api, username, PASSWORD)


async def send(api, headers: dict, recipients: list[str], subject: str) -> dict:
    body = {"type": "internal", "subject": subject, "recipient_org_ids": recipients}
    response = await send_once_known(api, headers, body)  # the mailroom was imported a moment ago
    assert response.status_code == 201, response.text
    return response.json()


async def receive(api, headers: dict, letter: dict) -> dict:
    item = await eventually(lambda: inbox_item(api, headers, letter["id"]))
    response = await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def register(api, headers: dict, name: str, **params) -> dict:
    response = await api.get(f"/api/v1/registers/{name}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_section_without_registers_and_its_department_share_one_gap_free_send_series(api):
    admin = await login(api, "admin")
    directory = (await api.get("/api/v1/admin/directory/export", headers=admin)).json()
    imported = await api.post(
        "/api/v1/admin/directory/import",
        params={"dry_run": "false"},
        headers=admin,
        json={"units": [*directory["units"], MAILROOM]},
    )
    assert imported.status_code == 200 and imported.json()["added"] == ["cgd.secretariat.mail"], imported.text
    assert imported.json()["applied"]
    mail, cgd = await person(api, admin, "cgd.mail", "cgd.secretariat.mail"), await login(api, "cgd.clerk")
    orgs = await org_ids(api, cgd)
    me = (await api.get("/api/v1/me", headers=mail)).json()
    assert (me["org_code"], me["registry_id"], me["registry_code"]) == ("กค 0401.1", orgs["cgd"], "กค 0400")

    # The section and the department send at the same time: one series, the department's code, no gaps.
    senders = [mail, cgd] * 4
    sent = await asyncio.gather(
        *(send(api, who, [orgs["ops"]], f"ขอส่งรายงาน ฉบับที่ {i}") for i, who in enumerate(senders))
    )
    assert sorted(letter["register_no"] for letter in sent) == list(range(1, 9))
    assert all(letter["doc_no"] == f"กค 0400/{letter['register_no']}" for letter in sent)
    assert {letter["sender_org_id"] for letter in sent[::2]} == {orgs["cgd.secretariat.mail"]}

    book = await register(api, cgd, "send")
    assert (book["org_id"], book["registry"]) == (orgs["cgd"], None)
    assert [row["register_no"] for row in book["items"]] == list(range(1, 9))
    sender_of = {row["doc_no"]: row["from"] for row in book["items"]}
    assert {sender_of[letter["doc_no"]] for letter in sent[::2]} == {MAIL_NAME}
    assert {sender_of[letter["doc_no"]] for letter in sent[1::2]} == {CGD_NAME}

    # The section asking for its register gets the department's, and the answer says so.
    theirs = await register(api, mail, "send")
    assert (theirs["org_id"], theirs["org_name"], theirs["items"]) == (
        orgs["cgd.secretariat.mail"],
        MAIL_NAME,
        book["items"],
    )
    assert (theirs["registry"]["org_id"], theirs["registry"]["code"]) == (orgs["cgd"], "กค 0400")
    assert CGD_NAME in theirs["registry"]["message"]
    assert (await register(api, mail, "send", org_id=orgs["cgd"]))["items"] == book["items"]
    # Its letters are still its own: its list of sent letters holds only them.
    listed = (await api.get("/api/v1/outbox", headers=mail)).json()["items"]
    assert sorted(letter["doc_no"] for letter in listed) == sorted(letter["doc_no"] for letter in sent[::2])
    # The CSV of the year names the register's keeper.
    csv = await api.get("/api/v1/registers/send", headers=mail, params={"format": "csv"})
    assert csv.status_code == 200 and "0400" in csv.headers["content-disposition"]
    assert_problem(await api.get("/api/v1/registers/send", headers=mail, params={"org_id": orgs["rd"]}), 404)


async def test_a_letter_to_a_division_without_registers_takes_the_departments_receive_number(api):
    admin, ops, cgd = await login(api, "admin"), await login(api, "ops.clerk"), await login(api, "cgd.clerk")
    secretariat = await person(api, admin, "cgd.secretariat.clerk", "cgd.secretariat")
    orgs = await org_ids(api, cgd)
    to_cgd = await send(api, ops, [orgs["cgd"]], "ขอเชิญประชุม")
    to_secretariat = await send(api, ops, [orgs["cgd.secretariat"]], "ขอใช้ห้องประชุม")
    again_to_cgd = await send(api, ops, [orgs["cgd"]], "ขอข้อมูลงบประมาณ")

    assert (await receive(api, cgd, to_cgd))["receive_no"] == 1
    assert (await receive(api, secretariat, to_secretariat))["receive_no"] == 2
    assert (await receive(api, cgd, again_to_cgd))["receive_no"] == 3

    book = await register(api, cgd, "receive")
    rows = [(row["register_no"], row["doc_no"], row["to"]) for row in book["items"]]
    assert rows == [
        (1, to_cgd["doc_no"], CGD_NAME),
        (2, to_secretariat["doc_no"], SECRETARIAT_NAME),
        (3, again_to_cgd["doc_no"], CGD_NAME),
    ]
    theirs = await register(api, secretariat, "receive")
    assert theirs["items"] == book["items"] and theirs["registry"]["org_id"] == orgs["cgd"]

    # Setting where the secretariat's numbering continues sets the department's: it has no other.
    url, year = "/api/v1/registers/receive/next-number", buddhist_year()
    moved = await api.put(url, headers=admin, json={"year": year, "next_number": 40, "org_id": orgs["cgd.secretariat"]})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["org_id"], moved.json()["registry"]["org_id"]) == (orgs["cgd"], orgs["cgd"])
    later = await send(api, ops, [orgs["cgd.secretariat"]], "ขอบคุณ")
    assert (await receive(api, secretariat, later))["receive_no"] == 40
    assert [row["register_no"] for row in (await register(api, cgd, "receive"))["items"]] == [1, 2, 3, 40]


async def test_a_division_with_its_own_registers_keeps_its_own_series(api):
    admin, ops, cgd = await login(api, "admin"), await login(api, "ops.clerk"), await login(api, "cgd.clerk")
    budget = await person(api, admin, "cgd.budget.clerk", "cgd.budget")
    control = await person(api, admin, "cgd.control.clerk", "cgd.budget.control")  # a section under budget
    orgs = await org_ids(api, cgd)

    assert (await send(api, budget, [orgs["ops"]], "รายงานงบประมาณ"))["doc_no"] == "กค 0402/1"
    assert (await send(api, control, [orgs["ops"]], "รายงานการควบคุม"))["doc_no"] == "กค 0402/2"
    assert (await send(api, cgd, [orgs["ops"]], "หนังสือของกรม"))["doc_no"] == "กค 0400/1"
    budget_book = await register(api, budget, "send")
    assert budget_book["registry"] is None
    assert [row["doc_no"] for row in budget_book["items"]] == ["กค 0402/1", "กค 0402/2"]
    assert [row["doc_no"] for row in (await register(api, cgd, "send"))["items"]] == ["กค 0400/1"]

    to_budget = await send(api, ops, [orgs["cgd.budget"]], "ขอข้อมูล")
    to_cgd = await send(api, ops, [orgs["cgd"]], "ขอข้อมูลเช่นกัน")
    assert (await receive(api, budget, to_budget))["receive_no"] == 1
    assert (await receive(api, cgd, to_cgd))["receive_no"] == 1
    assert [row["doc_no"] for row in (await register(api, cgd, "receive"))["items"]] == [to_cgd["doc_no"]]
