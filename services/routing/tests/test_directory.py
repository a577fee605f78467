"""The directory's rules: what a directory file may say, whose registers number a unit (no I/O)."""

import json
import uuid
from dataclasses import replace
from datetime import date, timedelta

from services.routing.domain.directory import (
    Unit,
    check_directory,
    diff,
    parse_csv,
    parse_file,
    parse_json,
    registry_of,
    to_csv,
    to_json,
    with_registry,
)
from shared.seed import SAMPLE_DIRECTORY

# ── Central registries (สารบรรณกลาง): whose registers number a unit's letters ─────────────────────────────


def registry_tree() -> dict[uuid.UUID, dict]:
    """กรมบัญชีกลาง keeps registers; its secretariat does not, nor does a section under that; a division
    keeps its own, and its section does not."""
    rows = [
        ("cgd", "กค 0400", None, True),
        ("cgd.secretariat", "กค 0401", "cgd", False),
        ("cgd.secretariat.mail", "กค 0401.1", "cgd.secretariat", False),
        ("cgd.budget", "กค 0402", "cgd", True),
        ("cgd.budget.control", "กค 0402.2", "cgd.budget", False),
    ]
    return {
        key_id(key): {
            "id": key_id(key),
            "code": code,
            "parent_id": key_id(parent) if parent else None,
            "own_registers": own,
        }
        for key, code, parent, own in rows
    }


def key_id(key: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, key)


def test_a_unit_keeping_its_own_registers_is_its_own_registry():
    orgs = registry_tree()
    assert registry_of(key_id("cgd"), orgs) == key_id("cgd")
    assert registry_of(key_id("cgd.budget"), orgs) == key_id("cgd.budget")  # a division with registers of its own


def test_a_unit_without_registers_uses_the_nearest_parent_that_keeps_them():
    orgs = registry_tree()
    assert registry_of(key_id("cgd.secretariat"), orgs) == key_id("cgd")
    assert registry_of(key_id("cgd.secretariat.mail"), orgs) == key_id("cgd")  # past a parent keeping none
    assert registry_of(key_id("cgd.budget.control"), orgs) == key_id("cgd.budget")  # nearest, not the department
    mail = with_registry(orgs[key_id("cgd.secretariat.mail")], orgs)
    assert (mail["registry_id"], mail["registry_code"], mail["code"]) == (key_id("cgd"), "กค 0400", "กค 0401.1")
    own = with_registry(orgs[key_id("cgd.budget")], orgs)
    assert (own["registry_id"], own["registry_code"]) == (key_id("cgd.budget"), "กค 0402")


def test_a_unit_with_no_registry_above_it_or_in_a_cycle_numbers_in_its_own():
    orgs = registry_tree()
    orgs[key_id("cgd")] = {**orgs[key_id("cgd")], "own_registers": False}  # nobody above keeps registers
    assert registry_of(key_id("cgd.secretariat.mail"), orgs) == key_id("cgd.secretariat.mail")
    a, b = uuid.uuid4(), uuid.uuid4()
    looped = {
        a: {"id": a, "code": "A", "parent_id": b, "own_registers": False},
        b: {"id": b, "code": "B", "parent_id": a, "own_registers": False},
    }
    assert registry_of(a, looped) == a and with_registry(looped[b], looped)["registry_code"] == "B"
    assert registry_of(uuid.uuid4(), looped) is not None  # an unknown unit: itself, never a crash


# ── Directory files: parsing, checking, the diff ─────────────────────────────────────────────────────────


TODAY = date(2026, 12, 1)


def unit(key, code, parent=None, kind="department", **more) -> Unit:
    return Unit(key=key, name=f"หน่วยงาน {key}", code=code, kind=kind, parent_key=parent, **more)


def tree() -> list[Unit]:
    return [
        unit("mof", "กค", kind="ministry"),
        unit("cgd", "กค 0400", "mof"),
        unit("cgd.budget", "กค 0402", "cgd", kind="division"),
    ]


def fields_of(errors) -> list[tuple]:
    return [(e["row"], e["field"]) for e in errors]


CSV_TH = (
    "\ufeffรหัสหน่วยงาน,ชื่อหน่วยงาน,ชื่อภาษาอังกฤษ,รหัสหนังสือ,รหัสส่วนราชการ 10 หลัก,ประเภท,หน่วยงานต้นสังกัด,"
    "มีทะเบียนของตนเอง,เริ่มใช้,สิ้นสุด\r\n"
    "mof,กระทรวงการคลัง,Ministry of Finance,กค,0300000000,กระทรวง,,ใช่,,\r\n"
    "cgd,กรมบัญชีกลาง,,กค 0400,0304000000,กรม,mof,ใช่,2545-10-01,\r\n"
    "cgd.budget,กองบริหารเงิน,,กค 0402,,กอง,cgd,ไม่ใช่,,\r\n"
)


def test_a_csv_with_thai_headings_and_a_bom_reads_as_units():
    units, errors = parse_csv(CSV_TH)
    assert errors == []
    mof, cgd, budget = units
    assert (mof.kind, mof.name_en, mof.national_code) == ("ministry", "Ministry of Finance", "0300000000")
    assert cgd.valid_from == date(2002, 10, 1)  # 2545 is the Buddhist era
    assert (budget.kind, budget.parent_key, budget.own_registers, budget.row) == ("division", "cgd", False, 3)


def test_english_headings_and_json_say_the_same():
    english = "key,name,code,kind,parent_key\nmof,กระทรวงการคลัง,กค,ministry,\ncgd,กรมบัญชีกลาง,กค 0400,department,mof\n"
    from_csv, errors = parse_file(english.encode())
    assert errors == []
    from_json, errors = parse_file(json.dumps(to_json(from_csv)).encode())
    assert errors == [] and from_json == from_csv


def test_a_malformed_csv_row_is_named_by_its_row():
    text = "key,name,code,kind\nmof,กระทรวงการคลัง,กค,ministry\ncgd,กรมบัญชีกลาง,กค 0400\n"
    units, errors = parse_csv(text)
    assert fields_of(errors) == [(2, None)] and "malformed row" in errors[0]["message"]
    broken = 'key,name,code,kind\nmof,"กระทรวง\nการคลัง,กค,ministry'
    assert parse_csv(broken)[1][0]["row"] == 1


def test_each_bad_field_is_named_thai_first():
    data = {
        "units": [
            {"key": "mof", "name": "กระทรวงการคลัง", "code": "กค", "kind": "ministry"},
            {"key": "x", "name": "หน่วย", "code": "กค 1", "kind": "agency"},
            {"key": "y", "name": "หน่วย", "code": "กค 2", "kind": "department", "national_code": "12345"},
            {"key": "z", "code": "กค 3", "kind": "department", "parent": "mof"},
            {
                "key": "w",
                "name": "หน่วย",
                "code": "กค 4",
                "kind": "กรม",
                "valid_from": "2026-10-01",
                "valid_to": "2026-09-30",
            },
            {"key": "bad key!", "name": "หน่วย", "code": "กค 5", "kind": "กรม", "own_registers": "บางที"},
            "not an object",
        ]
    }
    units, errors = parse_json(data)
    assert [u.key for u in units] == ["mof"]
    assert fields_of(errors) == [
        (2, "kind"),
        (3, "national_code"),
        (4, "parent"),
        (4, "name"),
        (5, "valid_to"),
        (6, "key"),
        (6, "own_registers"),
        (7, None),
    ]
    unknown_kind = errors[0]["message"]
    assert unknown_kind.index("ไม่รู้จักประเภท") < unknown_kind.index("(unknown kind")
    assert "10 digits" in errors[1]["message"] and "valid_to is before valid_from" in errors[4]["message"]


def test_a_file_that_is_not_utf8_or_not_a_directory_is_refused():
    assert "UTF-8" in parse_file("รหัสหน่วยงาน".encode("tis-620"))[1][0]["message"]
    assert parse_file(b'{"orgs": []}')[1][0]["field"] == "units"
    assert parse_file(b"{not json")[1][0]["message"].endswith("(malformed JSON)")
    assert parse_file(b"id,name\n1,x\n")[1][0] == {
        "row": None,
        "field": "id",
        "message": "ไม่รู้จักหัวตารางนี้ (unknown column)",
    }


def test_a_duplicate_key_is_refused():
    units = [*tree(), replace(unit("cgd", "กค 0401", "mof"), row=4)]
    assert fields_of(check_directory(units, TODAY)) == [(4, "key")]


def test_a_duplicate_code_among_current_units_is_refused_but_a_retired_unit_may_keep_its_old_one():
    clash = replace(unit("rd", "กค 0400", "mof"), row=4)
    assert fields_of(check_directory([*tree(), clash], TODAY)) == [(4, "code")]
    retired = replace(clash, valid_to=TODAY - timedelta(days=1))
    assert check_directory([*tree(), retired], TODAY) == []


def test_an_unknown_parent_is_refused():
    units = [*tree(), replace(unit("rd", "กค 0700", "treasury"), row=4)]
    errors = check_directory(units, TODAY)
    assert fields_of(errors) == [(4, "parent_key")] and "unknown parent_key" in errors[0]["message"]


def test_a_cycle_is_refused_for_each_unit_in_it():
    a = replace(unit("a", "กค 1", "b", kind="division"), row=4)
    b = replace(unit("b", "กค 2", "a", kind="division"), row=5)
    below = replace(unit("c", "กค 3", "a", kind="section"), row=6)
    errors = check_directory([*tree(), a, b, below], TODAY)
    assert fields_of(errors) == [(4, "parent_key"), (5, "parent_key")]
    assert all("cycle" in e["message"] for e in errors)
    assert check_directory([*tree(), replace(unit("s", "กค 9", "s", kind="division"), row=4)], TODAY)


def test_an_empty_directory_and_a_current_unit_under_a_retired_one_are_refused():
    assert check_directory([], TODAY)[0]["field"] == "units"
    units = tree()
    units[1] = replace(units[1], valid_to=TODAY - timedelta(days=30))
    assert "retired" in check_directory(units, TODAY)[0]["message"]


def test_the_diff_names_what_is_added_changed_and_retired():
    current = [*tree(), unit("rd", "กค 0700", "mof"), unit("td", "กค 0300", "mof")]
    incoming = [
        *tree()[:2],
        replace(tree()[2], name="กองใหม่"),  # renamed
        unit("rd", "กค 0700", "mof", valid_to=TODAY - timedelta(days=1)),  # its last day has passed
        unit("excise", "กค 0600", "mof"),  # new; td is left out
    ]
    changes = diff(current, incoming, TODAY)
    assert [u.key for u in changes.added] == ["excise"]
    assert [(u.key, names) for u, names in changes.changed] == [("cgd.budget", ("name",))]
    assert [(u.key, u.valid_to) for u in changes.retired] == [
        ("rd", TODAY - timedelta(days=1)),
        ("td", TODAY - timedelta(days=1)),
    ]
    assert diff(incoming, incoming, TODAY).empty


def test_the_sample_exported_and_imported_again_changes_nothing():
    sample, errors = parse_file(SAMPLE_DIRECTORY.read_bytes(), SAMPLE_DIRECTORY.name)
    assert errors == [] and check_directory(sample, TODAY) == []
    with_retired = [*sample, unit("old", "กค 0400", "mof", valid_to=date(2020, 1, 1), name_en="=cmd")]
    as_csv, errors = parse_file(to_csv(with_retired).encode())
    assert errors == [] and diff(with_retired, as_csv, TODAY).empty
    as_json, errors = parse_file(json.dumps(to_json(with_retired), ensure_ascii=False).encode())
    assert errors == [] and diff(with_retired, as_json, TODAY).empty
    assert to_csv(with_retired).startswith("\ufeffรหัสหน่วยงาน,ชื่อหน่วยงาน")
