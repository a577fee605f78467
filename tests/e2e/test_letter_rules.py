"""The official letter: its fields, the type rules, deadlines, follow-up, Thai dates and gap-free numbers
under concurrency, through the public API."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.helpers import eventually, inbox_item, login, org_ids


async def test_an_external_letter_keeps_every_part_and_shows_thai_dates(api):
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    body = {
        "type": "external",
        "subject": "ขอความอนุเคราะห์ข้อมูล",
        "salutation": "เรียน",
        "to_text": "อธิบดีกรมบัญชีกลาง",
        "doc_date": "2026-11-23",
        "references": [{"doc_no": "กค 0402/ว 195", "doc_date": "2026-10-01", "subject": "การเบิกจ่าย"}],
        "enclosures": ["สำเนาหนังสือ 1 ฉบับ"],
        "closing": "ขอแสดงความนับถือ",
        "signer_name": "นายสมชาย ใจดี",
        "signer_position": "ผู้อำนวยการกอง",
        "owning_unit": "กองกฎหมาย",
        "contact": {"phone": "0 2273 9021", "email": "legal@example.go.th"},
        "recipient_org_ids": [orgs["cgd"]],
        "cc_org_ids": [orgs["rd"]],
    }
    letter = (await api.post("/api/v1/letters", headers=ops, json=body)).json()
    for field in ("to_text", "enclosures", "closing", "owning_unit", "contact", "cc_org_ids"):
        assert letter[field] == body[field], field
    assert letter["references"] == [{**body["references"][0], "doc_date_th": "1 ตุลาคม 2569"}]
    assert (letter["doc_date"], letter["date_th"]) == ("2026-11-23", "23 พฤศจิกายน 2569")
    assert letter["sent_at_th"].endswith("2569") or letter["sent_at_th"].endswith("2570")
    assert datetime.fromisoformat(letter["sent_at"]).tzinfo is not None  # ISO 8601 with offset
    assert {d["recipient_org_id"] for d in letter["deliveries"]} == {orgs["cgd"], orgs["rd"]}  # สำเนาส่ง too


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"type": "directive"}, 422),  # a directive says which: คำสั่ง, ระเบียบ or ข้อบังคับ
        ({"type": "directive", "sub_kind": "news"}, 422),
        ({"type": "external", "sub_kind": "order"}, 422),
        ({"type": "directive", "sub_kind": "order"}, 201),
        ({"type": "evidence", "sub_kind": "minutes"}, 201),
        ({"type": "internal"}, 201),  # a memo within กระทรวงการคลัง
        ({"deliver_by": "2020-01-01T09:00:00+07:00"}, 422),  # a deadline already past
        ({"deliver_by": "2030-01-01T09:00:00"}, 422),  # a time without its offset is ambiguous
        ({"references": [{"doc_no": ""}]}, 422),
    ],
)
async def test_type_rules(api, change, status):
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    body = {"type": "external", "subject": "เรื่องทดสอบ", "recipient_org_ids": [orgs["cgd"]], **change}
    response = await api.post("/api/v1/letters", headers=ops, json=body)
    assert response.status_code == status, response.text


async def test_follow_up_lists_overdue_and_unregistered_letters(api):
    ops, cgd = await login(api, "ops.clerk"), await login(api, "cgd.clerk")
    orgs = await org_ids(api, ops)
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    body = {
        "type": "external",
        "subject": "ด่วนที่สุด",
        "urgency": "most_urgent",
        "deliver_by": soon,
        "recipient_org_ids": [orgs["cgd"], orgs["rd"]],
    }
    letter = (await api.post("/api/v1/letters", headers=ops, json=body)).json()
    item = await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    await asyncio.sleep(1.2)  # let the deadline pass

    overdue = (await api.get("/api/v1/follow-up", headers=cgd)).json()["overdue"]
    assert [o["letter_id"] for o in overdue] == [letter["id"]] and overdue[0]["deliver_by_th"]
    await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=cgd)
    waiting = (await api.get("/api/v1/follow-up", headers=ops)).json()["unregistered"]
    assert [w["recipient_org_id"] for w in waiting] == [orgs["rd"]]


async def test_one_hundred_letters_sent_at_once_are_numbered_1_to_100(api):
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    body = {"type": "external", "subject": "ส่งพร้อมกัน", "recipient_org_ids": [orgs["cgd"]]}
    responses = await asyncio.gather(*(api.post("/api/v1/letters", headers=ops, json=body) for _ in range(100)))
    assert {r.status_code for r in responses} == {201}
    numbers = sorted(int(r.json()["doc_no"].rsplit("/", 1)[1]) for r in responses)
    assert numbers == list(range(1, 101))


async def test_one_hundred_receipts_at_once_are_numbered_1_to_100(api):
    ops, cgd = await login(api, "ops.clerk"), await login(api, "cgd.clerk")
    orgs = await org_ids(api, ops)
    body = {"type": "external", "subject": "ลงรับพร้อมกัน", "recipient_org_ids": [orgs["cgd"]]}
    for _ in range(100):
        assert (await api.post("/api/v1/letters", headers=ops, json=body)).status_code == 201

    async def all_delivered():
        page = (await api.get("/api/v1/inbox", headers=cgd, params={"limit": 200})).json()["items"]
        return page if len(page) == 100 else None

    items = await eventually(all_delivered, within=30)
    receipts = await asyncio.gather(
        *(api.post(f"/api/v1/deliveries/{i['delivery_id']}/receive", headers=cgd) for i in items)
    )
    assert sorted(r.json()["receive_no"] for r in receipts) == list(range(1, 101))
