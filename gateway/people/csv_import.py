"""People from a CSV file (no I/O): headings in Thai or the API's English field names, UTF-8 with or without
a byte-order mark. Every row is checked before anything applies; the errors name the row (the heading is row
1, as a spreadsheet numbers it), the field and the reason."""

from __future__ import annotations

import csv
import io
import uuid

from gateway.people import rules
from gateway.people.rules import Account, Invalid
from shared import thai
from shared.problems import Problem

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000

HEADINGS = {
    "username": ("username", "ชื่อผู้ใช้"),
    "display_name": ("display_name", "ชื่อ", "ชื่อ-สกุล", "ชื่อ-นามสกุล", "ชื่อที่แสดง"),
    "org_key": ("org_key", "หน่วยงาน", "รหัสหน่วยงาน"),
    "roles": ("roles", "บทบาท"),
    "clearance": ("clearance", "ชั้นความลับ"),
    "email": ("email", "อีเมล", "อีเมล์"),
    "position": ("position", "ตำแหน่ง"),
    "active": ("active", "ใช้งาน", "สถานะ"),
}
REQUIRED = ("username", "display_name", "org_key", "roles")
ROLE_TH = {"สารบรรณ": "clerk", "เจ้าหน้าที่": "staff", "ผู้บริหาร": "executive", "ผู้ตรวจสอบ": "auditor",
           "ผู้ดูแลระบบ": "admin"}  # fmt: skip
CLEARANCE_TH = {"ปกติ": "normal", "ลับ": "confidential", "ลับมาก": "secret", "ลับที่สุด": "top_secret"}
YES = {"true", "1", "yes", "y", "ใช่", "ใช้งาน"}
NO = {"false", "0", "no", "n", "ไม่", "ไม่ใช่", "ระงับ"}
ROLE_SEPARATORS = ";|,/"


class FileRefused(Problem):
    def __init__(self, errors: list[dict]):
        super().__init__(
            422,
            f"ไฟล์มีข้อผิดพลาด {len(errors)} รายการ ไม่มีการเปลี่ยนแปลงใด ๆ (the file has errors; nothing was changed)",
            errors=errors,
        )


def parse(data: bytes, units: dict[str, uuid.UUID]) -> list[Account]:
    """The accounts the file describes; FileRefused naming every bad row otherwise. `units`: key → unit id.
    An empty cell in an optional column leaves an existing person's value as it is (a new one gets the
    default: clearance ปกติ, active)."""
    if len(data) > MAX_BYTES:
        raise FileRefused([_error(None, None, f"ไฟล์ใหญ่เกิน {MAX_BYTES // 1024 // 1024} MB (file too large)")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused([_error(None, None, "ไฟล์ต้องเป็น UTF-8 (the file must be UTF-8 encoded)")]) from None
    try:
        table = [row for row in csv.reader(io.StringIO(text, newline="")) if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise FileRefused([_error(None, None, f"อ่าน CSV ไม่ได้ (malformed CSV: {exc})")]) from None
    if not table:
        raise FileRefused([_error(1, None, "ไฟล์ว่าง ต้องมีแถวหัวตาราง (empty file: a heading row is needed)")])
    columns = _columns(table[0])
    if len(table) - 1 > MAX_ROWS:
        raise FileRefused([_error(None, None, f"เกิน {MAX_ROWS} แถว (more than {MAX_ROWS} rows)")])
    accounts, errors, seen = [], [], {}
    for number, cells in enumerate(table[1:], start=2):
        account = _row(number, cells, columns, units, errors)
        if account is None:
            continue
        if account.username in seen:
            errors.append(
                _error(number, "username", f"ชื่อผู้ใช้ {account.username} ซ้ำกับแถว {seen[account.username]} "
                       "(duplicate username)")
            )  # fmt: skip
            continue
        seen[account.username] = number
        accounts.append(account)
    if errors:
        raise FileRefused(errors)
    return accounts


def _error(row: int | None, field: str | None, message: str) -> dict:
    return {"row": row, "field": field, "message": message}


def _columns(heading: list[str]) -> list[str]:
    names, errors = [], []
    for index, cell in enumerate(heading, start=1):
        name = _field_of(cell)
        if name is None:
            errors.append(_error(1, cell.strip() or f"column {index}", f"ไม่รู้จักคอลัมน์ {cell.strip()!r} "
                                 f"ใช้ได้: {', '.join(HEADINGS)} (unknown column)"))  # fmt: skip
        elif name in names:
            errors.append(_error(1, name, f"คอลัมน์ {name} ซ้ำ (duplicate column)"))
        names.append(name)
    for name in REQUIRED:
        if name not in names:
            errors.append(_error(1, name, f"ต้องมีคอลัมน์ {name} ({HEADINGS[name][1]}) (required column missing)"))
    if errors:
        raise FileRefused(errors)
    return names


def _field_of(heading: str) -> str | None:
    """The field a heading names: `ชื่อผู้ใช้`, `username`, or both as `ชื่อผู้ใช้ (username)`."""
    text = thai.clean(heading).lower()
    candidates = {text}
    if text.endswith(")") and "(" in text:
        before, _, inside = text[:-1].partition("(")
        candidates |= {before.strip(), inside.strip()}
    for name, aliases in HEADINGS.items():
        if candidates & set(aliases):
            return name
    return None


def _row(number: int, cells: list[str], columns: list[str], units: dict, errors: list) -> Account | None:
    if len(cells) != len(columns):
        errors.append(
            _error(number, None, f"แถวนี้มี {len(cells)} ช่อง แต่หัวตารางมี {len(columns)} ช่อง "
                   f"(row has {len(cells)} cells, the heading {len(columns)})")
        )  # fmt: skip
        return None
    values = dict(zip(columns, (thai.clean(cell) for cell in cells), strict=True))
    found: list[dict] = []

    def field(name, check):
        try:
            return check(values.get(name, ""))
        except Invalid as invalid:
            found.append(_error(number, invalid.field, invalid.message))
            return None

    account = Account(
        username=field("username", rules.username) or "",
        display_name=field("display_name", lambda v: rules.text("display_name", v, required=True)),
        org_id=field("org_key", lambda v: _unit(v, units)),
        roles=field("roles", _roles),
        clearance=field("clearance", _clearance),
        email=field("email", rules.email),
        position=field("position", lambda v: rules.text("position", v, required=False)),
        active=field("active", _active),
    )
    errors.extend(found)
    return None if found else account


def _unit(key: str, units: dict[str, uuid.UUID]) -> uuid.UUID:
    if not key:
        raise Invalid("org_key", "ต้องระบุหน่วยงาน (org_key is required)")
    if key not in units:
        raise Invalid("org_key", f"ไม่พบหน่วยงาน {key!r} ในสารบบ (unknown unit)")
    return units[key]


def _roles(text: str) -> list[str]:
    for separator in ROLE_SEPARATORS:
        text = text.replace(separator, " ")
    return rules.roles([ROLE_TH.get(part, part.lower()) for part in text.split()])


def _clearance(text: str) -> str | None:
    if not text:
        return None
    return rules.clearance(CLEARANCE_TH.get(text, text.lower()))


def _active(text: str) -> bool | None:
    if not text:
        return None
    if text.lower() in YES:
        return True
    if text.lower() in NO:
        return False
    raise Invalid("active", f"สถานะ {text!r} ไม่ถูกต้อง ใช้ true หรือ false (active must be true or false)")
