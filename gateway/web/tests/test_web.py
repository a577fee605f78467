"""The web pages without a browser: httpx against the whole system in embedded mode."""

from __future__ import annotations

import re

import httpx
import pytest

from gateway.web.session import safe_next
from services.launcher import embedded
from shared.seed import org_id
from shared.settings import Settings

PASSWORD = "sarabun-demo"


@pytest.fixture
async def web(tmp_path):
    deployment = embedded(Settings(demo=True, data_dir=tmp_path, consumer_retry_seconds=0.05))
    await deployment.start()
    transport = httpx.ASGITransport(app=deployment.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sarabun.test") as client:
        yield client
    await deployment.stop()


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text).group(1)


async def sign_in(web: httpx.AsyncClient, username: str, next_: str = "") -> httpx.Response:
    form = await web.get("/signin")
    data = {"username": username, "password": PASSWORD, "next": next_, "csrf_token": csrf_of(form)}
    return await web.post("/signin", data=data)


async def test_a_wrong_password_says_so_in_thai_and_keeps_the_name(web):
    form = await web.get("/signin")
    data = {"username": "ops.clerk", "password": "wrong-password", "csrf_token": csrf_of(form)}
    answer = await web.post("/signin", data=data)
    assert answer.status_code == 401 and answer.headers["content-type"].startswith("text/html")
    assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in answer.text
    assert 'value="ops.clerk"' in answer.text and "wrong-password" not in answer.text
    assert "sarabun_session" not in web.cookies


async def test_the_session_is_an_httponly_strict_cookie_and_pages_carry_a_strict_csp(web):
    signed_in = await sign_in(web, "ops.clerk")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/inbox"
    cookie = next(h for h in signed_in.headers.get_list("set-cookie") if h.startswith("sarabun_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = await web.get("/inbox")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert web.cookies["sarabun_session"] not in page.text  # the token never reaches the page


async def test_forms_without_this_browsers_csrf_token_are_refused(web):
    refused = await web.post("/signin", data={"username": "ops.clerk", "password": PASSWORD})
    assert refused.status_code == 403 and "แบบฟอร์มหมดอายุ" in refused.text
    await sign_in(web, "ops.clerk")
    forged = {"csrf_token": "0" * 64, "type": "external", "subject": "ปลอม", "idempotency_key": "k1"}
    assert (await web.post("/compose", data=forged)).status_code == 403
    upload = await web.post("/relay/attachments", files={"file": ("a.pdf", b"%PDF-1.4\n", "application/pdf")})
    assert upload.status_code == 403
    assert (await web.get("/outbox")).text.count('class="doc-no"') == 0


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/inbox", "/\\evil.example", "javascript:alert(1)", "inbox", "/\t/x"],
)
def test_only_relative_paths_are_followed_after_sign_in(target):
    assert safe_next(target, "/") == "/"


async def test_sign_in_returns_to_the_page_asked_for_and_never_elsewhere(web):
    asked = await web.get("/registers/send?year=2569")
    assert asked.status_code == 303
    assert asked.headers["location"] == "/signin?next=%2Fregisters%2Fsend%3Fyear%3D2569&expired=1"
    back = await sign_in(web, "ops.clerk", "/registers/send?year=2569")
    assert back.headers["location"] == "/registers/send?year=2569"
    web.cookies.clear()
    away = await sign_in(web, "ops.clerk", "//evil.example/phish")
    assert away.headers["location"] == "/inbox"
    assert (await web.get("/lang/en?next=https://evil.example")).headers["location"] == "/"


async def test_the_same_drawn_form_sent_twice_is_one_letter_and_mistakes_keep_the_text(web):
    await sign_in(web, "ops.clerk")
    page = await web.get("/compose")
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page.text).group(1)
    rd = str(org_id("rd"))
    form = {"csrf_token": csrf_of(page), "idempotency_key": key, "type": "external", "urgency": "urgent"}
    form |= {"secrecy": "normal", "subject": "ขอเชิญประชุม <b>ด่วน</b>", "body": "ข้อความที่พิมพ์ไว้"}

    refused = await web.post("/compose", data=form)  # no recipient chosen
    assert refused.status_code == 422
    assert 'id="recipients-error"' in refused.text and "ผู้รับ" in refused.text
    assert "ขอเชิญประชุม &lt;b&gt;ด่วน&lt;/b&gt;" in refused.text and "ข้อความที่พิมพ์ไว้" in refused.text

    first = await web.post("/compose", data=form | {"recipient_org_ids": rd})
    again = await web.post("/compose", data=form | {"recipient_org_ids": rd})
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert (await web.get("/outbox")).text.count('class="doc-no"') == 1


async def test_the_typeface_and_assets_are_served_from_an_allow_list(web):
    font = await web.get("/static/fonts/Sarabun-Regular.ttf")
    assert font.status_code == 200 and font.headers["content-type"] == "font/ttf"
    assert (await web.get("/static/fonts/..%2F__init__.py")).status_code == 404
    assert (await web.get("/static/app.css")).status_code == 200
    assert (await web.get("/static/..%2F__init__.py")).status_code == 404
    await sign_in(web, "auditor")
    assert (await web.get("/relay/audit/denied")).status_code == 404  # only what the verifier needs
    assert (await web.get("/relay/audit/checkpoint")).status_code in (200, 404)


async def test_english_is_one_switch_away_and_thai_stays_the_default(web):
    await sign_in(web, "cgd.clerk")
    assert "หนังสือเข้า" in (await web.get("/inbox")).text
    switched = await web.get("/lang/en?next=/inbox")
    assert switched.headers["location"] == "/inbox" and web.cookies["lang"] == "en"
    page = await web.get("/inbox")
    assert '<html lang="en">' in page.text and "Inbox" in page.text and "Not registered" in page.text


async def test_a_unit_keeping_no_registers_is_shown_its_central_registrys(web):
    """กองกลาง of กรมบัญชีกลาง keeps no registers: its register page is the department's, saying so, and its
    compose page says whose numbers its letters take."""
    token = (await web.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})).json()
    person = {
        "username": "cgd.secretariat.clerk",
        "display_name": "นางสาวสมศรี ใจดี",
        "org_key": "cgd.secretariat",
        "roles": ["clerk"],
        "clearance": "normal",
        "password": "รหัสผ่าน-ยาวพอ-2569",
    }
    admin = {"Authorization": f"Bearer {token['access_token']}"}
    assert (await web.post("/api/v1/admin/users", headers=admin, json=person)).status_code == 201
    form = await web.get("/signin")
    data = {"username": person["username"], "password": person["password"], "csrf_token": csrf_of(form)}
    assert (await web.post("/signin", data=data)).status_code == 303
    page = await web.get("/registers/receive")
    assert page.status_code == 200 and 'id="registry-notice"' in page.text
    notice = re.search(r'id="registry-notice">([^<]*)<', page.text).group(1)
    assert "สำนักงานเลขานุการกรม" in notice and "กรมบัญชีกลาง" in notice
    assert re.search(r'class="book-sub">กรมบัญชีกลาง ·', page.text)
    compose = await web.get("/compose")
    assert "กค 0400" in re.search(r'id="registry-hint">([^<]*)<', compose.text).group(1)
    web.cookies.clear()
    await sign_in(web, "cgd.clerk")
    assert 'id="registry-notice"' not in (await web.get("/registers/receive")).text
    assert 'id="registry-hint"' not in (await web.get("/compose")).text
