"""Ids every process agrees on, the Ministry of Finance sample directory's file and the demo identities.
The directory itself is data (deploy/directory/mof.json, in the format `sarabun directory import` takes):
a real deployment loads its own. Ids are derived from the keys so every process agrees on them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

NAMESPACE = uuid.UUID("7b0c1f64-3c1a-5e0e-9a57-5a7ab0e5a001")


def org_id(key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"org:{key}")


def group_id(key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"group:{key}")


# Found relative to the source tree, which every deployment has (an editable install; the image copies it).
SAMPLE_DIRECTORY = Path(__file__).resolve().parent.parent / "deploy" / "directory" / "mof.json"


def sample_org_ids(path: Path = SAMPLE_DIRECTORY) -> list[uuid.UUID]:
    """The ids of the sample directory's units (only their keys are read; routing checks the file itself)."""
    return [org_id(unit["key"]) for unit in json.loads(path.read_text("utf-8"))["units"]]


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    org_key: str
    roles: tuple[str, ...]
    clearance: str
    position: str | None = None  # ตำแหน่ง, printed under a signature
    email: str | None = None


DEMO_USERS = (
    DemoUser("ops.clerk", "เจ้าหน้าที่สารบรรณ สป.กค.", "ops", ("clerk",), "secret"),
    DemoUser("cgd.clerk", "เจ้าหน้าที่สารบรรณ กรมบัญชีกลาง", "cgd", ("clerk",), "secret"),
    DemoUser("rd.clerk", "เจ้าหน้าที่สารบรรณ กรมสรรพากร", "rd", ("clerk",), "normal"),
    DemoUser("td.clerk", "เจ้าหน้าที่สารบรรณ กรมธนารักษ์", "td", ("clerk",), "normal"),
    DemoUser("customs.clerk", "เจ้าหน้าที่สารบรรณ กรมศุลกากร", "customs", ("clerk",), "normal"),
    DemoUser("excise.clerk", "เจ้าหน้าที่สารบรรณ กรมสรรพสามิต", "excise", ("clerk",), "normal"),
    DemoUser("auditor", "ผู้ตรวจสอบ", "mof", ("auditor",), "normal"),
    DemoUser("admin", "ผู้ดูแลระบบ", "mof", ("admin",), "normal"),
    # The proposal line of a division of กรมบัญชีกลาง: an officer drafts, the section head and the division
    # director review, the director-general signs, or the deputy for him under a delegation. Their letters are
    # dispatched by the department's registry (cgd.clerk).
    DemoUser(
        "cgd.officer",
        "นางสาวสมใจ รักงาน",
        "cgd.budget",
        ("staff",),
        "confidential",
        "นักวิชาการเงินและบัญชีชำนาญการ",
        "cgd.officer@sarabun.example",
    ),
    DemoUser(
        "cgd.head",
        "นายสมศักดิ์ ตั้งใจ",
        "cgd.budget",
        ("executive",),
        "secret",
        "หัวหน้ากลุ่มงาน",
        "cgd.head@sarabun.example",
    ),
    DemoUser(
        "cgd.director",
        "นางวันดี มีสุข",
        "cgd.budget",
        ("executive",),
        "secret",
        "ผู้อำนวยการกองงบประมาณ",
        "cgd.director@sarabun.example",
    ),
    DemoUser(
        "cgd.dg",
        "นายประเสริฐ การคลัง",
        "cgd",
        ("executive",),
        "secret",
        "อธิบดีกรมบัญชีกลาง",
        "cgd.dg@sarabun.example",
    ),
    DemoUser(
        "cgd.deputy",
        "นางสาวรัตนา ยุติธรรม",
        "cgd",
        ("executive",),
        "secret",
        "รองอธิบดีกรมบัญชีกลาง",
        "cgd.deputy@sarabun.example",
    ),
)
