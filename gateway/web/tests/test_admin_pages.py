"""The administrator's pages without a browser: the unit tree, the directory and people imports (preview, then
exactly the previewed file applied; a bad file shows its rows and changes nothing), people with their filters,
disable and enable behind a confirmation, one-time sign-in links, and the fresh sign-in these actions need."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from gateway.auth import AUDIENCE, ISSUER
from gateway.web.tests.test_pages import System
from gateway.web.tests.test_web import csrf_of
from services.launcher import embedded
from shared.settings import Settings

NEW_DIVISION = "cgd.import-test,กองทดสอบการนำเข้า,Import Test Division,กค 0409,,กอง,cgd,ใช่,,\n"


@pytest.fixture
async def system(tmp_path):
    deployment = embedded(Settings(demo=True, data_dir=tmp_path, consumer_retry_seconds=0.05))
    await deployment.start()
    built = System(deployment)
    yield built
    for client in built.clients:
        await client.aclose()
    await deployment.stop()


async def export_csv(system: System) -> str:
    answer = await system.client().get(
        "/api/v1/admin/directory/export", params={"format": "csv"}, headers=await system.api("admin")
    )
    return answer.content.decode("utf-8-sig")


async def unit_keys(system: System) -> set[str]:
    answer = await system.client().get("/api/v1/orgs", headers=await system.api("admin"))
    return {org["key"] for org in answer.json()}


def hidden_fields(page) -> dict[str, str]:
    found = re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', page.text)
    return {name: html.unescape(value) for name, value in found}


async def upload(browser, path: str, name: str, content: str):
    page = await browser.get(path)
    files = {"file": (name, content.encode(), "text/csv")}
    return await browser.post(path, data={"csrf_token": csrf_of(page)}, files=files)


def stale_token(system: System, username: str, minutes_ago: int) -> str:
    """A token as sign-in gave it `minutes_ago`, still unexpired."""
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now - timedelta(minutes=minutes_ago),
        "exp": now + timedelta(minutes=10),
        "sub": username,
        "org": "00000000-0000-0000-0000-000000000000",
        "org_code": "",
        "roles": ["admin"],
        "clr": "normal",
    }
    return jwt.encode(claims, system.deployment.app.state.settings.jwt_secret, algorithm="HS256")


async def test_an_admin_lands_on_people_and_sees_the_admin_links_other_roles_neither(system):
    admin = system.client()
    page = await admin.get("/signin")
    data = {"username": "admin", "password": "sarabun-demo", "csrf_token": csrf_of(page)}
    signed_in = await admin.post("/signin", data=data)
    assert signed_in.headers["location"] == "/admin/people"
    people = await admin.get("/admin/people")
    assert people.status_code == 200
    assert 'href="/admin/people" aria-current="page"' in people.text and 'href="/admin/units"' in people.text
    admin.cookies.set("lang", "en")
    words = {
        "/admin/people": "Find people",
        "/admin/units": "Show retired units",
        "/admin/people/new": "Add the person",
        "/admin/units/import": "Check the file",
        "/admin/people/admin": "Issue a sign-in link",
    }
    for path, word in words.items():
        english = await admin.get(path)
        assert english.status_code == 200 and word in english.text, path
    admin.cookies.set("lang", "th")

    clerk = await system.browser("cgd.clerk")
    inbox = await clerk.get("/inbox")
    assert "/admin/people" not in inbox.text and "/admin/units" not in inbox.text
    for path in ("/admin/people", "/admin/units", "/admin/people/admin", "/admin/units/import"):
        refused = await clerk.get(path)
        assert refused.status_code == 403, path
        assert "บทบาทของท่านทำรายการนี้ไม่ได้" in refused.text and "ทำรายการไม่สำเร็จ" in refused.text


async def test_the_unit_tree_shows_each_level_with_its_facts_and_the_filter_keeps_the_way_down(system):
    admin = await system.browser("admin")
    page = await admin.get("/admin/units")
    assert page.status_code == 200
    tree = page.text[page.text.index('id="unit-tree"') :]
    # ministry → department → division → section, nested in that order
    positions = [tree.index(f'data-key="{key}"') for key in ("mof", "cgd", "cgd.budget", "cgd.budget.disbursement")]
    assert positions == sorted(positions)
    assert "กรมบัญชีกลาง" in tree and "กค 0402.1" in tree and "กลุ่มงาน / ฝ่าย" in tree
    assert "ใช้ทะเบียนสารบรรณกลางของกองบริหารการเบิกจ่ายเงินงบประมาณ" in tree  # a section without registers
    assert "มีทะเบียนรับ-ส่งของตนเอง" in tree

    found = await admin.get("/admin/units", params={"q": "0402.2"})
    keys = re.findall(r'<li data-key="([^"]+)"', found.text)
    assert keys == ["mof", "cgd", "cgd.budget", "cgd.budget.control"]  # the match and the way down to it
    assert "1 หน่วยงาน" in found.text

    export = await admin.get("/admin/units/export", params={"format": "csv"})
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    assert "กรมบัญชีกลาง" in export.content.decode("utf-8-sig")


async def test_a_directory_import_is_previewed_then_exactly_that_file_applies(system):
    admin = await system.browser("admin")
    current = await export_csv(system)
    # One division added, one retired (ops.legal left out), one renamed.
    lines = [line for line in current.splitlines(keepends=True) if not line.startswith("ops.legal,")]
    text = "".join(lines).replace("ศูนย์เทคโนโลยีสารสนเทศและการสื่อสาร,", "ศูนย์เทคโนโลยีดิจิทัล,") + NEW_DIVISION

    preview = await upload(admin, "/admin/units/import", "หน่วยงาน.csv", text)
    assert preview.status_code == 200, preview.text
    assert re.search(r'id="count-added">1<', preview.text) and re.search(r'id="count-retired">1<', preview.text)
    assert re.search(r'id="count-changed">1<', preview.text)
    assert "กองทดสอบการนำเข้า" in preview.text and "(ชื่อหน่วยงาน)" in preview.text
    assert "cgd.import-test" not in await unit_keys(system)  # a preview changes nothing

    held = hidden_fields(preview)
    tampered = held | {"held_content": held["held_content"][:-8] + "QUFBQUFB"}
    refused = await admin.post("/admin/units/import/apply", data=tampered)
    assert refused.status_code == 409 and "หมดอายุหรือถูกแก้ไข" in refused.text
    assert "cgd.import-test" not in await unit_keys(system)

    applied = await admin.post("/admin/units/import/apply", data=held)
    assert applied.status_code == 200 and 'data-applied="true"' in applied.text
    keys = await unit_keys(system)
    assert "cgd.import-test" in keys and "ops.legal" not in keys

    # Retired units show only on request, marked as such.
    tree = await admin.get("/admin/units")
    assert 'data-key="ops.legal"' not in tree.text and 'data-key="cgd.import-test"' in tree.text
    with_retired = await admin.get("/admin/units", params={"retired": "1"})
    assert re.search(r'data-key="ops.legal" class="unit level-3 retired"', with_retired.text)
    assert "ยุบเลิกแล้ว" in with_retired.text


async def test_a_bad_directory_file_shows_its_rows_and_changes_nothing(system):
    admin = await system.browser("admin")
    before = await export_csv(system)
    bad = before + "cgd.orphan,กองไร้สังกัด,,กค 0499,,กอง,no-such-parent,ใช่,,\n" + NEW_DIVISION.replace("0409", "0400")
    page = await upload(admin, "/admin/units/import", "bad.csv", bad)
    assert page.status_code == 422
    table = page.text[page.text.index('id="import-errors"') :]
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", table)
    assert rows, table[:2000]
    assert {row[1] for row in rows} & {"หน่วยงานต้นสังกัด", "รหัสหนังสือ"}
    assert "ไม่ได้นำเข้าสิ่งใด" in page.text and 'id="import-apply"' not in page.text
    assert await export_csv(system) == before

    not_csv = await upload(admin, "/admin/units/import", "directory.csv", "this is not a directory\n")
    assert not_csv.status_code == 422 and 'id="import-errors"' in not_csv.text
    assert await export_csv(system) == before


async def test_people_are_found_created_changed_disabled_and_given_a_sign_in_link(system):
    admin = await system.browser("admin")
    listed = await admin.get("/admin/people", params={"q": "cgd"})
    assert 'data-username="cgd.clerk"' in listed.text and 'data-username="rd.clerk"' not in listed.text

    # A new person, in a division, by the picker's unit id.
    orgs = await system.orgs()
    form = await admin.get("/admin/people/new")
    data = {
        "csrf_token": csrf_of(form),
        "username": "Budget.Clerk",
        "display_name": "นางสาวทดสอบ ระบบงาน",
        "org_id": orgs["cgd.budget"],
        "position": "เจ้าพนักงานธุรการ",
        "email": "budget.clerk@cgd.example",
        "roles": ["clerk"],
        "clearance": "confidential",
    }
    created = await admin.post("/admin/people/new", data=data)
    assert created.status_code == 303 and created.headers["location"] == "/admin/people/budget.clerk?notice=created"
    person = await admin.get(created.headers["location"])
    assert "เพิ่มผู้ใช้ นางสาวทดสอบ ระบบงาน แล้ว" in person.text, re.findall(r'id="person-notice">[^<]*', person.text)
    assert "กองบริหารการเบิกจ่ายเงินงบประมาณ" in person.text

    # Typed rather than picked (a browser without the script): the letter code names the unit.
    data2 = data | {"username": "legal.staff", "org_id": "", "unit_text": "กค 0702", "roles": ["staff"]}
    assert (await admin.post("/admin/people/new", data=data2)).status_code == 303
    missing = data | {"username": "nobody", "roles": [], "org_id": "", "unit_text": "ไม่มีหน่วยงานนี้"}
    refused = await admin.post("/admin/people/new", data=missing)
    assert refused.status_code == 422 and "เลือกบทบาทอย่างน้อยหนึ่งบทบาท" in refused.text
    assert "ไม่พบหน่วยงาน" in refused.text

    # Changing the position sends only that; the list filters by unit and role.
    edit = {k: v for k, v in data.items() if k != "username"} | {"position": "นักจัดการงานทั่วไป"}
    saved = await admin.post("/admin/people/budget.clerk", data=edit)
    assert saved.status_code == 303 and saved.headers["location"].endswith("notice=saved")
    by_unit = await admin.get("/admin/people", params={"org": "cgd.budget", "role": "clerk"})
    assert re.findall(r'data-username="([^"]+)"', by_unit.text) == ["budget.clerk"]
    assert "นักจัดการงานทั่วไป" in by_unit.text

    # Disabling needs the confirmation box; then the list's filter shows who is disabled.
    token = csrf_of(person)
    unconfirmed = await admin.post("/admin/people/rd.clerk/active", data={"csrf_token": token, "active": "false"})
    assert unconfirmed.status_code == 422 and "กรุณาทำเครื่องหมายในช่องยืนยันก่อน" in unconfirmed.text
    confirm = {"csrf_token": token, "active": "false", "confirm": "1"}
    assert (await admin.post("/admin/people/rd.clerk/active", data=confirm)).status_code == 303
    disabled = await admin.get("/admin/people", params={"active": "false"})
    assert re.findall(r'data-username="([^"]+)"', disabled.text) == ["rd.clerk"]
    active = await admin.get("/admin/people", params={"active": "true"})
    assert 'data-username="rd.clerk"' not in active.text
    rd = system.client()
    answer = await rd.post("/api/v1/auth/token", data={"username": "rd.clerk", "password": "sarabun-demo"})
    assert answer.status_code == 401

    # A one-time link, shown once with its expiry in the Buddhist era; it signs the person in.
    link_page = await admin.post("/admin/people/budget.clerk/sign-in-link", data={"csrf_token": token})
    url = re.search(r'id="link-url" value="([^"]+)"', link_page.text).group(1)
    assert url.startswith("http://sarabun.test/auth/link/") and re.search(r"ใช้ได้ถึง \d+ [ก-๙.]+ 25\d\d", link_page.text)
    again = await admin.get("/admin/people/budget.clerk")
    assert url not in again.text


async def test_a_people_csv_is_previewed_and_a_bad_one_names_its_row(system):
    admin = await system.browser("admin")
    bad = "username,display_name,org_key,roles,clearance\nnew.one,คนใหม่,cgd,clerk,normal\nx.y,คนผิด,nope,clerk,normal\n"
    page = await upload(admin, "/admin/people/import", "people.csv", bad)
    assert page.status_code == 422
    assert re.search(r'<td class="num">3</td><td>หน่วยงาน</td><td>[^<]*nope', page.text)
    people = await admin.get("/admin/people", params={"q": "new.one"})
    assert 'data-username="new.one"' not in people.text

    good = "username,display_name,org_key,roles,clearance\nnew.one,คนใหม่,cgd,clerk,normal\n"
    preview = await upload(admin, "/admin/people/import", "people.csv", good)
    assert preview.status_code == 200 and re.search(r'id="count-added">1<', preview.text)
    assert "คนใหม่" in preview.text
    applied = await admin.post("/admin/people/import/apply", data=hidden_fields(preview))
    assert applied.status_code == 200 and 'data-applied="true"' in applied.text
    people = await admin.get("/admin/people", params={"q": "new.one"})
    assert 'data-username="new.one"' in people.text


async def test_a_stale_sign_in_goes_to_sign_in_with_a_notice_and_comes_back(system):
    browser = system.client()
    browser.cookies.set("sarabun_session", stale_token(system, "admin", 20))
    answer = await browser.get("/admin/people", params={"q": "cgd"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=%2Fadmin%2Fpeople%3Fq%3Dcgd&fresh=1"
    assert "sarabun_session=" not in answer.headers.get("set-cookie", "")  # the session itself is kept
    signin = await browser.get(answer.headers["location"])
    assert "ต้องเข้าสู่ระบบภายใน 15 นาที" in signin.text
    assert 'name="next" value="/admin/people?q=cgd"' in signin.text

    # A form sent with a stale sign-in goes the same way, back to its page, and applies nothing.
    form = await browser.get("/admin/units")  # the tree is read through the admin export: fresh sign-in too
    assert form.status_code == 303
    posted = await browser.post(
        "/admin/units/import",
        data={"csrf_token": csrf_of(signin)},
        files={"file": ("d.csv", NEW_DIVISION.encode(), "text/csv")},
        headers={"referer": "http://sarabun.test/admin/units/import"},
    )
    assert posted.status_code == 303 and posted.headers["location"].startswith("/signin?next=%2Fadmin%2Funits%2Fimport")

    # Signing in again returns to the page asked for.
    data = {"username": "admin", "password": "sarabun-demo", "next": "/admin/people?q=cgd"}
    data["csrf_token"] = csrf_of(signin)
    back = await browser.post("/signin", data=data)
    assert back.headers["location"] == "/admin/people?q=cgd"
    assert (await browser.get("/admin/people?q=cgd")).status_code == 200


async def test_with_an_identity_provider_the_fresh_sign_in_asks_it_to_authenticate_again(system):
    app = system.deployment.app
    app.state.settings = app.state.settings.model_copy(
        update={"oidc_issuer": "https://idp.example.go.th", "oidc_client_id": "sarabun"}
    )
    page = await system.client().get("/signin", params={"next": "/admin/units", "fresh": "1"})
    assert 'href="/auth/oidc/login?next=/admin/units&amp;fresh=true"' in page.text
    plain = await system.client().get("/signin", params={"next": "/inbox", "expired": "1"})
    assert 'href="/auth/oidc/login?next=/inbox"' in plain.text
