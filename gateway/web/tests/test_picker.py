"""Choosing recipients in a directory of any size: the list the picker downloads, the search it runs, and,
for a browser without the script, recipients typed by name or letter code; the Buddhist-era dates of the
compose form and the filters."""

from __future__ import annotations

import gzip
import json
import re

from gateway.web import directory
from gateway.web.tests.test_web import csrf_of, sign_in, web  # noqa: F401 (the fixture)
from shared.seed import group_id, org_id
from tests.e2e.helpers import eventually


def unit(key: str, name: str, code: str, kind: str, parent: str | None = None, name_en: str = "") -> dict:
    return {
        "id": key + "-id",
        "key": key,
        "name": name,
        "name_en": name_en,
        "code": code,
        "kind": kind,
        "parent_id": parent and parent + "-id",
    }


TREE = [
    unit("cgd-admin", "กองบริหารทั่วไป", "กค 0401", "division", "cgd"),
    unit("mof", "กระทรวงการคลัง", "กค", "ministry"),
    unit("cgd", "กรมบัญชีกลาง", "กค 0400", "department", "mof", "The Comptroller General's Department"),
    unit("rd-admin", "กองบริหารทั่วไป", "กค 0701", "division", "rd"),
    unit("rd", "กรมสรรพากร", "กค 0700", "department", "mof", "The Revenue Department"),
    unit("cgd-admin-hr", "ฝ่ายบริหารงานบุคคล", "กค 0401.1", "section", "cgd-admin"),
]


def test_the_compact_list_puts_parents_before_children_and_names_the_parent_by_row():
    payload = directory.compact(TREE, [{"id": "g", "name": "ทุกกรม"}])
    rows = [dict(zip(payload["fields"], row, strict=True)) for row in payload["units"]]
    assert [r["key"] for r in rows] == ["mof", "cgd", "cgd-admin", "cgd-admin-hr", "rd", "rd-admin"]
    assert rows[0]["parent"] == -1
    assert rows[rows[3]["parent"]]["key"] == "cgd-admin"
    assert rows[1]["name_en"] == "The Comptroller General's Department"
    assert payload["groups"] == [["g", "ทุกกรม"]]


def test_a_cycle_in_the_directory_does_not_hang_the_list():
    looped = [unit("a", "ก", "1", "division", "b"), unit("b", "ข", "2", "division", "a")]
    assert {row[1] for row in directory.compact(looped, [])["units"]} == {"a", "b"}


def test_a_fragment_from_the_middle_of_a_thai_word_a_code_or_an_english_name_finds_the_unit():
    assert [o["key"] for o in directory.search(TREE, "บัญชีก")[0]] == ["cgd"]
    assert [o["key"] for o in directory.search(TREE, "กค0700")[0]] == ["rd"]  # typed without the space
    assert [o["key"] for o in directory.search(TREE, "revenue")[0]] == ["rd"]
    # the exact code first, then the codes that start with it
    assert [o["key"] for o in directory.search(TREE, "กค 0401")[0]] == ["cgd-admin", "cgd-admin-hr"]


def test_search_shows_a_bounded_number_and_counts_the_rest():
    many = [unit(f"u{n}", f"กองที่ {n}", f"ทด {n}", "division") for n in range(300)]
    shown, total = directory.search(many, "กองที่", limit=20)
    assert len(shown) == 20 and total == 300


def test_typed_recipients_resolve_when_they_name_one_unit_and_ask_when_they_name_several():
    groups = [{"id": "g", "name": "ทุกกรมในสังกัด"}]
    found = directory.resolve("กรมบัญชีกลาง\nกค 0700, ทุกกรมในสังกัด", TREE, groups)
    assert found.org_ids == ["cgd-id", "rd-id"] and found.group_ids == ["g"] and not found.problems
    unclear = directory.resolve("กองบริหารทั่วไป\nกรมที่ไม่มีอยู่", TREE)
    assert unclear.org_ids == [] and unclear.left == ["กองบริหารทั่วไป", "กรมที่ไม่มีอยู่"]
    assert "ตรงกับ 2 หน่วยงาน" in unclear.problems[0] and "ไม่พบหน่วยงาน" in unclear.problems[1]
    assert {o["key"] for o in unclear.candidates} == {"cgd-admin", "rd-admin"}


async def test_the_picker_downloads_the_directory_once_compressed_and_then_only_revalidates(web):  # noqa: F811
    assert (await web.get("/directory.json")).status_code == 303  # signed out: to the sign-in page
    await sign_in(web, "ops.clerk")
    answer = await web.get("/directory.json", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200 and answer.headers["content-encoding"] == "gzip"
    payload = answer.json()  # httpx undoes the gzip
    keys = {row[payload["fields"].index("key")] for row in payload["units"]}
    assert {"mof", "ops", "cgd", "rd"} <= keys
    assert [str(group_id("mof-departments"))] == [g[0] for g in payload["groups"] if "ทุกกรม" in g[1]]
    assert "private" in answer.headers["cache-control"]
    again = await web.get("/directory.json", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304 and not again.content
    raw = await web.get("/directory.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers and json.loads(raw.content) == payload
    assert len(gzip.compress(raw.content)) < len(raw.content)


async def test_the_compose_page_no_longer_lists_every_unit(web):  # noqa: F811
    await sign_in(web, "ops.clerk")
    page = await web.get("/compose")
    assert 'name="recipient_org_ids"' not in page.text  # nothing chosen yet, and no box per unit
    assert 'data-picker data-field="recipient_org_ids"' in page.text
    assert f'data-exclude="{org_id("ops")}"' in page.text
    assert 'type="date' not in page.text and 'placeholder="เช่น 2/12/2569 16:30"' in page.text


async def test_without_the_script_recipients_are_typed_and_an_unclear_one_is_offered_to_choose(web):  # noqa: F811
    await sign_in(web, "ops.clerk")
    page = await web.get("/compose")
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page.text).group(1)
    form = {"csrf_token": csrf_of(page), "idempotency_key": key, "type": "external", "urgency": "normal"}
    form |= {"secrecy": "normal", "subject": "ขอเชิญประชุม", "body": "ข้อความที่พิมพ์ไว้"}

    unclear = await web.post("/compose", data=form | {"recipient_text": "กรมบัญชีกลาง\nกรมสรร", "cc_text": "กค 0300"})
    assert unclear.status_code == 422
    assert "ตรงกับ 2 หน่วยงาน" in unclear.text  # กรมสรรพสามิต and กรมสรรพากร
    assert f'value="{org_id("excise")}" data-key="excise"' in unclear.text  # offered, not ticked
    # what was recognised is kept as chosen; only the unclear line stays in the box
    assert re.search(rf'value="{org_id("cgd")}" data-key="cgd"[^>]*checked', unclear.text)
    assert re.search(rf'value="{org_id("td")}" data-key="td"[^>]*checked', unclear.text)
    assert re.search(r'name="recipient_text" rows="2">กรมสรร</textarea>', unclear.text)
    assert "ข้อความที่พิมพ์ไว้" in unclear.text

    chosen = {"recipient_org_ids": [str(org_id("cgd")), str(org_id("excise"))], "cc_org_ids": str(org_id("td"))}
    sent = await web.post("/compose", data=form | chosen | {"recipient_text": "ทุกกรมในสังกัดกระทรวงการคลัง"})
    assert sent.status_code == 303
    letter = await web.get(sent.headers["location"])
    for name in ("กรมบัญชีกลาง", "กรมสรรพสามิต", "กรมสรรพากร", "กรมธนารักษ์"):
        assert name in letter.text


async def test_a_buddhist_era_deadline_reaches_the_letter_and_a_gregorian_year_is_refused(web):  # noqa: F811
    await sign_in(web, "ops.clerk")
    page = await web.get("/compose")
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page.text).group(1)
    form = {"csrf_token": csrf_of(page), "idempotency_key": key, "type": "external", "urgency": "urgent"}
    form |= {"secrecy": "normal", "subject": "ขอข้อมูลด่วน", "recipient_org_ids": str(org_id("rd"))}

    refused = await web.post("/compose", data=form | {"deliver_by": "15/1/2027 14:00"})
    assert refused.status_code == 422
    assert 'id="deliver_by-error"' in refused.text and "ปีพุทธศักราช เช่น 2570" in refused.text
    assert 'value="15/1/2027 14:00"' in refused.text  # kept as typed

    sent = await web.post("/compose", data=form | {"deliver_by": "15 ม.ค. 2570 14.00 น.", "doc_date": "1/12/2569"})
    assert sent.status_code == 303
    letter = await web.get(sent.headers["location"])
    assert re.search(r'class="deadline">15 ม.ค. 2570 14:00 น.<', letter.text)
    assert "1 ธันวาคม 2569" in letter.text or "1 ธ.ค. 2569" in letter.text


async def test_the_date_filters_take_buddhist_era_dates_and_name_a_gregorian_one(web):  # noqa: F811
    await sign_in(web, "cgd.clerk")
    fine = await web.get("/inbox", params={"from": "1 ม.ค. 2569", "to": "31/12/2569"})
    assert fine.status_code == 200 and 'id="from-error"' not in fine.text
    assert 'value="1 ม.ค. 2569"' in fine.text
    wrong = await web.get("/inbox", params={"from": "1/1/2026"})
    assert wrong.status_code == 200 and 'id="from-error"' in wrong.text and "2569" in wrong.text
    await sign_in(web, "auditor")
    audit = {"org": str(org_id("cgd")), "from": "1 ม.ค. 2569", "to": "31 ธ.ค. 2569"}
    searched = await web.get("/audit", params=audit)
    assert searched.status_code == 200 and "field-error" not in searched.text
    wrong = await web.get("/audit", params=audit | {"to": "31/12/2026"})
    assert wrong.status_code == 200 and 'id="to-error"' in wrong.text and "2569" in wrong.text
    year = await web.get("/registers/receive", params={"year": "2026", "org_id": str(org_id("cgd"))})
    assert "ไม่ใช่ปีพุทธศักราช" in year.text and "ทะเบียนหนังสือรับ" in year.text


async def test_without_the_script_a_letter_is_forwarded_to_units_typed_by_name_or_code(web):  # noqa: F811
    token = await web.post("/api/v1/auth/token", data={"username": "ops.clerk", "password": "sarabun-demo"})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    body = {"type": "external", "subject": "ขอส่งต่อ", "recipient_org_ids": [str(org_id("cgd"))]}
    letter = (await web.post("/api/v1/letters", headers=headers, json=body)).json()
    await sign_in(web, "cgd.clerk")

    async def delivered():
        page = await web.get("/inbox")
        found = re.search(r'action="/deliveries/([0-9a-f-]+)/receive"', page.text)
        return (found.group(1), page) if found else None

    delivery, page = await eventually(delivered)
    form = {"csrf_token": csrf_of(page), "next": "/inbox"}
    assert (await web.post(f"/deliveries/{delivery}/receive", data=form)).status_code == 303
    unclear = await web.post(f"/deliveries/{delivery}/forward", data=form | {"recipient_text": "กรมสรร"})
    assert unclear.status_code == 422 and "กรมสรรพสามิต (กค 0600)" in unclear.text
    forwarded = await web.post(f"/deliveries/{delivery}/forward", data=form | {"recipient_text": "กค 0600\nกรมศุลกากร"})
    assert forwarded.status_code == 303
    sent = await web.get(f"/letters/{letter['id']}")
    assert sent.status_code == 200
    answer = await web.get(f"/api/v1/letters/{letter['id']}", headers=headers)
    reached = {d["recipient_org_id"] for d in answer.json()["deliveries"]}
    assert {str(org_id("excise")), str(org_id("customs"))} <= reached
