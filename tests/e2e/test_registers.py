"""The registers (ทะเบียนหนังสือส่ง / ทะเบียนหนังสือรับ) through the public API, in embedded mode."""

import csv
import io
import re
from datetime import UTC, datetime

from shared.thai import BANGKOK, buddhist_year
from tests.e2e.helpers import eventually, inbox_item, login, org_ids
from tests.e2e.test_bad_input import assert_problem

OPS_NAME, CGD_NAME, RD_NAME = "สำนักงานปลัดกระทรวงการคลัง", "กรมบัญชีกลาง", "กรมสรรพากร"
BOM = b"\xef\xbb\xbf"


async def send(api, headers, recipients, subject, circular=False) -> dict:
    body = {"type": "external", "subject": subject, "recipient_org_ids": recipients, "circular": circular}
    response = await api.post("/api/v1/letters", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def three_letters(api):
    """ops.clerk sends an ordinary letter, a circular and another ordinary letter, in that order."""
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    first = await send(api, ops, [orgs["cgd"]], "ขอเชิญประชุม")
    circular = await send(api, ops, [orgs["cgd"], orgs["rd"]], "แจ้งเวียนแนวปฏิบัติ", circular=True)
    second = await send(api, ops, [orgs["rd"], orgs["cgd"]], "ขอข้อมูลงบประมาณ")
    return ops, orgs, (first, circular, second)


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert response.content.startswith(BOM)
    return list(csv.reader(io.StringIO(response.content[len(BOM) :].decode("utf-8"))))


async def test_the_send_register_lists_both_series_by_number(api):
    ops, orgs, (first, circular, second) = await three_letters(api)
    year = buddhist_year()
    page = await api.get("/api/v1/registers/send", headers=ops, params={"year": year})
    assert page.status_code == 200, page.text
    body = page.json()
    assert (body["register"], body["year"], body["org_name"], body["next_cursor"]) == ("send", year, OPS_NAME, None)
    rows = body["items"]
    assert [(r["register_no"], r["doc_no"]) for r in rows] == [(1, "กค 0200/1"), (1, "กค 0200/ว 1"), (2, "กค 0200/2")]
    assert [r["subject"] for r in rows] == ["ขอเชิญประชุม", "แจ้งเวียนแนวปฏิบัติ", "ขอข้อมูลงบประมาณ"]
    assert [r["to"] for r in rows] == [CGD_NAME, f"{CGD_NAME}, {RD_NAME}", f"{RD_NAME}, {CGD_NAME}"]
    assert [r["circular"] for r in rows] == [False, True, False]
    for row, letter in zip(rows, (first, circular, second), strict=True):
        assert row["from"] == OPS_NAME and row["cancelled"] is False and row["action"] == ""
        assert re.fullmatch(rf"\d{{1,2}} \S+ {year}", row["date_th"]), row["date_th"]
        assert row["doc_date"][:4] == str(year - 543) and row["registered_at"].endswith("+07:00")
        assert row["registered_at"][:10] == row["doc_date"]
        assert letter["doc_no"] == row["doc_no"]
    # Without a year it is this year's register; keyset pages continue where the last one stopped.
    assert (await api.get("/api/v1/registers/send", headers=ops)).json()["items"] == rows
    one = (await api.get("/api/v1/registers/send", headers=ops, params={"limit": 2})).json()
    assert [r["doc_no"] for r in one["items"]] == ["กค 0200/1", "กค 0200/ว 1"] and one["next_cursor"]
    two = (
        await api.get("/api/v1/registers/send", headers=ops, params={"limit": 2, "cursor": one["next_cursor"]})
    ).json()
    assert ([r["doc_no"] for r in two["items"]], two["next_cursor"]) == (["กค 0200/2"], None)
    assert_problem(await api.get("/api/v1/registers/send", headers=ops, params={"cursor": "bm9wZQ"}), 422)

    records = read_csv(await api.get("/api/v1/registers/send", headers=ops, params={"format": "csv"}))
    assert records[0] == ["เลขทะเบียนส่ง", "ที่", "ลงวันที่", "จาก", "ถึง", "เรื่อง", "การปฏิบัติ", "หมายเหตุ"]
    assert [r[:2] for r in records[1:]] == [["1", "กค 0200/1"], ["1", "กค 0200/ว 1"], ["2", "กค 0200/2"]]
    assert records[2][2:6] == [rows[1]["date_th"], OPS_NAME, f"{CGD_NAME}, {RD_NAME}", "แจ้งเวียนแนวปฏิบัติ"]

    # กรมสรรพากร sent nothing (letters addressed to it belong to its receive register), and ops's is not its to read.
    rd = await login(api, "rd.clerk")
    assert (await api.get("/api/v1/registers/send", headers=rd)).json()["items"] == []
    assert_problem(await api.get("/api/v1/registers/send", headers=rd, params={"org_id": orgs["ops"]}), 404)


async def test_the_receive_register_numbers_what_the_unit_registered(api):
    ops, orgs, (first, _, second) = await three_letters(api)
    cgd = await login(api, "cgd.clerk")
    item = await eventually(lambda: inbox_item(api, cgd, first["id"]))
    assert await eventually(lambda: inbox_item(api, cgd, second["id"]))  # delivered, not registered: no row
    received = (await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=cgd)).json()
    page = await api.get("/api/v1/registers/receive", headers=cgd)
    assert page.status_code == 200, page.text
    [row] = page.json()["items"]
    assert (row["register_no"], row["doc_no"], row["from"], row["to"]) == (1, "กค 0200/1", OPS_NAME, CGD_NAME)
    assert (row["subject"], row["action"], row["cancelled"]) == ("ขอเชิญประชุม", "ลงรับแล้ว", False)
    assert row["registered_at"].endswith("+07:00") and row["registered_at"][:19] == _bangkok(received["received_at"])
    assert (await api.get("/api/v1/registers/receive", headers=ops)).json()["items"] == []

    records = read_csv(await api.get("/api/v1/registers/receive", headers=cgd, params={"format": "csv"}))
    assert records[0] == [
        "เลขทะเบียนรับ",
        "ที่",
        "ลงวันที่",
        "จาก",
        "ถึง",
        "เรื่อง",
        "การปฏิบัติ",
        "หมายเหตุ",
        "วันที่รับ",
        "เวลารับ",
    ]
    [record] = records[1:]
    assert record[:8] == ["1", "กค 0200/1", row["date_th"], OPS_NAME, CGD_NAME, "ขอเชิญประชุม", "ลงรับแล้ว", ""]
    assert record[8].endswith(str(buddhist_year())) and record[9] == row["registered_at"][11:16].replace(":", ".")


def _bangkok(iso: str) -> str:
    moment = datetime.fromisoformat(iso)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(BANGKOK).isoformat()[:19]


async def test_an_auditor_reads_any_units_register_by_naming_it(api):
    _, orgs, _ = await three_letters(api)
    auditor = await login(api, "auditor")
    response = await api.get("/api/v1/registers/send", headers=auditor)
    assert_problem(response, 422)
    assert "org_id" in response.json()["detail"]
    rows = (await api.get("/api/v1/registers/send", headers=auditor, params={"org_id": orgs["ops"]})).json()["items"]
    assert [r["doc_no"] for r in rows] == ["กค 0200/1", "กค 0200/ว 1", "กค 0200/2"]
    csv_rows = read_csv(
        await api.get("/api/v1/registers/send", headers=auditor, params={"org_id": orgs["ops"], "format": "csv"})
    )
    assert len(csv_rows) == 4
    unknown = {"org_id": "8f0e0f7e-0000-4000-8000-000000000000"}
    assert_problem(await api.get("/api/v1/registers/send", headers=auditor, params=unknown), 404)
    admin = await login(api, "admin")
    assert_problem(await api.get("/api/v1/registers/send", headers=admin, params={"org_id": orgs["ops"]}), 403)


async def test_an_admin_sets_where_numbering_continues_only_forward(api):
    ops, orgs, _ = await three_letters(api)
    admin, td = await login(api, "admin"), await login(api, "td.clerk")
    year = buddhist_year()
    url = "/api/v1/registers/send/next-number"
    body = {"year": year, "next_number": 50, "org_id": orgs["ops"]}
    assert_problem(await api.put(url, headers=td, json=body), 403)
    assert_problem(await api.put(url, headers=ops, json=body), 403)
    moved = await api.put(url, headers=admin, json=body)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["next_number"], moved.json()["year"]) == (50, year)
    assert (await send(api, ops, [orgs["cgd"]], "ต่อจากทะเบียนกระดาษ"))["doc_no"] == "กค 0200/50"
    back = await api.put(url, headers=admin, json={**body, "next_number": 10})
    assert_problem(back, 409)
    assert "50" in back.json()["detail"]
    assert (await send(api, ops, [orgs["cgd"]], "เลขถัดไป"))["doc_no"] == "กค 0200/51"
    numbers = [r["register_no"] for r in (await api.get("/api/v1/registers/send", headers=ops)).json()["items"]]
    assert numbers == [1, 1, 2, 50, 51]

    # The circular series is set on its own; the ordinary one is not moved by it.
    assert (
        await api.put(url, headers=admin, json={**body, "next_number": 20, "series": "circular"})
    ).status_code == 200
    assert (await send(api, ops, [orgs["rd"]], "เวียน", circular=True))["doc_no"] == "กค 0200/ว 20"
    assert (await send(api, ops, [orgs["rd"]], "ธรรมดา"))["doc_no"] == "กค 0200/52"

    assert_problem(await api.put(url, headers=admin, json={**body, "year": 1999}), 422)
    assert_problem(await api.put(url, headers=admin, json={**body, "year": year - 1}), 422)
    assert_problem(await api.put(url, headers=admin, json={**body, "next_number": 0}), 422)
    assert_problem(
        await api.put(url, headers=admin, json={**body, "org_id": "8f0e0f7e-0000-4000-8000-000000000000"}), 422
    )
    assert_problem(await api.put("/api/v1/registers/foo/next-number", headers=admin, json=body), 422)
    receive_url = "/api/v1/registers/receive/next-number"
    assert_problem(await api.put(receive_url, headers=admin, json={**body, "series": "circular"}), 422)


async def test_the_receive_register_continues_where_it_is_set(api):
    ops, orgs, (first, _, _) = await three_letters(api)
    admin, cgd = await login(api, "admin"), await login(api, "cgd.clerk")
    body = {"year": buddhist_year(), "next_number": 7, "org_id": orgs["cgd"]}
    assert (await api.put("/api/v1/registers/receive/next-number", headers=admin, json=body)).status_code == 200
    item = await eventually(lambda: inbox_item(api, cgd, first["id"]))
    received = await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=cgd)
    assert received.json()["receive_no"] == 7
    rows = (await api.get("/api/v1/registers/receive", headers=cgd)).json()["items"]
    assert [r["register_no"] for r in rows] == [7]


async def test_unknown_registers_and_years_are_invalid_input(api):
    ops = await login(api, "ops.clerk")
    assert_problem(await api.get("/api/v1/registers/foo", headers=ops), 422)
    for year in (1999, 2026, 2701, "สองพัน"):
        assert_problem(await api.get("/api/v1/registers/send", headers=ops, params={"year": year}), 422)
    assert_problem(await api.get("/api/v1/registers/receive", headers=ops, params={"format": "xml"}), 422)
    assert_problem(await api.get("/api/v1/registers/send", headers=ops, params={"org_id": "x"}), 422)
    assert_problem(await api.get("/api/v1/registers/send"), 401)
