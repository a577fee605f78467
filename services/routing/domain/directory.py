"""Rules about the directory of agencies: who sits under whom, and what a directory file may say. No I/O.

A directory file is the whole directory (JSON `{"units": [...]}` or CSV with the same columns, English or
Thai headings). Parsing gives units and a list of row errors `{"row", "field", "message"}` (row = the
1-based data row, None for the file as a whole); the diff against the current directory says what an import
would add, change and retire. Units are never deleted: old letters keep pointing at them.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta

from shared.seed import org_id
from shared.thai import BE_OFFSET, clean

KINDS = ("ministry", "ops", "department", "division", "section")
KIND_TH = {
    "ministry": "กระทรวง",
    "ops": "สำนักงานปลัดกระทรวง",
    "department": "กรม",
    "division": "กอง",
    "section": "กลุ่มงาน",
}
# What people type in the ประเภท column besides the values above.
KIND_ALIASES = {
    **{value: kind for kind, value in KIND_TH.items()},
    **{kind: kind for kind in KINDS},
    "สำนัก": "division",
    "ฝ่าย": "section",
    "bureau": "division",
}

COLUMNS = (
    "key",
    "name",
    "name_en",
    "code",
    "national_code",
    "kind",
    "parent_key",
    "own_registers",
    "valid_from",
    "valid_to",
)
HEADINGS_TH = {
    "key": "รหัสหน่วยงาน",
    "name": "ชื่อหน่วยงาน",
    "name_en": "ชื่อภาษาอังกฤษ",
    "code": "รหัสหนังสือ",
    "national_code": "รหัสส่วนราชการ 10 หลัก",
    "kind": "ประเภท",
    "parent_key": "หน่วยงานต้นสังกัด",
    "own_registers": "มีทะเบียนของตนเอง",
    "valid_from": "เริ่มใช้",
    "valid_to": "สิ้นสุด",
}
FIELD_TH = HEADINGS_TH
REQUIRED = ("key", "name", "code", "kind")
TRUE_WORDS = {"true", "yes", "y", "1", "ใช่", "มี"}
FALSE_WORDS = {"false", "no", "n", "0", "ไม่ใช่", "ไม่มี"}
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
NATIONAL_CODE = re.compile(r"[0-9]{10}")
MAX_TEXT = 300
MAX_CODE = 64
# A cell starting with one of these is a formula to a spreadsheet: export quotes it with ', import unquotes.
FORMULA_START = ("=", "+", "-", "@")
BOM = "\ufeff"

Error = dict  # {"row": int | None, "field": str | None, "message": str}


@dataclass(frozen=True)
class Unit:
    """One unit of the directory as a file states it. `row` is where it came from (not part of the unit)."""

    key: str
    name: str
    code: str
    kind: str
    name_en: str | None = None
    national_code: str | None = None
    parent_key: str | None = None
    own_registers: bool = True
    valid_from: date | None = None
    valid_to: date | None = None
    row: int | None = field(default=None, compare=False)

    @property
    def id(self) -> uuid.UUID:
        return org_id(self.key)  # derived from the key, so every process and every import agrees on it

    def retired(self, today: date) -> bool:
        """Retired once its last day (valid_to, inclusive) has passed."""
        return self.valid_to is not None and self.valid_to < today

    def current(self, today: date) -> bool:
        started = self.valid_from is None or self.valid_from <= today
        return started and not self.retired(today)

    def as_dict(self) -> dict:
        """The unit in the import format (JSON values: dates as ISO text)."""
        values = {name: getattr(self, name) for name in COLUMNS}
        for name in ("valid_from", "valid_to"):
            values[name] = values[name].isoformat() if values[name] else None
        return values


def error(row: int | None, field_name: str | None, thai: str, english: str) -> Error:
    return {"row": row, "field": field_name, "message": f"{thai} ({english})"}


# ── Parsing ──────────────────────────────────────────────────────────────────────────────────────────────


def parse_file(content: bytes, filename: str | None = None) -> tuple[list[Unit], list[Error]]:
    """A directory file, CSV or JSON by its name or else by its first character; UTF-8 with or without BOM."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [error(None, None, "ไฟล์ต้องเป็นข้อความ UTF-8", "the file must be UTF-8 text")]
    if is_json(text, filename):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than any directory is
            return [], [error(None, None, f"อ่าน JSON ไม่ได้: {exc}", "malformed JSON")]
        return parse_json(data)
    return parse_csv(text)


def is_json(text: str, filename: str | None = None) -> bool:
    if filename and filename.lower().endswith(".json"):
        return True
    if filename and filename.lower().endswith(".csv"):
        return False
    return text.lstrip(BOM + " \t\r\n").startswith(("{", "["))


def parse_json(data) -> tuple[list[Unit], list[Error]]:
    """`{"units": [{...}, ...]}`; every field as the API names it, unknown fields refused (they are typos)."""
    if not isinstance(data, dict) or not isinstance(data.get("units"), list):
        return [], [error(None, "units", 'ต้องเป็น {"units": [...]}', 'expected {"units": [...]}')]
    units, errors = [], []
    for row, item in enumerate(data["units"], start=1):
        if not isinstance(item, dict):
            errors.append(error(row, None, "แต่ละหน่วยงานต้องเป็น JSON object", "each unit must be an object"))
            continue
        unknown = sorted(set(item) - set(COLUMNS))
        for name in unknown:
            errors.append(error(row, str(name)[:64], "ไม่รู้จักช่องนี้", "unknown field"))
        unit, row_errors = _unit(row, {k: v for k, v in item.items() if k in COLUMNS}, from_csv=False)
        errors += row_errors
        if unit and not unknown:
            units.append(unit)
    return units, errors


def parse_csv(text: str) -> tuple[list[Unit], list[Error]]:
    """CSV with a heading row (English field names or the Thai headings), one unit per row."""
    lines = list(_csv_rows(text.lstrip(BOM)))
    if lines and lines[0][1] is not None:
        return [], [lines[0][1]]
    if not lines or not any(cell.strip() for cell in lines[0][2]):
        return [], [error(None, None, "ไฟล์ว่าง ไม่มีแถวหัวตาราง", "empty file: no heading row")]
    columns, errors = _columns(lines[0][2])
    if errors:
        return [], errors
    units = []
    for row, problem, cells in lines[1:]:
        if problem:
            errors.append(problem)
            continue
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, as spreadsheets leave them
        if len(cells) != len(columns):
            errors.append(
                error(
                    row,
                    None,
                    f"แถวมี {len(cells)} ช่อง แต่หัวตารางมี {len(columns)} ช่อง",
                    f"malformed row: {len(cells)} cells, {len(columns)} headings",
                )
            )
            continue
        unit, row_errors = _unit(row, dict(zip(columns, cells, strict=True)), from_csv=True)
        errors += row_errors
        if unit:
            units.append(unit)
    return units, errors


def _csv_rows(text: str):
    """(data row number, error or None, cells); the heading is row 0. A row csv cannot read is an error."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    row = -1
    while True:
        row += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield row, error(row or None, None, f"แถวนี้อ่านไม่ได้: {exc}", "malformed CSV row"), []
            return  # the reader cannot resynchronise after a broken quote
        yield row, None, cells


def _columns(headings: list[str]) -> tuple[list[str], list[Error]]:
    by_heading = {name: name for name in COLUMNS} | {thai: name for name, thai in HEADINGS_TH.items()}
    columns, errors = [], []
    for heading in headings:
        name = by_heading.get(clean(heading).lower()) or by_heading.get(clean(heading))
        if name is None:
            errors.append(error(None, clean(heading)[:64], "ไม่รู้จักหัวตารางนี้", "unknown column"))
        elif name in columns:
            errors.append(error(None, name, "หัวตารางซ้ำ", "duplicate column"))
        columns.append(name or "")
    for name in REQUIRED:
        if name not in columns:
            errors.append(error(None, name, f"ไม่มีคอลัมน์ {HEADINGS_TH[name]}", f"missing column {name}"))
    return columns, errors


def _unit(row: int, raw: dict, from_csv: bool) -> tuple[Unit | None, list[Error]]:
    """One unit from one row's values, or the errors naming each bad field."""
    errors: list[Error] = []
    values: dict = {}
    for name in ("key", "name", "name_en", "code", "national_code", "kind", "parent_key"):
        text = _text(row, name, raw.get(name), from_csv, errors)
        values[name] = text or None
    for name in REQUIRED:
        if values[name] is None and not any(e["field"] == name for e in errors):
            errors.append(error(row, name, f"ต้องระบุ{FIELD_TH[name]}", f"{name} is required"))
    _check_formats(row, values, errors)
    values["own_registers"] = _flag(row, raw.get("own_registers"), errors)
    for name in ("valid_from", "valid_to"):
        values[name] = _date(row, name, raw.get(name), errors)
    if values["valid_from"] and values["valid_to"] and values["valid_to"] < values["valid_from"]:
        errors.append(error(row, "valid_to", "วันสิ้นสุดอยู่ก่อนวันเริ่มใช้", "valid_to is before valid_from"))
    if errors:
        return None, errors
    return Unit(row=row, **values), []


def _text(row: int, name: str, value, from_csv: bool, errors: list[Error]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(error(row, name, "ต้องเป็นข้อความ", "must be text"))
        return None
    text = clean(value)
    if from_csv and len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START:
        text = text[1:]  # the quote export put before a spreadsheet formula character
    limit = MAX_CODE if name in ("key", "code", "parent_key", "national_code", "kind") else MAX_TEXT
    if len(text) > limit:
        errors.append(error(row, name, f"ยาวเกิน {limit} ตัวอักษร", f"longer than {limit} characters"))
        return None
    return text


def _check_formats(row: int, values: dict, errors: list[Error]) -> None:
    for name in ("key", "parent_key"):
        if values[name] and not KEY_PATTERN.fullmatch(values[name]):
            errors.append(
                error(
                    row,
                    name,
                    "รหัสหน่วยงานใช้ได้เฉพาะ a-z, 0-9, จุด, ขีด และขีดล่าง",
                    "a key is letters a-z, digits, '.', '-' and '_'",
                )
            )
    if values["national_code"] and not NATIONAL_CODE.fullmatch(values["national_code"]):
        errors.append(error(row, "national_code", "รหัสส่วนราชการต้องเป็นตัวเลข 10 หลัก", "national_code must be 10 digits"))
    if values["kind"]:
        kind = KIND_ALIASES.get(values["kind"]) or KIND_ALIASES.get(values["kind"].lower())
        if kind is None:
            errors.append(
                error(
                    row,
                    "kind",
                    f"ไม่รู้จักประเภท {values['kind']!r} ใช้ {', '.join(KIND_TH.values())}",
                    f"unknown kind; use one of {', '.join(KINDS)}",
                )
            )
        values["kind"] = kind


def _flag(row: int, value, errors: list[Error]) -> bool:
    if value is None or isinstance(value, bool):
        return True if value is None else value
    word = clean(value).lower() if isinstance(value, str) else None
    if word == "":
        return True
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    errors.append(error(row, "own_registers", "ต้องเป็น ใช่ หรือ ไม่ใช่", "must be true or false"))
    return True


DATE_FORMATS = (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"))


def _date(row: int, name: str, value, errors: list[Error]) -> date | None:
    """YYYY-MM-DD or D/M/YYYY; a year from 2400 on is Buddhist era (2569 = 2026)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = clean(value) if isinstance(value, str) else ""
    iso, thai = (pattern.fullmatch(text) for pattern in DATE_FORMATS)
    try:
        if iso:
            year, month, day = (int(g) for g in iso.groups())
        elif thai:
            day, month, year = (int(g) for g in thai.groups())
        else:
            raise ValueError
        return date(year - BE_OFFSET if year >= 2400 else year, month, day)
    except ValueError:
        errors.append(error(row, name, "วันที่ต้องเป็น ปปปป-ดด-วว เช่น 2569-10-01", "a date is YYYY-MM-DD, e.g. 2026-10-01"))
        return None


# ── Checking the directory as a whole ────────────────────────────────────────────────────────────────────


def check_directory(units: list[Unit], today: date) -> list[Error]:
    """What no directory may contain: duplicate keys or codes, unknown parents, cycles, a current unit under
    a retired one, a ministry under something, a national code of another ministry; and it may not be empty."""
    if not units:
        return [error(None, "units", "ไฟล์ไม่มีหน่วยงานเลย", "the directory file has no units")]
    errors: list[Error] = []
    by_key: dict[str, Unit] = {}
    for unit in units:
        if unit.key in by_key:
            errors.append(
                error(unit.row, "key", f"รหัสหน่วยงาน {unit.key} ซ้ำกับแถว {by_key[unit.key].row}", "duplicate key")
            )
        else:
            by_key[unit.key] = unit
    errors += _duplicates(units, "code", today, "รหัสหนังสือ")
    errors += _duplicates(units, "national_code", today, "รหัสส่วนราชการ")
    for unit in by_key.values():
        errors += _parent_errors(unit, by_key, today)
    return errors


def _duplicates(units: list[Unit], name: str, today: date, label: str) -> list[Error]:
    """Two current units may not share a letter code (or a national code); a retired one may keep its old one."""
    seen: dict[str, Unit] = {}
    errors = []
    for unit in units:
        value = getattr(unit, name)
        if not value or not unit.current(today):
            continue
        if value in seen and seen[value].key != unit.key:
            errors.append(error(unit.row, name, f"{label} {value} ซ้ำกับหน่วยงาน {seen[value].key}", f"duplicate {name}"))
        seen.setdefault(value, unit)
    return errors


def _parent_errors(unit: Unit, by_key: dict[str, Unit], today: date) -> list[Error]:
    if unit.parent_key is None:
        return []
    if unit.kind == "ministry":
        return [error(unit.row, "parent_key", "กระทรวงไม่มีหน่วยงานต้นสังกัด", "a ministry has no parent")]
    parent = by_key.get(unit.parent_key)
    if parent is None:
        message = f"ไม่พบหน่วยงานต้นสังกัด {unit.parent_key} ในไฟล์"
        return [error(unit.row, "parent_key", message, "unknown parent_key")]
    if _in_cycle(unit, by_key):
        return [error(unit.row, "parent_key", "หน่วยงานต้นสังกัดวนกลับมาที่หน่วยงานนี้", "the parents form a cycle")]
    errors = []
    if unit.current(today) and parent.retired(today):
        message = f"หน่วยงานต้นสังกัด {parent.key} ยุติแล้ว"
        errors.append(error(unit.row, "parent_key", message, "the parent is retired"))
    ministry = ministry_unit(unit, by_key)
    if unit.national_code and ministry and ministry.national_code and ministry is not unit:
        if unit.national_code[:2] != ministry.national_code[:2]:
            message = f"รหัสส่วนราชการต้องขึ้นต้นด้วย {ministry.national_code[:2]} ของ{ministry.name}"
            errors.append(error(unit.row, "national_code", message, "the first two digits are the ministry's"))
    return errors


def _in_cycle(unit: Unit, by_key: dict[str, Unit]) -> bool:
    """Following the parents leads back to the unit itself (a unit merely below a cycle is not in it)."""
    seen = set()
    current = by_key.get(unit.parent_key or "")
    while current is not None and current.key not in seen:
        if current.key == unit.key:
            return True
        seen.add(current.key)
        current = by_key.get(current.parent_key or "")
    return False


def ministry_unit(unit: Unit, by_key: dict[str, Unit]) -> Unit | None:
    seen = set()
    current: Unit | None = unit
    while current is not None and current.key not in seen:
        if current.kind == "ministry":
            return current
        seen.add(current.key)
        current = by_key.get(current.parent_key or "")
    return None


# ── What an import changes ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class DirectoryDiff:
    added: tuple[Unit, ...] = ()
    changed: tuple[tuple[Unit, tuple[str, ...]], ...] = ()  # the unit as it will be, and what differs
    retired: tuple[Unit, ...] = ()  # as they will be: valid_to set

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.retired)


COMPARED = tuple(f.name for f in fields(Unit) if f.name != "row")


def diff(current: list[Unit], incoming: list[Unit], today: date) -> DirectoryDiff:
    """The file is the whole directory: units new to it are added, units whose fields differ are changed,
    and a unit is retired when the file leaves it out (its last day becomes yesterday) or gives it a last
    day already past. A unit already retired and left out stays as it is."""
    before = {unit.key: unit for unit in current}
    after = {unit.key: unit for unit in incoming}
    added, changed, retired = [], [], []
    for unit in incoming:
        old = before.get(unit.key)
        if old is None:
            added.append(unit)
        elif unit.retired(today) and not old.retired(today):
            retired.append(unit)
        elif differing := changed_fields(old, unit):
            changed.append((unit, differing))
    for old in current:
        if old.key not in after and not old.retired(today):
            retired.append(replace(old, valid_to=max(today - timedelta(days=1), old.valid_from or date.min)))
    return DirectoryDiff(tuple(added), tuple(changed), tuple(retired))


def changed_fields(old: Unit, new: Unit) -> tuple[str, ...]:
    return tuple(name for name in COMPARED if getattr(old, name) != getattr(new, name))


# ── Export ───────────────────────────────────────────────────────────────────────────────────────────────


def in_tree_order(units: list[Unit]) -> list[Unit]:
    """Parents before their children, siblings by code: the order people read a directory in."""
    children: dict[str | None, list[Unit]] = {}
    keys = {unit.key for unit in units}
    for unit in units:
        parent = unit.parent_key if unit.parent_key in keys else None
        children.setdefault(parent, []).append(unit)
    ordered: list[Unit] = []
    placed: set[str] = set()
    stack = sorted(children.get(None, []), key=_order, reverse=True)
    while stack:
        unit = stack.pop()
        if unit.key in placed:
            continue
        ordered.append(unit)
        placed.add(unit.key)
        stack += sorted(children.get(unit.key, []), key=_order, reverse=True)
    return ordered + [unit for unit in units if unit.key not in placed]  # units of a cycle: still exported


def _order(unit: Unit) -> tuple:
    return (unit.code, unit.key)


def to_json(units: list[Unit]) -> dict:
    return {"units": [unit.as_dict() for unit in in_tree_order(units)]}


def to_csv(units: list[Unit]) -> str:
    """Thai headings, UTF-8 with a BOM (what spreadsheet programs need), dates in the Buddhist era."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([HEADINGS_TH[name] for name in COLUMNS])
    for unit in in_tree_order(units):
        writer.writerow([_csv_cell(name, getattr(unit, name)) for name in COLUMNS])
    return buffer.getvalue()


def _csv_cell(name: str, value) -> str:
    if value is None:
        return ""
    if name == "kind":
        return KIND_TH[value]
    if name == "own_registers":
        return "ใช่" if value else "ไม่ใช่"
    if isinstance(value, date):
        return f"{value.year + BE_OFFSET:04d}-{value.month:02d}-{value.day:02d}"
    return f"'{value}" if value.startswith(FORMULA_START) else value


# ── Questions asked of the directory as the database holds it (rows with ids) ───────────────────────────


def registry_of(org_id: uuid.UUID, orgs: dict[uuid.UUID, dict]) -> uuid.UUID:
    """The unit whose send and receive registers number this unit's letters: the unit itself when it keeps
    its own registers, else the nearest ancestor that does (its central registry, สารบรรณกลาง). A unit with no
    such ancestor, or whose parents run in a cycle before reaching one, numbers in its own: a number must
    always come from somewhere, and a register nobody keeps is worse than one more register."""
    seen = set()
    current = orgs.get(org_id)
    while current is not None and current["id"] not in seen:
        if current["own_registers"]:
            return current["id"]
        seen.add(current["id"])
        current = orgs.get(current["parent_id"])
    return org_id


def with_registry(org: dict, orgs: dict[uuid.UUID, dict]) -> dict:
    """The unit's row with `registry_id` and `registry_code` (its registry's letter code, which its letters carry)."""
    registry = registry_of(org["id"], orgs)
    code = org["code"] if registry == org["id"] else orgs[registry]["code"]
    return {**org, "registry_id": registry, "registry_code": code}
