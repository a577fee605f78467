"""An agency puts Sarabun into service, through the public API only; run in embedded and distributed mode with
SARABUN_DEMO unset and real secrets. Before it runs, `sarabun admin create boss` has made the first
administrator on the fresh database (the fixtures do that with the command line itself).

The administrator imports a directory (one ministry, its OPS, two departments with two divisions each; a dry
run first) and five people (a dry run first); a division clerk of กรมบัญชีกลาง signs in through the agency's
OpenID Connect provider and sends an internal memo to a division of กรมสรรพากร, whose clerk registers it; a
disabled person is refused; the audit log holds every one of those changes."""

from __future__ import annotations

import base64
import json
import time
import uuid
from urllib.parse import urljoin

import httpx

from tests.e2e.helpers import eventually, inbox_item, send_once_known

ADMIN = "boss"
ADMIN_PASSWORD = "รหัสผ่านของผู้ดูแลระบบคนแรก"

DIRECTORY = {
    "units": [
        {"key": "mof", "name": "กระทรวงการคลัง", "name_en": "Ministry of Finance", "code": "กค", "kind": "ministry"},
        {"key": "ops", "name": "สำนักงานปลัดกระทรวงการคลัง", "code": "กค 0200", "kind": "ops", "parent_key": "mof"},
        {"key": "cgd", "name": "กรมบัญชีกลาง", "code": "กค 0400", "kind": "department", "parent_key": "mof"},
        {"key": "cgd.budget", "name": "กองบริหารการคลังภาครัฐ", "code": "กค 0402", "kind": "division",
         "parent_key": "cgd"},
        {"key": "cgd.accounts", "name": "กองบัญชีภาครัฐ", "code": "กค 0403", "kind": "division", "parent_key": "cgd"},
        {"key": "rd", "name": "กรมสรรพากร", "code": "กค 0700", "kind": "department", "parent_key": "mof"},
        {"key": "rd.audit", "name": "กองตรวจสอบภาษี", "code": "กค 0702", "kind": "division", "parent_key": "rd"},
        {"key": "rd.legal", "name": "กองกฎหมาย", "code": "กค 0703", "kind": "division", "parent_key": "rd"},
    ]
}  # fmt: skip

PEOPLE_CSV = """ชื่อผู้ใช้,ชื่อ,หน่วยงาน,บทบาท,ชั้นความลับ,ตำแหน่ง,อีเมล
cgd.budget.clerk,สมศรี ใจดี,cgd.budget,clerk,normal,เจ้าพนักงานธุรการ,somsri@cgd.example.go.th
rd.audit.clerk,สมชาย รักงาน,rd.audit,clerk,normal,เจ้าพนักงานธุรการ,somchai@rd.example.go.th
cgd.director,ผู้อำนวยการกอง,cgd.budget,executive,secret,ผู้อำนวยการกองบริหารการคลังภาครัฐ,
mof.auditor,ผู้ตรวจสอบภายใน,mof,auditor,normal,ผู้ตรวจสอบภายใน,
rd.staff,เจ้าหน้าที่กองกฎหมาย,rd.legal,staff,normal,นิติกร,
"""
PEOPLE = ("cgd.budget.clerk", "rd.audit.clerk", "cgd.director", "mof.auditor", "rd.staff")


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def password_sign_in(api: httpx.AsyncClient, username: str, password: str) -> dict:
    issued = await api.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert issued.status_code == 200, issued.text
    return bearer(issued.json()["access_token"])


async def link_sign_in(api: httpx.AsyncClient, admin: dict, username: str) -> dict:
    """The one-time link an administrator gives a person who has no password (yet)."""
    link = await api.post(f"/api/v1/admin/users/{username}/sign-in-link", headers=admin)
    assert link.status_code == 201, link.text
    issued = await api.post("/api/v1/auth/link", json={"token": link.json()["url"].rsplit("/", 1)[1]})
    assert issued.status_code == 200, issued.text
    return bearer(issued.json()["access_token"])


async def oidc_sign_in(api: httpx.AsyncClient, provider: str, username: str) -> dict:
    """The browser's way through the provider, step by step: this site's login redirect, the provider's own
    sign-in form, the callback with the sealed transaction cookie. Cookies are carried by hand, so the same
    steps work over an in-process transport and a real socket, and with `Secure` cookies over plain http."""
    sub = f"person-{uuid.uuid4().hex[:10]}"
    going = await api.get("/auth/oidc/login")
    assert going.status_code == 303, going.text
    transaction = _cookie(going, "sarabun_oidc")
    async with httpx.AsyncClient() as browser:
        claims = await browser.put(f"{provider}/users/{sub}", json={"preferred_username": username})
        assert claims.status_code == 204
        form = await browser.get(going.headers["location"])
        assert form.status_code == 200, form.text
        back = await browser.post(str(form.url), data={"sub": sub})
    assert back.status_code == 302, back.text
    callback = back.headers["location"]
    assert "/auth/oidc/callback?" in callback
    answer = await api.get(urljoin(str(api.base_url), callback[callback.index("/auth/oidc/") :]),
                           headers={"Cookie": f"sarabun_oidc={transaction}"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return bearer(_cookie(answer, "sarabun_session"))


def _cookie(response: httpx.Response, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header.split(";", 1)[0].split("=", 1)[1]
    raise AssertionError(f"no {name} cookie set: {response.headers}")


async def audit_entries(api: httpx.AsyncClient, auditor: dict) -> list[dict]:
    answer = await api.get("/api/v1/audit/entries", headers=auditor)
    assert answer.status_code == 200, answer.text
    return [json.loads(base64.b64decode(row["entry"])) for row in answer.json()]


async def put_into_service(api: httpx.AsyncClient, provider: str) -> None:
    # The first administrator, made by `sarabun admin create`, signs in with a password.
    admin = await password_sign_in(api, ADMIN, ADMIN_PASSWORD)
    me = (await api.get("/api/v1/me", headers=admin)).json()
    assert (me["username"], me["roles"], me["org_id"]) == (ADMIN, ["admin"], None)
    assert (await api.get("/api/v1/orgs", headers=admin)).json() == []

    # The directory: a dry run shows what would change and changes nothing; then it is applied.
    url = "/api/v1/admin/directory/import"
    preview = await api.post(url, params={"dry_run": "true"}, json=DIRECTORY, headers=admin)
    assert preview.status_code == 200, preview.text
    keys = [unit["key"] for unit in DIRECTORY["units"]]
    assert (preview.json()["applied"], sorted(preview.json()["added"])) == (False, sorted(keys))
    assert (await api.get("/api/v1/orgs", headers=admin)).json() == []
    applied = await api.post(url, params={"dry_run": "false"}, json=DIRECTORY, headers=admin)
    assert applied.status_code == 200, applied.text
    assert (applied.json()["applied"], sorted(applied.json()["added"])) == (True, sorted(keys))
    orgs = {o["key"]: o for o in (await api.get("/api/v1/orgs", headers=admin)).json()}
    assert orgs["rd.audit"]["parent_id"] == orgs["rd"]["id"] and orgs["rd"]["parent_id"] == orgs["mof"]["id"]

    # Five people from a CSV file: a dry run first, then applied.
    people_file = {"file": ("people.csv", PEOPLE_CSV.encode(), "text/csv")}
    preview = await api.post("/api/v1/admin/users/import", params={"dry_run": "true"}, files=people_file, headers=admin)
    assert preview.status_code == 200, preview.text
    assert (preview.json()["applied"], sorted(preview.json()["added"])) == (False, sorted(PEOPLE))
    assert [p["username"] for p in (await api.get("/api/v1/admin/users", headers=admin)).json()["items"]] == [ADMIN]
    applied = await api.post(
        "/api/v1/admin/users/import", params={"dry_run": "false"}, files=people_file, headers=admin
    )
    assert applied.status_code == 200, applied.text
    assert (applied.json()["applied"], sorted(applied.json()["added"])) == (True, sorted(PEOPLE))

    # The division clerk signs in through the agency's identity provider and sends an internal memo to a
    # division of the other department, numbered in the division's own send register.
    sender = await oidc_sign_in(api, provider, "cgd.budget.clerk")
    me = (await api.get("/api/v1/me", headers=sender)).json()
    assert (me["username"], me["org_code"], me["position"]) == ("cgd.budget.clerk", "กค 0402", "เจ้าพนักงานธุรการ")
    memo = {
        "type": "internal",
        "subject": "ขอความร่วมมือตรวจสอบข้อมูลภาษีของหน่วยงาน",
        "recipient_org_ids": [orgs["rd.audit"]["id"]],
        "urgency": "urgent",
    }
    sent = await send_once_known(api, {**sender, "Idempotency-Key": "memo-1"}, memo)  # both units just imported
    assert sent.status_code == 201, sent.text
    letter = sent.json()
    assert letter["doc_no"] == "กค 0402/1"

    # Its clerk, who has no password, signs in with a one-time link and registers it (ลงรับ).
    recipient = await link_sign_in(api, admin, "rd.audit.clerk")
    item = await eventually(lambda: inbox_item(api, recipient, letter["id"]), within=30)
    assert (item["doc_no"], item["urgency"], item["status"]) == ("กค 0402/1", "urgent", "delivered")
    received = await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=recipient)
    assert received.status_code == 200, received.text
    assert received.json()["receive_no"] == 1
    seen = (await api.get(f"/api/v1/letters/{letter['id']}", headers=sender)).json()
    assert [(d["recipient_org_id"], d["status"], d["receive_no"]) for d in seen["deliveries"]] == [
        (orgs["rd.audit"]["id"], "received", 1)
    ]

    # A disabled person's token, still within its 30 minutes, is refused within 60 s.
    staff = await link_sign_in(api, admin, "rd.staff")
    assert (await api.get("/api/v1/me", headers=staff)).status_code == 200
    disabled = await api.patch("/api/v1/admin/users/rd.staff", json={"active": False}, headers=admin)
    assert disabled.status_code == 200, disabled.text
    started = time.monotonic()
    await eventually(lambda: _refused(api, staff), within=60, interval=1)
    assert time.monotonic() - started < 60
    refused = await api.post("/api/v1/auth/link", json={"token": "x" * 43})
    assert refused.status_code == 401

    # Every change above is in the audit log, with who made it.
    auditor = await link_sign_in(api, admin, "mof.auditor")

    async def logged():
        entries = await audit_entries(api, auditor)
        types = [e["type"] for e in entries]
        complete = "delivery.received.v1" in types and types.count("user.sign-in-link-issued.v1") == 3
        return entries if complete else None

    entries = await eventually(logged, within=30)
    by_type: dict[str, list[dict]] = {}
    for entry in entries:
        by_type.setdefault(entry["type"], []).append(entry)
    created = sorted((e["actor"], e["username"]) for e in by_type["user.created.v1"])
    assert created == sorted([("cli", ADMIN)] + [(ADMIN, name) for name in PEOPLE]), created
    added = sorted((e["actor"], e["key"]) for e in by_type["directory.unit.added.v1"])
    assert added == sorted((ADMIN, key) for key in keys)
    changes = [(e["actor"], e["username"], e["fields"]) for e in by_type["user.changed.v1"]]
    assert (ADMIN, "rd.staff", ["active"]) in changes
    links = sorted(e["username"] for e in by_type["user.sign-in-link-issued.v1"])
    assert links == ["mof.auditor", "rd.audit.clerk", "rd.staff"]
    assert [e["letter_id"] for e in by_type["letter.sent.v1"]] == [letter["id"]]
    assert [e["receive_no"] for e in by_type["delivery.received.v1"]] == [1]
    assert ADMIN_PASSWORD not in json.dumps(entries, ensure_ascii=False)


async def _refused(api: httpx.AsyncClient, headers: dict) -> bool:
    return (await api.get("/api/v1/me", headers=headers)).status_code == 401
