"""From a registered letter to the officer who acts, through the public API: กรมบัญชีกลาง's registry registers an
urgent letter from สป.กค. and proposes it to the director-general; he orders ดำเนินการ with a deadline, assigns
the division กองงบประมาณ and gives it to his deputy for information; the division's registry registers its own
delivery in its own receive register and proposes it to the division's head, who assigns an officer; the
officer drafts a reply referencing the original, records the result and closes; the deputy acknowledges; the
director-general closes the department's part; and the sender sees, per recipient unit, when each closed it.

Then the bad requests of the work: each a clear 4xx, problem+json, that changes nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx

from shared import thai
from tests.e2e.helpers import PASSWORD, eventually, inbox_item, login, org_ids

PEOPLE = ("ops.clerk", "cgd.clerk", "cgd.dg", "cgd.deputy", "cgd.head", "cgd.officer", "admin")
BUDGET_CLERK = {
    "username": "budget.clerk",
    "display_name": "เจ้าหน้าที่สารบรรณ กองงบประมาณ",
    "org_key": "cgd.budget",
    "roles": ["clerk"],
    "clearance": "secret",
    "password": PASSWORD,
}


async def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


async def refused(response: httpx.Response, status: int, says: str) -> dict:
    """A refusal in plain words, Thai first with English in brackets, as problem+json."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert says in problem["detail"], problem["detail"]
    return problem


async def everyone(api: httpx.AsyncClient) -> dict[str, dict]:
    h = {name: await login(api, name) for name in PEOPLE}
    await ok(await api.post("/api/v1/admin/users", headers=h["admin"], json=BUDGET_CLERK), 201)
    h["budget.clerk"] = await login(api, "budget.clerk")
    return h


def deadline(days: int = 7) -> str:
    return (thai.now() + timedelta(days=days)).isoformat()


async def sent_and_registered(api, h: dict, orgs: dict, subject: str = "ขอให้รายงานผลการเบิกจ่ายงบประมาณ"):
    letter = await ok(
        await api.post(
            "/api/v1/letters",
            headers=h["ops.clerk"],
            json={"type": "external", "subject": subject, "urgency": "urgent", "recipient_org_ids": [orgs["cgd"]]},
        ),
        201,
    )
    item = await eventually(lambda: inbox_item(api, h["cgd.clerk"], letter["id"]))
    await ok(await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=h["cgd.clerk"]))
    return letter["id"], item["delivery_id"]


async def step(api, who: dict, delivery: str, action: str, body: dict | None = None) -> dict:
    return await ok(await api.post(f"/api/v1/deliveries/{delivery}/{action}", headers=who, json=body))


async def worklist(api, who: dict) -> list[dict]:
    return (await ok(await api.get("/api/v1/worklist", headers=who)))["items"]


async def test_a_registered_letter_goes_to_the_officer_who_acts_and_is_closed_per_unit(api):
    h = await everyone(api)
    orgs = await org_ids(api, h["cgd.clerk"])
    letter, delivery = await sent_and_registered(api, h, orgs)

    # เสนอ: the registry proposes it to the director-general, whose worklist shows it.
    summary = "สป.กค. ขอให้รายงานผลการเบิกจ่ายงบประมาณภายในสิ้นเดือน"
    proposed = await step(api, h["cgd.clerk"], delivery, "propose", {"to_username": "cgd.dg", "summary": summary})
    assert (proposed["stage"], proposed["proposed_to"]) == ("proposed", "cgd.dg")
    [mine] = await worklist(api, h["cgd.dg"])
    assert (mine["kind"], mine["delivery_id"], mine["urgency"]) == ("proposed", delivery, "urgent")

    # สั่งการ: ดำเนินการ, with a deadline, to the division, and to the deputy for information.
    due = deadline()
    order = {
        "decision": "act",
        "note": "ให้กองงบประมาณรวบรวมข้อมูลและรายงาน",
        "deadline": due,
        "assignee_org_ids": [orgs["cgd.budget"]],
        "for_information": ["cgd.deputy"],
    }
    ordered = await step(api, h["cgd.dg"], delivery, "order", order)
    [given] = ordered["orders"]
    assert given["decision"] == "act" and given["in_force"] and ordered["due_at_th"] and given["deadline_th"]
    [division] = given["assignee_units"]
    assert division["org_id"] == orgs["cgd.budget"]
    assert await worklist(api, h["cgd.dg"]) == []
    assert [i["kind"] for i in await worklist(api, h["cgd.deputy"])] == ["for_information"]

    # The division registers its own delivery in its own receive register, and its head assigns an officer.
    theirs = division["delivery_id"]
    await eventually(lambda: inbox_item(api, h["budget.clerk"], letter))
    registered = await step(api, h["budget.clerk"], theirs, "receive")
    register = await ok(
        await api.get(
            f"/api/v1/registers/receive?org_id={orgs['cgd.budget']}&year={thai.buddhist_year()}",
            headers=h["budget.clerk"],
        )
    )
    assert [(r["register_no"], r["delivery_id"]) for r in register["items"]] == [(registered["receive_no"], theirs)]
    await step(api, h["budget.clerk"], theirs, "propose", {"to_username": "cgd.head", "summary": summary})
    await step(
        api,
        h["cgd.head"],
        theirs,
        "order",
        {"decision": "act", "deadline": deadline(5), "assignee_usernames": ["cgd.officer"]},
    )
    [assigned] = await worklist(api, h["cgd.officer"])
    assert (assigned["kind"], assigned["delivery_id"], assigned["overdue"]) == ("assigned", theirs, False)
    assert assigned["due_at_th"] and assigned["arrived_at_th"]

    # The officer drafts the reply, referencing the original (อ้างถึง), and proposes it to the director, whose
    # worklist shows it awaiting his signature; then records the result and closes the division's part.
    reply = {
        "type": "external",
        "subject": "รายงานผลการเบิกจ่ายงบประมาณ",
        "body": "ตามหนังสือที่อ้างถึง กรมบัญชีกลางขอรายงานผลการเบิกจ่ายงบประมาณ",
        "recipient_org_ids": [orgs["ops"]],
        "reference_letter_ids": [letter],
        "signer": "cgd.director",
    }
    draft = await ok(await api.post("/api/v1/drafts", headers=h["cgd.officer"], json=reply), 201)
    await ok(await api.post(f"/api/v1/drafts/{draft['id']}/propose", headers=h["cgd.officer"]))
    director = await login(api, "cgd.director")
    [to_sign] = await worklist(api, director)
    assert (to_sign["kind"], to_sign["draft_id"]) == ("to_sign", draft["id"])
    result = "รวบรวมข้อมูลและรายงานแล้ว ตามบันทึกที่ กค 0402/15"
    closed = await step(api, h["cgd.officer"], theirs, "close", {"result": result})
    assert (closed["status"], closed["closed_by"], closed["result"]) == ("closed", "cgd.officer", result)
    assert await worklist(api, h["cgd.officer"]) == []

    # รับทราบ by the deputy; the director-general sees who has acknowledged, then closes the department's part.
    await step(api, h["cgd.deputy"], delivery, "acknowledge")
    assert await worklist(api, h["cgd.deputy"]) == []
    seen = await ok(await api.get(f"/api/v1/deliveries/{delivery}/work", headers=h["cgd.dg"]))
    [read] = seen["orders"][0]["for_information"]
    assert read["username"] == "cgd.deputy" and read["acknowledged_at_th"]
    assert seen["proposals"][0]["summary"] == summary
    await step(api, h["cgd.dg"], delivery, "close", {"result": "กองงบประมาณรายงานแล้ว"})

    # The sender sees when each recipient unit closed it, not what they wrote.
    sent = await ok(await api.get(f"/api/v1/letters/{letter}", headers=h["ops.clerk"]))
    closing = {d["recipient_org_id"]: d for d in sent["deliveries"]}
    assert set(closing) == {orgs["cgd"], orgs["cgd.budget"]}
    assert all(d["status"] == "closed" and d["closed_at"] and d["closed_at_th"] for d in closing.values())
    assert result not in str(sent)

    # The follow-up counts per division and per person; the closing is in the sender's part of the history.
    follow = await ok(await api.get("/api/v1/follow-up", headers=h["cgd.dg"]))
    units = {u["org_id"]: u for u in follow["units"]}
    assert units[orgs["cgd.budget"]]["closed_this_month"] == 1 and units[orgs["cgd"]]["closed_this_month"] == 1
    assert units[orgs["cgd.budget"]]["median_hours_to_close"] is not None
    officer = next(p for p in follow["people"] if p["username"] == "cgd.officer")
    assert (officer["open"], officer["closed_this_month"]) == (0, 1)

    async def closing_logged():
        history = await ok(await api.get(f"/api/v1/audit/letters/{letter}/history", headers=h["ops.clerk"]))
        return [e for e in history["events"] if e["type"].startswith("delivery.closed")]

    assert len(await eventually(closing_logged)) == 2


async def test_a_suspended_matter_is_due_later_and_a_head_reopens_a_closed_one(api):
    h = await everyone(api)
    orgs = await org_ids(api, h["cgd.clerk"])
    _, delivery = await sent_and_registered(api, h, orgs)
    ordered = await step(api, h["cgd.dg"], delivery, "order", {"decision": "act", "deadline": deadline(3)})
    suspended = await step(api, h["cgd.dg"], delivery, "suspend", {"reason": "รอข้อมูลจากกรมสรรพากร"})
    assert suspended["stage"] == "suspended" and suspended["suspended_at_th"]
    resumed = await step(api, h["cgd.dg"], delivery, "resume")
    assert resumed["due_at"] > ordered["due_at"] and resumed["stage"] == "ordered"
    await step(api, h["cgd.dg"], delivery, "close", {"result": "ได้รับข้อมูลแล้ว"})
    await refused(await api.post(f"/api/v1/deliveries/{delivery}/reopen", headers=h["cgd.clerk"]), 403, "(your role")
    reopened = await step(api, h["cgd.deputy"], delivery, "reopen")
    assert (reopened["status"], reopened["closed_at"]) == ("received", None)
    assert [s["action"] for s in reopened["steps"]] == ["suspend", "resume", "close", "reopen"]


async def test_bad_work_requests_are_refused_in_plain_words_and_change_nothing(api):
    h = await everyone(api)
    orgs = await org_ids(api, h["cgd.clerk"])
    _, delivery = await sent_and_registered(api, h, orgs)
    work_url = f"/api/v1/deliveries/{delivery}/work"
    before = await ok(await api.get(work_url, headers=h["cgd.clerk"]))

    async def unchanged():
        assert await ok(await api.get(work_url, headers=h["cgd.clerk"])) == before

    def post(who: str, action: str, body: dict | None = None):
        return api.post(f"/api/v1/deliveries/{delivery}/{action}", headers=h[who], json=body)

    act = {"decision": "act", "deadline": deadline()}
    # Proposing to someone who is not a head of the unit, or not a person at all.
    await refused(await post("cgd.clerk", "propose", {"to_username": "cgd.clerk", "summary": "ก"}), 422, "executive")
    await refused(await post("cgd.clerk", "propose", {"to_username": "nobody", "summary": "ก"}), 422, "unknown")
    await refused(await post("cgd.clerk", "propose", {"to_username": "cgd.head", "summary": "ก"}), 422, "your unit")
    # Ordering without being a head of that unit: a clerk (by role), the head of another unit (not his letter).
    await refused(await post("cgd.clerk", "order", act), 403, "(your role does not allow this action)")
    await refused(await post("cgd.head", "order", act), 404, "")
    # Assigning a unit outside the agency, or people of another unit; a deadline in the past.
    outside = await refused(await post("cgd.dg", "order", act | {"assignee_org_ids": [orgs["rd"]]}), 422, "agency")
    assert outside["errors"][0]["field"] == "assignee_org_ids"
    await refused(await post("cgd.dg", "order", act | {"assignee_usernames": ["cgd.officer"]}), 422, "your unit")
    past = await refused(await post("cgd.dg", "order", act | {"deadline": deadline(-1)}), 422, "future")
    assert past["errors"][0]["field"] == "deadline"
    await refused(await post("cgd.dg", "order", {"decision": "maybe"}), 422, "")
    # Closing or acknowledging before there is any order.
    await refused(await post("cgd.dg", "close", {"result": "เสร็จ"}), 409, "(cannot close a received delivery)")
    await unchanged()

    await step(api, h["cgd.dg"], delivery, "order", act | {"for_information": ["cgd.deputy"]})
    before = await ok(await api.get(work_url, headers=h["cgd.clerk"]))
    # Closing what is not assigned to you: someone of the unit (403), someone of another unit (404).
    await refused(await post("cgd.deputy", "close", {"result": "เสร็จ"}), 403, "only an assignee")
    await refused(await post("cgd.officer", "close", {"result": "เสร็จ"}), 404, "")
    await refused(await post("cgd.dg", "close", {"result": "   "}), 422, "")
    await refused(await post("cgd.clerk", "acknowledge"), 403, "not given to you for information")
    await unchanged()
    # Acknowledging twice: the first stands, the second is a conflict.
    first = await step(api, h["cgd.deputy"], delivery, "acknowledge")
    await refused(await post("cgd.deputy", "acknowledge"), 409, "already acknowledged")
    assert await ok(await api.get(work_url, headers=h["cgd.clerk"])) == first
