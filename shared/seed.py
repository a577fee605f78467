"""The Ministry of Finance sample directory and the demo identities (DOMAIN.md). Codes are data: a real
deployment loads its own directory. Ids are derived from the keys so every process agrees on them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

NAMESPACE = uuid.UUID("7b0c1f64-3c1a-5e0e-9a57-5a7ab0e5a001")


def org_id(key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"org:{key}")


def group_id(key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"group:{key}")


@dataclass(frozen=True)
class SeedOrg:
    key: str
    code: str
    name: str
    kind: str  # ministry | ops | department | division
    parent: str | None

    @property
    def id(self) -> uuid.UUID:
        return org_id(self.key)


MOF = (
    SeedOrg("mof", "กค", "กระทรวงการคลัง", "ministry", None),
    SeedOrg("ops", "กค 0200", "สำนักงานปลัดกระทรวงการคลัง", "ops", "mof"),
    SeedOrg("td", "กค 0300", "กรมธนารักษ์", "department", "mof"),
    SeedOrg("cgd", "กค 0400", "กรมบัญชีกลาง", "department", "mof"),
    SeedOrg("customs", "กค 0500", "กรมศุลกากร", "department", "mof"),
    SeedOrg("excise", "กค 0600", "กรมสรรพสามิต", "department", "mof"),
    SeedOrg("rd", "กค 0700", "กรมสรรพากร", "department", "mof"),
    SeedOrg("sepo", "กค 0800", "สำนักงานคณะกรรมการนโยบายรัฐวิสาหกิจ", "department", "mof"),
    SeedOrg("pdmo", "กค 0900", "สำนักงานบริหารหนี้สาธารณะ", "department", "mof"),
    SeedOrg("fpo", "กค 1000", "สำนักงานเศรษฐกิจการคลัง", "department", "mof"),
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    org_key: str
    roles: tuple[str, ...]
    clearance: str


DEMO_USERS = (
    DemoUser("ops.clerk", "เจ้าหน้าที่สารบรรณ สป.กค.", "ops", ("clerk",), "secret"),
    DemoUser("cgd.clerk", "เจ้าหน้าที่สารบรรณ กรมบัญชีกลาง", "cgd", ("clerk",), "secret"),
    DemoUser("rd.clerk", "เจ้าหน้าที่สารบรรณ กรมสรรพากร", "rd", ("clerk",), "normal"),
    DemoUser("td.clerk", "เจ้าหน้าที่สารบรรณ กรมธนารักษ์", "td", ("clerk",), "normal"),
    DemoUser("customs.clerk", "เจ้าหน้าที่สารบรรณ กรมศุลกากร", "customs", ("clerk",), "normal"),
    DemoUser("excise.clerk", "เจ้าหน้าที่สารบรรณ กรมสรรพสามิต", "excise", ("clerk",), "normal"),
    DemoUser("auditor", "ผู้ตรวจสอบ", "mof", ("auditor",), "normal"),
    DemoUser("admin", "ผู้ดูแลระบบ", "mof", ("admin",), "normal"),
)


@dataclass(frozen=True)
class SeedGroup:
    key: str
    name: str
    members: tuple[str, ...]

    @property
    def id(self) -> uuid.UUID:
        return group_id(self.key)


GROUPS = (
    SeedGroup("mof-departments", "ทุกกรมในสังกัดกระทรวงการคลัง", tuple(o.key for o in MOF if o.kind == "department")),
    SeedGroup("mof-all", "ทุกส่วนราชการในสังกัดกระทรวงการคลัง", tuple(o.key for o in MOF if o.kind != "ministry")),
)
