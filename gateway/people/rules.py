"""The rules of an account, without I/O: how a username is written, which roles and clearances exist, what a
password must be, and what changed between two versions of an account."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email

from shared import thai
from shared.principal import CLEARANCE_ORDER

# clerk: สารบรรณ; staff: officers who draft and act; executive: heads who sign and order; auditor; admin.
ROLES = ("clerk", "staff", "executive", "auditor", "admin")
# Every secrecy level is a clearance; ลับที่สุด too (a person may hold it although no such letter travels here).
CLEARANCES = CLEARANCE_ORDER
MIN_PASSWORD = 12
MAX_PASSWORD = 256  # Argon2 hashes any length; a bound keeps one request from costing much
MAX_USERNAME = 100
MAX_TEXT = 200
USERNAME_SIGNS = "._-@"

# The fields an account change may name, as the API and the CSV call them.
FIELDS = ("display_name", "org_key", "roles", "clearance", "email", "position", "active")


class Invalid(ValueError):
    """One field refused, with a message in Thai first and English in brackets."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def username(raw: str) -> str:
    """The one spelling of a username: NFC, trimmed, lower case; letters of any script, digits and `._-@`.
    The same rule applies at sign-in, so `OPS.Clerk` and `ops.clerk` are one person."""
    name = thai.clean(raw).lower()
    if not 2 <= len(name) <= MAX_USERNAME:
        raise Invalid("username", "ชื่อผู้ใช้ต้องยาว 2 ถึง 100 ตัวอักษร (username must be 2 to 100 characters)")
    if not all(_username_char(ch) for ch in name) or not _letter_or_digit(name[0]):
        raise Invalid(
            "username",
            "ชื่อผู้ใช้ใช้ได้เฉพาะตัวอักษร ตัวเลข และ . _ - @ และต้องขึ้นต้นด้วยตัวอักษรหรือตัวเลข "
            "(username: letters, digits and . _ - @, starting with a letter or digit)",
        )
    return name


def sign_in_name(raw: str) -> str:
    """What a sign-in form's name is looked up as: the same spelling rule, never refused (an unknown name
    simply does not match)."""
    return thai.clean(raw).lower()[:MAX_USERNAME]


def _letter_or_digit(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LN"


def _username_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN" or ch in USERNAME_SIGNS


def text(field_name: str, raw: str, required: bool) -> str | None:
    value = thai.clean(raw or "")
    if not value:
        if required:
            raise Invalid(field_name, f"ต้องระบุ {field_name} ({field_name} is required)")
        return None
    if len(value) > MAX_TEXT:
        raise Invalid(field_name, f"{field_name} ยาวเกิน {MAX_TEXT} ตัวอักษร ({field_name} is too long)")
    return value


def email(raw: str | None) -> str | None:
    value = thai.clean(raw or "")
    if not value:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid("email", f"อีเมลไม่ถูกต้อง (malformed e-mail address: {exc})") from exc


def roles(raw: list[str]) -> list[str]:
    unknown = [role for role in raw if role not in ROLES]
    if unknown:
        raise Invalid("roles", f"ไม่รู้จักบทบาท {', '.join(unknown)} ใช้ได้: {', '.join(ROLES)} (unknown role)")
    if not raw:
        raise Invalid("roles", "ต้องมีอย่างน้อยหนึ่งบทบาท (at least one role)")
    return [role for role in ROLES if role in raw]  # one order, so equal sets compare equal


def clearance(raw: str) -> str:
    if raw not in CLEARANCES:
        raise Invalid("clearance", f"ชั้นความลับ {raw!r} ไม่ถูกต้อง ใช้ได้: {', '.join(CLEARANCES)} (unknown clearance)")
    return raw


def password(raw: str) -> str:
    if len(raw) < MIN_PASSWORD:
        raise Invalid("password", f"รหัสผ่านต้องยาวอย่างน้อย {MIN_PASSWORD} ตัวอักษร (at least {MIN_PASSWORD} characters)")
    if len(raw) > MAX_PASSWORD:
        raise Invalid("password", f"รหัสผ่านยาวเกิน {MAX_PASSWORD} ตัวอักษร (at most {MAX_PASSWORD} characters)")
    return raw


@dataclass
class Account:
    """What an administrator says an account should be; None means "as it is" when changing one."""

    username: str
    display_name: str | None = None
    org_id: object = None  # uuid.UUID; the API resolves org_key to it
    roles: list[str] | None = None
    clearance: str | None = None
    email: str | None = None
    position: str | None = None
    active: bool | None = None
    cleared: set[str] = field(default_factory=set)  # optional fields to empty (email, position)


# Account attributes and the row's column for each field an event may name.
COLUMNS = {
    "display_name": "display_name",
    "org_key": "org_id",
    "roles": "roles",
    "clearance": "clearance",
    "email": "email",
    "position": "position",
    "active": "active",
}


def changes(row: dict, wanted: Account) -> dict[str, object]:
    """{column: new value} for what `wanted` changes in `row`, in FIELDS order."""
    found = {}
    for name in FIELDS:
        column = COLUMNS[name]
        value = getattr(wanted, column)
        if name in wanted.cleared:
            value = None
        elif value is None:
            continue
        if row.get(column) != value:
            found[column] = value
    return found


def field_names(columns: dict[str, object]) -> list[str]:
    """The API's names of the changed columns, for the audit log."""
    by_column = {column: name for name, column in COLUMNS.items()}
    return [by_column[column] for column in columns]
