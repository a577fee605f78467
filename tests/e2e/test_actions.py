"""Forward, return, reject, report invalid, recall, cancel and pending: the delivery state machine through
the public API."""

from tests.e2e.helpers import PDF, eventually, inbox_item, login, org_ids
from tests.e2e.test_bad_input import assert_problem


async def send(api, headers, recipients=(), **extra) -> dict:
    body = {"type": "external", "subject": "ขอความร่วมมือ", "recipient_org_ids": list(recipients), **extra}
    response = await api.post("/api/v1/letters", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def setup(api):
    ops = await login(api, "ops.clerk")
    return ops, await org_ids(api, ops), await login(api, "cgd.clerk"), await login(api, "rd.clerk")


async def test_recall_only_from_recipients_that_have_not_registered(api):
    ops, orgs, cgd, rd = await setup(api)
    letter = await send(api, ops, [orgs["cgd"], orgs["rd"]])
    item = await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    await eventually(lambda: inbox_item(api, rd, letter["id"]))
    assert (await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=cgd)).status_code == 200

    refused = await api.post(
        f"/api/v1/letters/{letter['id']}/recall", headers=ops, json={"recipient_org_ids": [orgs["cgd"]]}
    )
    assert_problem(refused, 409)
    recalled = await api.post(
        f"/api/v1/letters/{letter['id']}/recall", headers=ops, json={"recipient_org_ids": [orgs["rd"]]}
    )
    assert recalled.status_code == 200, recalled.text
    status = {d["recipient_org_id"]: d["status"] for d in recalled.json()["deliveries"]}
    assert status == {orgs["cgd"]: "received", orgs["rd"]: "recalled"}

    rd_item = await inbox_item(api, rd, letter["id"])
    assert rd_item["status"] == "recalled"
    assert_problem(await api.post(f"/api/v1/deliveries/{rd_item['delivery_id']}/receive", headers=rd), 409)
    assert_problem(await api.post(f"/api/v1/letters/{letter['id']}/recall", headers=cgd, json={}), 404)


async def test_forward_a_registered_letter_and_the_new_unit_registers_it(api):
    ops, orgs, cgd, rd = await setup(api)
    upload = await api.post("/api/v1/attachments", headers=ops, files={"file": ("a.pdf", PDF, "application/pdf")})
    attachment = upload.json()["id"]
    letter = await send(api, ops, [orgs["cgd"]], attachment_ids=[attachment])
    item = await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    content = f"/api/v1/attachments/{attachment}/content"
    assert (await api.get(content, headers=rd)).status_code == 404
    early = await api.post(
        f"/api/v1/deliveries/{item['delivery_id']}/forward", headers=cgd, json={"recipient_org_ids": [orgs["rd"]]}
    )
    assert_problem(early, 409)  # only a registered letter is forwarded
    await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=cgd)

    to_self = {"recipient_org_ids": [orgs["cgd"]]}
    assert_problem(await api.post(f"/api/v1/deliveries/{item['delivery_id']}/forward", headers=cgd, json=to_self), 422)
    to_sender = {"recipient_org_ids": [orgs["ops"]]}
    assert_problem(
        await api.post(f"/api/v1/deliveries/{item['delivery_id']}/forward", headers=cgd, json=to_sender), 409
    )

    body = {"recipient_org_ids": [orgs["rd"]], "note": "เพื่อโปรดพิจารณาดำเนินการ"}
    forwarded = await api.post(f"/api/v1/deliveries/{item['delivery_id']}/forward", headers=cgd, json=body)
    assert forwarded.status_code == 200, forwarded.text
    assert forwarded.json()["status"] == "forwarded"

    rd_item = await eventually(lambda: inbox_item(api, rd, letter["id"]))
    assert rd_item["doc_no"] == letter["doc_no"]  # the letter keeps its number
    received = (await api.post(f"/api/v1/deliveries/{rd_item['delivery_id']}/receive", headers=rd)).json()
    assert received["receive_no"] == 1  # กรมสรรพากร's own receive register
    seen = await eventually(lambda: _readable(api, rd, letter["id"]))
    downloaded = await eventually(lambda: _content(api, rd, content))
    assert downloaded == PDF  # the forwarded-to unit may read what the letter carries
    assert [d["id"] for d in seen["deliveries"]] == [rd_item["delivery_id"]]

    sender_view = (await api.get(f"/api/v1/letters/{letter['id']}", headers=ops)).json()
    states = {d["recipient_org_id"]: d["status"] for d in sender_view["deliveries"]}
    assert states == {orgs["cgd"]: "forwarded", orgs["rd"]: "received"}

    auditor = await login(api, "auditor")

    async def forwarded_in_history():
        history = await api.get(f"/api/v1/audit/letters/{letter['id']}/history", headers=auditor)
        types = [e["type"] for e in history.json()["events"]]
        return types if "delivery.forwarded" in types and types.count("delivery.received") == 2 else None

    await eventually(forwarded_in_history)


async def _content(api, headers, url):
    response = await api.get(url, headers=headers)
    return response.content if response.status_code == 200 else None


async def _readable(api, headers, letter_id):
    response = await api.get(f"/api/v1/letters/{letter_id}", headers=headers)
    return response.json() if response.status_code == 200 else None


async def test_reject_return_and_report_invalid_carry_a_reason_to_the_sender(api):
    ops, orgs, cgd, rd = await setup(api)
    letter = await send(api, ops, [orgs["cgd"], orgs["rd"]])
    cgd_item = await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    rd_item = await eventually(lambda: inbox_item(api, rd, letter["id"]))

    assert_problem(await api.post(f"/api/v1/deliveries/{cgd_item['delivery_id']}/reject", headers=cgd, json={}), 422)
    blank = {"reason": "  "}
    assert_problem(await api.post(f"/api/v1/deliveries/{cgd_item['delivery_id']}/reject", headers=cgd, json=blank), 422)
    too_long = {"reason": "ก" * 1001}
    assert_problem(
        await api.post(f"/api/v1/deliveries/{cgd_item['delivery_id']}/reject", headers=cgd, json=too_long), 422
    )
    assert_problem(
        await api.post(f"/api/v1/deliveries/{cgd_item['delivery_id']}/reject", headers=rd, json={"reason": "x"}), 404
    )

    reason = "ไม่ใช่ภารกิจของกรม"
    rejected = await api.post(
        f"/api/v1/deliveries/{cgd_item['delivery_id']}/reject", headers=cgd, json={"reason": reason}
    )
    assert rejected.json()["status"] == "rejected"
    invalid = await api.post(
        f"/api/v1/deliveries/{rd_item['delivery_id']}/report-invalid", headers=rd, json={"reason": "ไฟล์แนบไม่ครบ"}
    )
    assert invalid.json()["status"] == "invalid"
    again = await api.post(f"/api/v1/deliveries/{cgd_item['delivery_id']}/return", headers=cgd, json={"reason": "x"})
    assert_problem(again, 409)
    assert "rejected" in again.json()["detail"]  # the answer names the current state

    seen = (await api.get(f"/api/v1/letters/{letter['id']}", headers=ops)).json()
    by_org = {d["recipient_org_id"]: d for d in seen["deliveries"]}
    assert (by_org[orgs["cgd"]]["status"], by_org[orgs["cgd"]]["reason"]) == ("rejected", reason)
    assert by_org[orgs["rd"]]["status"] == "invalid"


async def test_a_received_letter_can_be_returned_with_a_note(api):
    ops, orgs, cgd, _ = await setup(api)
    letter = await send(api, ops, [orgs["cgd"]])
    item = await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=cgd)
    returned = await api.post(
        f"/api/v1/deliveries/{item['delivery_id']}/return", headers=cgd, json={"reason": "ส่งผิดกรม"}
    )
    assert returned.json()["status"] == "returned"


async def test_cancel_keeps_the_number_and_recalls_every_delivery(api):
    ops, orgs, cgd, rd = await setup(api)
    letter = await send(api, ops, [orgs["cgd"], orgs["rd"]])
    await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    assert_problem(await api.post(f"/api/v1/letters/{letter['id']}/cancel", headers=ops, json={}), 422)
    assert_problem(await api.post(f"/api/v1/letters/{letter['id']}/cancel", headers=cgd, json={"reason": "x"}), 404)

    cancelled = await api.post(f"/api/v1/letters/{letter['id']}/cancel", headers=ops, json={"reason": "ออกเลขผิด"})
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["status"], body["doc_no"]) == ("cancelled", "กค 0200/1")
    assert {d["status"] for d in body["deliveries"]} == {"recalled"}
    assert (await send(api, ops, [orgs["cgd"]]))["doc_no"] == "กค 0200/2"  # a number is never reused

    second = await send(api, ops, [orgs["cgd"]])
    item = await eventually(lambda: inbox_item(api, cgd, second["id"]))
    await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=cgd)
    assert_problem(await api.post(f"/api/v1/letters/{second['id']}/cancel", headers=ops, json={"reason": "x"}), 409)
    still = (await api.get(f"/api/v1/letters/{second['id']}", headers=ops)).json()
    assert still["status"] == "sent"


async def test_pending_lists_recipients_that_have_not_registered(api):
    ops, orgs, cgd, _ = await setup(api)
    letter = await send(api, ops, [orgs["cgd"], orgs["rd"], orgs["td"]], circular=True)
    item = await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=cgd)

    async def two_pending():
        rows = (await api.get(f"/api/v1/letters/{letter['id']}/pending", headers=ops)).json()
        return rows if len(rows) == 2 else None

    rows = await eventually(two_pending)
    assert {r["recipient_org_id"] for r in rows} == {orgs["rd"], orgs["td"]}
    assert_problem(await api.get(f"/api/v1/letters/{letter['id']}/pending", headers=cgd), 404)


async def test_a_circular_to_the_department_group_and_who_has_not_registered(api):
    ops, orgs, cgd, _ = await setup(api)
    groups = {g["key"]: g for g in (await api.get("/api/v1/groups", headers=ops)).json()}
    departments = groups["mof-departments"]
    assert len(departments["member_org_ids"]) == 8 and orgs["ops"] not in departments["member_org_ids"]

    letter = await send(api, ops, [orgs["cgd"]], recipient_group_ids=[departments["id"]], circular=True)
    assert letter["doc_no"] == "กค 0200/ว 1"
    assert sorted(d["recipient_org_id"] for d in letter["deliveries"]) == sorted(departments["member_org_ids"])
    item = await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=cgd)

    async def seven_pending():
        rows = (await api.get(f"/api/v1/letters/{letter['id']}/pending", headers=ops)).json()
        return rows if len(rows) == 7 else None

    assert orgs["cgd"] not in {r["recipient_org_id"] for r in await eventually(seven_pending)}

    cgd_to_all = await send(api, cgd, [], recipient_group_ids=[groups["mof-all"]["id"]])
    assert orgs["cgd"] not in {d["recipient_org_id"] for d in cgd_to_all["deliveries"]}  # never to itself
    unknown = {"type": "external", "subject": "x", "recipient_group_ids": [orgs["cgd"]]}
    assert_problem(await api.post("/api/v1/letters", headers=ops, json=unknown), 422)


async def test_annotations_are_appended_and_seen_by_the_receiving_unit_only(api):
    ops, orgs, cgd, rd = await setup(api)
    letter = await send(api, ops, [orgs["cgd"]])
    item = await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    url = f"/api/v1/deliveries/{item['delivery_id']}/annotations"
    first = await api.post(url, headers=cgd, json={"text": "เรียน อธิบดี เพื่อโปรดทราบ", "position": "นิติกร"})
    second = await api.post(url, headers=cgd, json={"text": "ทราบ มอบกองกฎหมาย", "decision": "acknowledged"})
    assert first.status_code == second.status_code == 201
    notes = (await api.get(url, headers=cgd)).json()
    assert [(n["text"], n["decision"], n["author"]) for n in notes] == [
        ("เรียน อธิบดี เพื่อโปรดทราบ", None, "cgd.clerk"),
        ("ทราบ มอบกองกฎหมาย", "acknowledged", "cgd.clerk"),
    ]
    assert_problem(await api.get(url, headers=rd), 404)
    assert_problem(await api.post(url, headers=ops, json={"text": "x"}), 404)
    assert_problem(await api.post(url, headers=cgd, json={"text": ""}), 422)
    assert_problem(await api.post(url, headers=cgd, json={"text": "x", "decision": "maybe"}), 422)
