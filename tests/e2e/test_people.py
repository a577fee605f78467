"""People, through the public API in embedded mode: an administrator creates, changes, disables and
re-enables accounts and imports them from CSV; access follows the account, not the token; administrative
actions need a fresh sign-in; one-time links replace lost passwords; every change is in the audit log,
without a password or its hash."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from services.launcher import embedded
from shared.settings import Settings
from tests.e2e.helpers import eventually, inbox_item, login, org_ids

API = "/api/v1"
NEW_PASSWORD = "รหัสผ่านใหม่-ยาวพอ-2569"


@pytest.fixture
async def system(tmp_path):
    deployment = embedded(Settings(demo=True, data_dir=tmp_path, consumer_retry_seconds=0.05))
    await deployment.start()
    transport = httpx.ASGITransport(app=deployment.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sarabun") as client:
        yield client, deployment
    await deployment.stop()


def _person(username: str, org_key: str = "cgd", **extra) -> dict:
    return {
        "username": username,
        "display_name": "นางสาวสมศรี ใจดี",
        "org_key": org_key,
        "roles": ["clerk"],
        "clearance": "normal",
        "password": NEW_PASSWORD,
        **extra,
    }


async def test_an_admin_creates_edits_disables_and_re_enables_a_person(system):
    client, _ = system
    admin = await login(client, "admin")
    created = await client.post(
        f"{API}/admin/users",
        headers=admin,
        json=_person("  Somsri.J ", email="Somsri@Example.go.th", position="นักจัดการงานทั่วไป"),
    )
    assert created.status_code == 201, created.text
    person = created.json()
    assert person["username"] == "somsri.j"  # NFC, trimmed, lower case
    assert (person["org_key"], person["org_code"], person["has_password"]) == ("cgd", "กค 0400", True)
    assert NEW_PASSWORD not in created.text and "argon2" not in created.text
    again = await client.post(f"{API}/admin/users", headers=admin, json=_person("somsri.j"))
    assert again.status_code == 409

    somsri = await login(client, "somsri.j", NEW_PASSWORD)
    me = (await client.get(f"{API}/me", headers=somsri)).json()
    assert (me["position"], me["email"], me["org_code"]) == ("นักจัดการงานทั่วไป", "Somsri@example.go.th", "กค 0400")

    changed = await client.patch(
        f"{API}/admin/users/somsri.j", headers=admin, json={"clearance": "confidential", "email": None}
    )
    assert changed.status_code == 200 and changed.json()["email"] is None
    assert (await client.get(f"{API}/me", headers=somsri)).json()["clearance"] == "confidential"

    disabled = await client.patch(f"{API}/admin/users/somsri.j", headers=admin, json={"active": False})
    assert disabled.json()["active"] is False
    refused = await client.get(f"{API}/inbox", headers=somsri)  # the token is still valid: the account is not
    assert refused.status_code == 401 and refused.headers["content-type"].startswith("application/problem+json")
    no_sign_in = await client.post(f"{API}/auth/token", data={"username": "somsri.j", "password": NEW_PASSWORD})
    assert no_sign_in.status_code == 401

    await client.patch(f"{API}/admin/users/somsri.j", headers=admin, json={"active": True})
    assert (await client.get(f"{API}/inbox", headers=somsri)).status_code == 200

    listed = (await client.get(f"{API}/admin/users", headers=admin, params={"q": "SOMSRI", "org_key": "cgd"})).json()
    assert [p["username"] for p in listed["items"]] == ["somsri.j"]
    clerks = (await client.get(f"{API}/admin/users", headers=admin, params={"role": "clerk", "limit": 2})).json()
    assert len(clerks["items"]) == 2 and clerks["next_cursor"]
    rest = await client.get(
        f"{API}/admin/users", headers=admin, params={"role": "clerk", "cursor": clerks["next_cursor"]}
    )
    assert {p["username"] for p in rest.json()["items"]}.isdisjoint({p["username"] for p in clerks["items"]})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_person("x", password="short"), "username"),
        (_person("ok.name", password="short"), "password"),
        (_person("ok.name", org_key="nowhere"), "org_key"),
        (_person("ok.name", email="not-an-address"), "email"),
        (_person("ok.name", roles=["boss"]), "roles"),
        (_person("ok.name", clearance="cosmic"), "clearance"),
        (_person("bad name!"), "username"),
    ],
)
async def test_bad_people_are_refused_naming_the_field(system, body, field):
    client, _ = system
    admin = await login(client, "admin")
    refused = await client.post(f"{API}/admin/users", headers=admin, json=body)
    assert refused.status_code == 422, refused.text
    assert field in json.dumps(refused.json()["errors"]) and "short" not in refused.text


async def test_a_disabled_account_is_refused_even_when_another_process_disabled_it(system):
    """Another gateway replica's change reaches this one through the database when its cache entry ends: the
    test clears the cache in place of waiting those seconds."""
    client, deployment = system
    cgd = await login(client, "cgd.clerk")
    assert (await client.get(f"{API}/inbox", headers=cgd)).status_code == 200
    from gateway.adapters.repository import UserRepository

    async with deployment.app.state.db.transaction() as session:
        await UserRepository(session).update("cgd.clerk", active=False)
    assert (await client.get(f"{API}/inbox", headers=cgd)).status_code == 200  # still within the cache's life
    deployment.app.state.accounts.forget()
    assert (await client.get(f"{API}/inbox", headers=cgd)).status_code == 401


async def test_a_moved_person_sees_the_new_units_letters_and_not_the_old(system):
    client, _ = system
    admin, ops = await login(client, "admin"), await login(client, "ops.clerk")
    orgs = await org_ids(client, ops)
    await client.post(f"{API}/admin/users", headers=admin, json=_person("mover", org_key="cgd"))
    mover = await login(client, "mover", NEW_PASSWORD)
    to_cgd = await client.post(
        f"{API}/letters",
        headers=ops,
        json={"type": "external", "subject": "ถึงกรมบัญชีกลาง", "recipient_org_ids": [orgs["cgd"]]},
    )
    to_rd = await client.post(
        f"{API}/letters",
        headers=ops,
        json={"type": "external", "subject": "ถึงกรมสรรพากร", "recipient_org_ids": [orgs["rd"]]},
    )
    assert await eventually(lambda: inbox_item(client, mover, to_cgd.json()["id"]))

    moved = await client.patch(f"{API}/admin/users/mover", headers=admin, json={"org_key": "rd"})
    assert moved.json()["org_key"] == "rd"
    assert await eventually(lambda: inbox_item(client, mover, to_rd.json()["id"]))  # the same token
    assert await inbox_item(client, mover, to_cgd.json()["id"]) is None
    assert (await client.get(f"{API}/letters/{to_cgd.json()['id']}", headers=mover)).status_code == 404
    assert (await client.get(f"{API}/me", headers=mover)).json()["org_code"] == "กค 0700"


CSV_TH = (
    "\ufeffชื่อผู้ใช้,ชื่อ,หน่วยงาน,บทบาท,ชั้นความลับ,อีเมล,ตำแหน่ง\n"
    "td.staff,นายทดสอบ หนึ่ง,td,staff,ปกติ,one@example.go.th,นักวิชาการ\n"
    "td.head,นางทดสอบ สอง,td,executive;staff,ลับ,,ผู้อำนวยการกอง\n"
    "rd.clerk,เจ้าหน้าที่สารบรรณ กรมสรรพากร,rd,clerk,secret,,\n"
)


async def _import(client, admin, text: str, dry_run: bool):
    return await client.post(
        f"{API}/admin/users/import",
        headers=admin,
        params={"dry_run": str(dry_run).lower()},
        files={"file": ("people.csv", text.encode("utf-8"), "text/csv")},
    )


async def test_a_csv_import_shows_first_then_applies_all_or_nothing(system):
    client, _ = system
    admin = await login(client, "admin")
    preview = await _import(client, admin, CSV_TH, dry_run=True)
    assert preview.status_code == 200, preview.text
    assert preview.json() | {"fields": None} == {
        "applied": False, "added": ["td.staff", "td.head"], "changed": ["rd.clerk"], "fields": None
    }  # fmt: skip
    assert preview.json()["fields"] == {"rd.clerk": ["clearance"]}
    assert (await client.get(f"{API}/admin/users/td.staff", headers=admin)).status_code == 404  # nothing yet

    applied = (await _import(client, admin, CSV_TH, dry_run=False)).json()
    assert (applied["applied"], applied["added"], applied["changed"]) == (True, ["td.staff", "td.head"], ["rd.clerk"])
    head = (await client.get(f"{API}/admin/users/td.head", headers=admin)).json()
    assert (head["roles"], head["clearance"], head["has_password"]) == (["staff", "executive"], "confidential", False)
    assert (await _import(client, admin, CSV_TH, dry_run=False)).json()["changed"] == []  # nothing left to change

    english = "username,display_name,org_key,roles,clearance,email\nnew.one,คนใหม่,cgd,clerk,normal,\n"
    bad = english + "td.staff,ซ้ำ,nowhere,clerk,normal,\nx2,ชื่อ,cgd,wizard,normal,\nx3,ชื่อ,cgd,clerk,cosmic,\n"
    bad += "x4,ชื่อ,cgd,clerk,normal,not-mail\nx5,short row\nnew.one,ซ้ำในไฟล์,cgd,clerk,normal,\n"
    refused = await _import(client, admin, bad, dry_run=False)
    assert refused.status_code == 422
    errors = {(e["row"], e["field"]) for e in refused.json()["errors"]}
    assert errors == {(3, "org_key"), (4, "roles"), (5, "clearance"), (6, "email"), (7, None), (8, "username")}
    assert (await client.get(f"{API}/admin/users/new.one", headers=admin)).status_code == 404  # all or nothing


def _stale(token: str, secret: str, minutes: int = 16) -> dict:
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience="sarabun-api")
    claims["iat"] = int((datetime.now(UTC) - timedelta(minutes=minutes)).timestamp())
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}


async def test_admin_actions_need_a_fresh_sign_in_and_a_clerks_inbox_does_not(system):
    client, deployment = system
    secret = deployment.app.state.settings.jwt_secret
    admin, cgd = await login(client, "admin"), await login(client, "cgd.clerk")
    stale_admin = _stale(admin["Authorization"].split()[1], secret)
    refused = await client.get(f"{API}/admin/users", headers=stale_admin)
    assert refused.status_code == 401
    assert refused.json()["type"].endswith("/problems/fresh-sign-in-required")
    assert "เข้าสู่ระบบ" in refused.json()["detail"]
    year = {"year": 2569, "next_number": 9}
    assert (await client.put(f"{API}/registers/send/next-number", headers=stale_admin, json=year)).status_code == 401
    assert (await client.get(f"{API}/me", headers=stale_admin)).status_code == 200
    assert (
        await client.get(f"{API}/inbox", headers=_stale(cgd["Authorization"].split()[1], secret))
    ).status_code == 200
    assert (await client.get(f"{API}/admin/users", headers=admin)).status_code == 200


async def test_a_sign_in_link_works_once_and_leads_to_a_new_password(system):
    client, _ = system
    admin = await login(client, "admin")
    first = await client.post(f"{API}/admin/users/td.clerk/sign-in-link", headers=admin)
    second = await client.post(f"{API}/admin/users/td.clerk/sign-in-link", headers=admin)
    assert second.status_code == 201 and second.json()["url"].startswith("http://sarabun/auth/link/")
    token, older = second.json()["url"].rsplit("/", 1)[1], first.json()["url"].rsplit("/", 1)[1]

    replaced = await client.post(f"{API}/auth/link", json={"token": older})
    assert replaced.status_code == 401 and "ลิงก์" in replaced.json()["detail"]
    signed_in = await client.post(f"{API}/auth/link", json={"token": token})
    assert signed_in.status_code == 200
    headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    assert (await client.post(f"{API}/auth/link", json={"token": token})).json()["detail"].startswith("ลิงก์นี้ถูกใช้")
    assert (await client.post(f"{API}/auth/link", json={"token": "no-such-link"})).status_code == 401

    short = await client.post(f"{API}/me/password", headers=headers, json={"new_password": "short"})
    assert short.status_code == 422
    assert (
        await client.post(f"{API}/me/password", headers=headers, json={"new_password": NEW_PASSWORD})
    ).status_code == 200
    await login(client, "td.clerk", NEW_PASSWORD)


async def test_the_link_pages_sign_in_once_and_set_a_password(system):
    client, _ = system
    admin = await login(client, "admin")
    url = (await client.post(f"{API}/admin/users/td.clerk/sign-in-link", headers=admin)).json()["url"]
    path = url.removeprefix("http://sarabun")
    page = await client.get(path)  # a preview fetching the address uses nothing up
    assert page.status_code == 200
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    used = await client.post(path, data={"csrf_token": csrf})
    assert used.status_code == 303 and used.headers["location"] == "/account/password"
    form = await client.get("/account/password")
    assert form.status_code == 200
    saved = await client.post(
        "/account/password", data={"csrf_token": csrf, "new_password": NEW_PASSWORD, "again": NEW_PASSWORD}
    )
    assert saved.status_code == 200 and "ตั้งรหัสผ่านใหม่แล้ว" in saved.text
    client.cookies.clear()
    page = await client.get(path)
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    again = await client.post(path, data={"csrf_token": csrf})
    assert again.status_code == 401 and "ใช้ได้ครั้งเดียว" in again.text


async def test_password_sign_in_can_be_switched_off(tmp_path):
    deployment = embedded(Settings(demo=True, data_dir=tmp_path, local_passwords=False))
    await deployment.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=deployment.app), base_url="http://s") as client:
            refused = await client.post(f"{API}/auth/token", data={"username": "admin", "password": "sarabun-demo"})
            assert refused.status_code == 403 and "ลิงก์" in refused.json()["detail"]
    finally:
        await deployment.stop()


async def _entries(client, auditor) -> list[dict]:
    page = (await client.get(f"{API}/audit/entries", headers=auditor)).json()
    return [json.loads(base64.b64decode(item["entry"])) for item in page]


async def test_people_changes_are_audited_without_password_material(system):
    client, deployment = system
    admin, auditor = await login(client, "admin"), await login(client, "auditor")
    await client.post(f"{API}/admin/users", headers=admin, json=_person("audited"))
    await client.patch(
        f"{API}/admin/users/audited", headers=admin, json={"roles": ["clerk", "staff"], "password": NEW_PASSWORD}
    )
    await client.post(f"{API}/admin/users/audited/sign-in-link", headers=admin)

    async def people_entries():
        entries = await _entries(client, auditor)
        found = [e for e in entries if e["type"].startswith("user.") and e.get("username") == "audited"]
        return found if len(found) >= 3 else None

    found = await eventually(people_entries)
    by_type = {e["type"]: e for e in found}
    assert by_type["user.created.v1"]["actor"] == "admin" and by_type["user.created.v1"]["username"] == "audited"
    change = by_type["user.changed.v1"]
    assert (change["fields"], change["roles"], change["password_set"]) == (
        ["roles", "password"],
        ["clerk", "staff"],
        True,
    )
    assert by_type["user.sign-in-link-issued.v1"]["username"] == "audited"
    text = json.dumps(found, ensure_ascii=False)
    assert NEW_PASSWORD not in text and "argon2" not in text and "สมศรี" not in text

    from sqlalchemy import select

    from gateway.adapters.tables import outbox

    async with deployment.app.state.db.read() as session:
        staged = " ".join((await session.execute(select(outbox.c.body))).scalars())
    assert NEW_PASSWORD not in staged and "argon2" not in staged and "token_sha256" not in staged


async def _contacts(deployment) -> list[tuple[str, str, str | None]]:
    """The `user.contact` events staged in the gateway's outbox: (actor, username, email), in order."""
    from sqlalchemy import select

    from gateway.adapters.tables import outbox

    async with deployment.app.state.db.read() as session:
        bodies = (await session.execute(select(outbox.c.body).order_by(outbox.c.seq))).scalars()
        staged = [json.loads(body) for body in bodies]
    return [(e["actor"], e["data"]["username"], e["data"]["email"]) for e in staged if e["type"] == "user.contact.v1"]


async def test_a_persons_address_is_announced_whenever_it_is_set_or_changed(system):
    """Notifications reach people at the address their account has: the demo people, a person created or
    imported with one, and every change of it (removing it too) announce it; other changes do not."""
    client, deployment = system
    seeded = await _contacts(deployment)
    assert ("system", "cgd.dg", "cgd.dg@sarabun.example") in seeded and ("system", "ops.clerk", None) not in seeded
    admin = await login(client, "admin")
    await client.post(f"{API}/admin/users", headers=admin, json=_person("with.mail", email="With@Example.go.th"))
    await client.post(f"{API}/admin/users", headers=admin, json=_person("without.mail"))
    await client.patch(f"{API}/admin/users/with.mail", headers=admin, json={"position": "นักจัดการงานทั่วไป"})
    await client.patch(f"{API}/admin/users/without.mail", headers=admin, json={"email": "new@example.go.th"})
    await client.patch(f"{API}/admin/users/with.mail", headers=admin, json={"email": None})
    await _import(client, admin, CSV_TH, dry_run=False)
    assert (await _contacts(deployment))[len(seeded) :] == [
        ("admin", "with.mail", "With@example.go.th"),
        ("admin", "without.mail", "new@example.go.th"),
        ("admin", "with.mail", None),
        ("admin", "td.staff", "one@example.go.th"),
    ]
