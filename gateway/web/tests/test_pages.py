"""The pages a first-time clerk relies on, without a browser: attachment names, sizes and page counts, the
paper a unit saved, the auditor's timeline with its letter number, recall and cancel behind a confirmation,
copies (สำเนาส่ง) from the compose form, the one-line hints, and downloads streamed in pieces."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from fpdf import FPDF

from gateway.web.tests.test_web import PASSWORD, csrf_of, sign_in
from services.launcher import embedded
from shared.settings import Settings
from tests.e2e.helpers import eventually, inbox_item


def pdf_of(pages: int) -> bytes:
    document = FPDF(unit="pt", format="A4")
    document.set_font("Helvetica", size=12)
    for number in range(1, pages + 1):
        document.add_page()
        document.text(72, 72, f"page {number}")
    return bytes(document.output())


class System:
    """One embedded deployment; `browser(user)` is a signed-in cookie jar, `api(user)` the public API's headers."""

    def __init__(self, deployment):
        self.deployment = deployment
        self.transport = httpx.ASGITransport(app=deployment.app)
        self.clients: list[httpx.AsyncClient] = []

    def client(self) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=self.transport, base_url="http://sarabun.test")
        self.clients.append(client)
        return client

    async def browser(self, username: str) -> httpx.AsyncClient:
        client = self.client()
        assert (await sign_in(client, username)).status_code == 303
        return client

    async def api(self, username: str) -> dict:
        answer = await self.client().post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    async def orgs(self) -> dict[str, str]:
        answer = await self.client().get("/api/v1/orgs", headers=await self.api("ops.clerk"))
        return {org["key"]: org["id"] for org in answer.json()}

    async def send(self, sender: str, to: list[str], subject: str, files: dict[str, bytes] | None = None) -> dict:
        """A letter sent through the API with its files uploaded first."""
        client, headers = self.client(), await self.api(sender)
        ids = []
        for name, data in (files or {}).items():
            upload = await client.post("/api/v1/attachments", headers=headers, files={"file": (name, data)})
            assert upload.status_code == 201, upload.text
            ids.append(upload.json()["id"])
        orgs = await self.orgs()
        body = {"type": "external", "subject": subject, "recipient_org_ids": [orgs[k] for k in to]}
        sent = await client.post("/api/v1/letters", headers=headers, json=body | {"attachment_ids": ids})
        assert sent.status_code == 201, sent.text
        return sent.json()

    async def arrived(self, username: str, letter_id: str) -> dict:
        client, headers = self.client(), await self.api(username)
        return await eventually(lambda: inbox_item(client, headers, letter_id))


@pytest.fixture
async def system(tmp_path):
    deployment = embedded(Settings(demo=True, data_dir=tmp_path, consumer_retry_seconds=0.05))
    await deployment.start()
    built = System(deployment)
    yield built
    for client in built.clients:
        await client.aclose()
    await deployment.stop()


def text_of(page: httpx.Response, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', page.text, re.S)
    return found.group(1).strip() if found else ""


async def test_the_letter_names_its_files_with_size_and_pages_and_follow_up_counts_the_paper_saved(system):
    letter = await system.send(
        "ops.clerk", ["cgd", "rd", "td"], "ส่งรายงานผลการดำเนินงาน", {"รายงานผล <ไตรมาส 1>.pdf": pdf_of(3)}
    )
    ops = await system.browser("ops.clerk")
    page = await ops.get(f"/letters/{letter['id']}")
    assert page.status_code == 200
    assert "รายงานผล &lt;ไตรมาส 1&gt;.pdf" in page.text  # the name, escaped
    assert '<span class="pages">3 หน้า</span>' in page.text
    assert re.search(r'class="file-facts">[\d.]+ KB', page.text)

    # On paper each of the three recipients would have had the three pages printed.
    followup = await ops.get("/follow-up")
    assert text_of(followup, "pages-sent") == "3"
    assert text_of(followup, "paper-saved") == "9"
    assert "ยังไม่มีใน API" not in followup.text

    # The recipient sees the same names once storage lets it read the files.
    await system.arrived("cgd.clerk", letter["id"])
    cgd = await system.browser("cgd.clerk")

    async def named_for_cgd():
        return "3 หน้า" in (await cgd.get(f"/letters/{letter['id']}")).text

    assert await eventually(named_for_cgd)


async def test_the_auditors_timeline_is_headed_by_the_letter_number(system):
    letter = await system.send("ops.clerk", ["cgd"], "แจ้งผลการประชุม")
    auditor = await system.browser("auditor")

    async def numbered():
        page = await auditor.get(f"/audit/letters/{letter['id']}")
        return page if letter["doc_no"] in page.text else None

    page = await eventually(numbered)
    assert re.search(r"<h1>[^<]*<small>" + re.escape(letter["doc_no"]) + "</small>", page.text)


async def test_recall_and_cancel_need_the_confirmation_and_then_happen(system):
    letter = await system.send("ops.clerk", ["cgd", "rd"], "หนังสือที่ส่งผิดหน่วยงาน")
    await system.arrived("rd.clerk", letter["id"])
    orgs = await system.orgs()
    ops = await system.browser("ops.clerk")
    page = await ops.get(f"/letters/{letter['id']}")
    assert "เรียกคืนหนังสือจากกรมสรรพากร" in page.text and "ยกเลิกหนังสือฉบับนี้" in page.text

    form = {"csrf_token": csrf_of(page), "recipient_org_ids": orgs["rd"]}
    unconfirmed = await ops.post(f"/letters/{letter['id']}/recall", data=form)
    assert unconfirmed.status_code == 422 and "ช่องยืนยัน" in unconfirmed.text
    recalled = await ops.post(f"/letters/{letter['id']}/recall", data=form | {"confirm": "1"})
    assert recalled.status_code == 303
    page = await ops.get(recalled.headers["location"])
    assert "เรียกคืนหนังสือแล้ว" in page.text
    assert f'data-status="recalled" data-org="{orgs["rd"]}"' in page.text

    cancel = {"csrf_token": csrf_of(page), "reason": "ส่งผิดเรื่อง"}
    assert (await ops.post(f"/letters/{letter['id']}/cancel", data=cancel)).status_code == 422
    cancelled = await ops.post(f"/letters/{letter['id']}/cancel", data=cancel | {"confirm": "1"})
    page = await ops.get(cancelled.headers["location"])
    assert 'id="cancelled"' in page.text and "ส่งผิดเรื่อง" in page.text
    assert "เรียกคืนหนังสือจาก" not in page.text and "ยกเลิกหนังสือฉบับนี้" not in page.text


async def test_copies_chosen_on_the_form_are_delivered_and_named_on_the_letter(system):
    orgs = await system.orgs()
    ops = await system.browser("ops.clerk")
    page = await ops.get("/compose")
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page.text).group(1)
    form = {"csrf_token": csrf_of(page), "idempotency_key": key, "type": "external", "urgency": "normal"}
    form |= {"secrecy": "normal", "subject": "ขอความร่วมมือ", "recipient_org_ids": orgs["rd"]}
    sent = await ops.post("/compose", data=form | {"cc_org_ids": orgs["td"]})
    assert sent.status_code == 303
    letter_id = sent.headers["location"].split("/letters/")[1].split("?")[0]
    assert await system.arrived("td.clerk", letter_id)
    page = await ops.get(f"/letters/{letter_id}")
    assert text_of(page, "cc") == "กรมธนารักษ์"


async def test_the_inbox_and_compose_say_what_to_do_next_in_the_chosen_language(system):
    cgd = await system.browser("cgd.clerk")
    assert "ลงรับหนังสือ" in text_of(await cgd.get("/inbox"), "hint")
    assert "ระบบจะออกเลขที่หนังสือให้เอง" in text_of(await cgd.get("/compose"), "hint")
    await cgd.get("/lang/en?next=/inbox")
    assert "Register letter" in text_of(await cgd.get("/inbox"), "hint")
    assert "Register and send" in text_of(await cgd.get("/compose"), "hint")


async def _raw_get(app, path: str, cookie: str) -> tuple[int, dict[str, str], list[bytes]]:
    """One GET straight to the ASGI app, keeping each body message as it was sent."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"sarabun.test"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 40000),
        "server": ("sarabun.test", 80),
    }
    sent: list[dict] = []
    requested, finished = asyncio.Event(), asyncio.Event()

    async def receive():
        # The request once; then, like a client that stays, nothing until the response is complete.
        if not requested.is_set():
            requested.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            finished.set()

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, [m["body"] for m in sent if m["type"] == "http.response.body" and m["body"]]


class Pieces(httpx.AsyncByteStream):
    def __init__(self, body: bytes, size: int):
        self.body, self.size = body, size

    async def __aiter__(self):
        for start in range(0, len(self.body), self.size):
            yield self.body[start : start + self.size]


class InPieces(httpx.AsyncBaseTransport):
    """Storage's real answers, handed over piece by piece as over a network. (In one process httpx's ASGI
    transport gives a body whole; this puts back what distributed mode has, so the web layer is what is tested.)"""

    def __init__(self, app, size: int = 64 * 1024):
        self.inner, self.size = httpx.ASGITransport(app=app), size

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self.inner.handle_async_request(request)
        body = await answer.aread()
        return httpx.Response(answer.status_code, headers=answer.headers, stream=Pieces(body, self.size))


async def test_a_download_from_the_page_arrives_in_pieces_with_the_apis_headers(system):
    data = b"%PDF-1.7\n" + bytes(i % 251 for i in range(300_000))
    letter = await system.send("ops.clerk", ["cgd"], "ส่งแบบแปลน", {"แบบแปลน.pdf": data})
    services = system.deployment.app.state.services
    storage = services.clients["storage"]
    services.clients["storage"] = httpx.AsyncClient(
        transport=InPieces(system.deployment.services["storage"].app), base_url=storage.base_url
    )
    system.clients.append(services.clients["storage"])
    attachment = letter["attachment_ids"][0]
    ops = await system.browser("ops.clerk")
    cookie = f"sarabun_session={ops.cookies['sarabun_session']}"

    status, headers, pieces = await _raw_get(system.deployment.app, f"/files/attachments/{attachment}", cookie)
    assert status == 200
    assert b"".join(pieces) == data
    assert len(pieces) > 1  # passed on as storage sends it, not gathered first
    assert headers["content-disposition"].startswith("attachment;")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == "default-src 'none'; sandbox"

    td = await system.browser("td.clerk")
    refused = await td.get(f"/files/attachments/{attachment}")
    assert refused.status_code == 404 and refused.headers["content-type"].startswith("text/html")
    auditor = await system.browser("auditor")
    assert (await auditor.get(f"/files/attachments/{attachment}")).status_code == 403
    signed_out = await system.client().get(f"/files/attachments/{attachment}")
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/signin?")


async def test_a_letter_keeps_the_names_it_was_sent_under_after_a_rename_and_a_retirement(system):
    letter = await system.send("ops.clerk", ["td", "excise"], "ขอเชิญประชุม")
    for clerk in ("td.clerk", "excise.clerk"):
        item = await system.arrived(clerk, letter["id"])
        received = await system.client().post(
            f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=await system.api(clerk)
        )
        assert received.status_code == 200
    client, admin = system.client(), await system.api("admin")
    units = (await client.get("/api/v1/admin/directory/export", headers=admin)).json()["units"]
    for unit in units:
        if unit["key"] == "td":
            unit["name"] = "กรมธนารักษ์และที่ราชพัสดุ"
    kept = [u for u in units if not u["key"].startswith("excise")]
    changed = await client.post("/api/v1/admin/directory/import?dry_run=false", headers=admin, json={"units": kept})
    assert changed.status_code == 200, changed.text
    assert sorted(changed.json()["retired"]) == ["excise", "excise.legal", "excise.secretariat"]
    page = await (await system.browser("ops.clerk")).get(f"/letters/{letter['id']}")
    assert page.status_code == 200
    assert "กรมธนารักษ์" in page.text and "กรมธนารักษ์และที่ราชพัสดุ" not in page.text
    assert "กรมสรรพสามิต" in page.text
