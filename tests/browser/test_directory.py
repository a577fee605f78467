"""Compose against a real-sized directory: 8,000 units in four levels (ministry → department/OPS → division →
section). A clerk finds a section deep in the tree by part of its name, a division by its letter code, another
section by browsing the tree, and a recipient group; the letter goes to all of them. The page holds only the
suggestions shown and the tree levels opened, never a box per unit. Also a deadline typed in the Buddhist era."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy
from playwright.sync_api import expect

from services.intake.adapters.tables import directory_units
from services.routing.adapters.tables import orgs as orgs_table
from shared.seed import SAMPLE_DIRECTORY, org_id
from tests.browser.conftest import pick, running, shoot, token
from tests.browser.test_scenario import until

UNITS = 8000
SAMPLE = json.loads(SAMPLE_DIRECTORY.read_text(encoding="utf-8"))["units"]
DIVISIONS = (
    "กองบริหารทั่วไป",
    "กองคลัง",
    "กองการเจ้าหน้าที่",
    "กองนโยบายและแผน",
    "กองกฎหมาย",
    "ศูนย์เทคโนโลยีสารสนเทศและการสื่อสาร",
    "กองตรวจสอบภายใน",
    "กองพัฒนาระบบงาน",
    "กองมาตรฐานและประเมินผล",
    "กองประสานราชการ",
)
SECTIONS = ("ฝ่ายบริหารงานทั่วไป", "กลุ่มงานการเงิน", "กลุ่มงานพัสดุ", "กลุ่มงานบัญชี", "ฝ่ายสารบรรณ", "กลุ่มงานวิชาการ")
# The three a clerk looks for, each one of a kind in the 8,000.
DEEP = ("t07-d3-v6-s4", "กลุ่มงานตรวจสอบพัสดุอิเล็กทรอนิกส์")
BY_CODE = ("t12-d5-v8", "ทด12 0508")
BROWSED = ("t03-d2-v4-s2", "กลุ่มงานการเงิน")


def generated_directory(total: int) -> list[dict]:
    """Ministries of six departments (the first its OPS) of ten divisions of six sections, parents first,
    cut at `total` rows with the sample ministry's units counted in."""
    rows: list[dict] = []

    def add(key: str, code: str, name: str, kind: str, parent: str | None) -> None:
        rows.append(
            {
                "id": org_id(key),
                "key": key,
                "code": code,
                "name": name,
                "kind": kind,
                "parent_id": org_id(parent) if parent else None,
            }
        )

    for m in range(1, 20):
        ministry = f"t{m:02d}"
        add(ministry, f"ทด{m:02d}", f"กระทรวงทดสอบที่ {m}", "ministry", None)
        for d in range(6):
            department = f"{ministry}-d{d}"
            kind, name = ("ops", f"สำนักงานปลัดกระทรวงทดสอบที่ {m}") if d == 0 else ("department", f"กรมทดสอบ {m}-{d}")
            add(department, f"ทด{m:02d} {d:02d}00", name, kind, ministry)
            for v in range(1, 11):
                division = f"{department}-v{v}"
                add(division, f"ทด{m:02d} {d:02d}{v:02d}", DIVISIONS[v - 1], "division", department)
                for s in range(1, 7):
                    section = f"{division}-s{s}"
                    name = DEEP[1] if section == DEEP[0] else SECTIONS[s - 1]
                    add(section, f"ทด{m:02d} {d:02d}{v:02d}.{s}", name, "section", division)
    return rows[: total - len(SAMPLE)]


def load_directory(data: Path, rows: list[dict]) -> None:
    """Writes the units straight into routing's directory table, and into intake's copy of it, as an import
    and its `directory.unit.added` events would leave them."""
    known = [
        {"org_id": r["id"], "parent_org_id": r["parent_id"], "kind": r["kind"], "as_of": datetime.now(UTC)}
        for r in rows
    ]
    for database, table, values in (("routing", orgs_table, rows), ("intake", directory_units, known)):
        engine = sqlalchemy.create_engine(f"sqlite:///{data / database}.db")
        with engine.begin() as connection:
            connection.execute(table.insert(), values)
        engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """A deployment whose directory holds 8,000 units: the sample ministry and the generated ones, loaded into
    routing's database between a first start (which creates and seeds it) and the start the tests use."""
    data = tmp_path_factory.mktemp("sarabun-8000")
    with running(data):
        pass
    load_directory(data, generated_directory(UNITS))
    with running(data) as base:
        yield base


def test_recipients_are_found_among_8000_units_by_name_code_tree_and_group(open_as, api):
    headers = token(api, "ops.clerk")
    assert len(api.get("/orgs", headers=headers).json()) == UNITS
    ops = open_as("ops.clerk")
    ops.goto("/compose")
    ops.fill("#subject", "ขอความร่วมมือสำรวจข้อมูลพัสดุ")
    picker = ops.locator("#recipients-picker")
    box = picker.get_by_role("combobox", name="ค้นหาผู้รับ")

    # a common name: a bounded list with a count of the rest, never the whole directory
    box.fill("กองคลัง")
    options = picker.get_by_role("option")
    expect(options).to_have_count(20)
    treasuries = sum(1 for unit in generated_directory(UNITS) if unit["name"] == "กองคลัง")
    expect(picker.locator(".suggestion-count")).to_have_text(f"แสดง 20 จาก {treasuries} รายการ พิมพ์เพิ่มเพื่อให้แคบลง")
    expect(options.first).to_contain_text("สำนักงานปลัดกระทรวงทดสอบที่ 1")  # where it is, to tell them apart
    box.press("Escape")
    expect(options).to_have_count(0)

    # a section four levels down, by the middle of its Thai name; chosen with the keyboard
    box.fill("สอบพัสดุอิเล็ก")
    expect(options).to_have_count(1)
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    box.press("Enter")
    expect(picker.locator(f".chip[data-key='{DEEP[0]}']")).to_contain_text(DEEP[1])
    expect(box).to_be_focused()

    # a division by its letter code, typed without the space
    pick(picker, BY_CODE[1].replace(" ", ""), BY_CODE[0])

    # a section by browsing the tree: ministry → department → division → section
    picker.get_by_role("button", name="เลือกจากผังหน่วยงาน").click()
    tree = picker.get_by_role("tree")
    for key in ("t03", "t03-d2", "t03-d2-v4"):
        tree.locator(f"[role=treeitem][data-key='{key}'] > .twisty").click()
        expect(tree.locator(f"[role=treeitem][data-key='{key}']")).to_have_attribute("aria-expanded", "true")
    section = tree.locator(f"[role=treeitem][data-key='{BROWSED[0]}']")
    section.locator(":scope > .tree-label").click()
    expect(section).to_have_attribute("aria-selected", "true")
    expect(picker.locator(f".chip[data-key='{BROWSED[0]}']")).to_contain_text(BROWSED[1])

    # a recipient group, one choice for all its members
    box.fill("ทุกกรมในสังกัด")
    picker.get_by_role("option", name="ทุกกรมในสังกัดกระทรวงการคลัง").click()
    expect(picker.locator(".chip.group")).to_contain_text("ทุกกรมในสังกัดกระทรวงการคลัง")

    # the page holds what is shown, not the directory
    assert ops.locator("input[type=checkbox]").count() < 10
    assert ops.locator("[role=treeitem]").count() < 60
    assert ops.locator("#recipients-picker input[type=hidden]").count() == 4
    shoot(ops, "compose-directory")

    ops.click("#send")
    expect(ops.locator("#notice")).to_contain_text("ส่งหนังสือแล้ว เลขที่")
    recipients = ops.locator("#recipients tbody tr")
    departments = [unit["name"] for unit in SAMPLE if unit["kind"] == "department"]
    expect(recipients).to_have_count(3 + len(departments))
    for name in (DEEP[1], DIVISIONS[7], BROWSED[1], *departments):
        expect(ops.locator("#recipients")).to_contain_text(name)
    rows = {ops.locator("#recipients tbody tr").nth(n).get_attribute("data-org") for n in range(recipients.count())}
    assert {str(org_id(DEEP[0])), str(org_id(BY_CODE[0])), str(org_id(BROWSED[0]))} <= rows


def test_the_own_unit_and_the_ministries_are_not_offered(open_as):
    ops = open_as("ops.clerk")
    ops.goto("/compose")
    picker = ops.locator("#recipients-picker")
    picker.get_by_role("combobox").fill("สำนักงานปลัดกระทรวงการคลัง")
    expect(picker.locator(".suggestion-count")).to_have_text("ไม่พบหน่วยงานที่ตรงกัน")
    picker.get_by_role("combobox").fill("กระทรวงทดสอบที่ 4")  # the ministry heads the tree; its OPS receives
    expect(picker.get_by_role("option")).to_have_count(1)
    expect(picker.get_by_role("option")).to_contain_text("สำนักงานปลัดกระทรวงทดสอบที่ 4")


def test_the_unit_tree_is_walked_and_chosen_from_with_the_keyboard(open_as):
    ops = open_as("ops.clerk")
    ops.goto("/compose")
    picker = ops.locator("#cc-picker")
    picker.get_by_role("button", name="เลือกจากผังหน่วยงาน").click()
    tree = picker.get_by_role("tree", name="ผังหน่วยงาน")
    ministry = tree.locator("[role=treeitem][data-key=mof]")
    expect(ministry).to_have_attribute("tabindex", "0")  # the tree is one tab stop, at its first item
    ministry.focus()
    ops.keyboard.press("ArrowRight")
    expect(ministry).to_have_attribute("aria-expanded", "true")
    ops.keyboard.press("ArrowDown")
    own = tree.locator("[role=treeitem][data-key=ops]")
    expect(own).to_be_focused()
    expect(own).to_have_attribute("aria-disabled", "true")  # one's own unit is shown, not offered
    ops.keyboard.press("ArrowDown")
    treasury = tree.locator("[role=treeitem][data-key=td]")
    expect(treasury).to_be_focused()
    ops.keyboard.press("Enter")
    expect(treasury).to_have_attribute("aria-selected", "true")
    expect(picker.locator(".chip[data-key=td]")).to_be_visible()
    ops.keyboard.press("ArrowLeft")
    expect(ministry).to_be_focused()
    ops.keyboard.press("ArrowLeft")
    expect(ministry).to_have_attribute("aria-expanded", "false")
    picker.get_by_role("button", name="นำ กรมธนารักษ์ ออก").click()
    expect(picker.locator(".chip")).to_have_count(0)


def test_a_deadline_typed_in_the_buddhist_era_is_the_letters_deadline(open_as):
    ops = open_as("ops.clerk")
    ops.goto("/compose")
    ops.fill("#subject", "ขอข้อมูลภายในกำหนด")
    pick(ops.locator("#recipients-picker"), "กรมสรรพากร", "rd")
    ops.check("input[name=urgency][value=urgent]")
    expect(ops.locator("#deliver_by")).to_have_attribute("placeholder", "เช่น 2/12/2569 16:30")

    # a Gregorian year typed by mistake: refused with the year to use, nothing else lost
    ops.fill("#deliver_by", "15/1/2027 14:00")
    ops.click("#send")
    expect(ops.locator("#deliver_by-error")).to_contain_text("กรุณาใช้ปีพุทธศักราช เช่น 2570")
    expect(ops.locator("#subject")).to_have_value("ขอข้อมูลภายในกำหนด")
    expect(ops.locator("#recipients-picker .chip[data-key=rd]")).to_be_visible()

    ops.fill("#deliver_by", "15 ม.ค. 2570 14.00 น.")
    ops.click("#send")
    expect(ops.locator("#notice")).to_contain_text("ส่งหนังสือแล้ว เลขที่")
    expect(ops.locator(".deadline")).to_have_text("15 ม.ค. 2570 14:00 น.")


def test_the_inbox_filters_take_buddhist_era_dates(open_as, api):
    rd = open_as("rd.clerk")
    until(lambda: rd.goto("/inbox") and rd.locator("#inbox tbody tr").count() >= 1)
    rd.fill("#from", "1 ธ.ค. 2569")
    rd.get_by_role("button", name="ค้นหาหนังสือ").click()
    expect(rd.locator("#from-error")).to_have_count(0)
    expect(rd.locator("#from")).to_have_value("1 ธ.ค. 2569")
    rd.fill("#from", "1/12/2026")
    rd.get_by_role("button", name="ค้นหาหนังสือ").click()
    expect(rd.locator("#from-error")).to_contain_text("ปีพุทธศักราช")
