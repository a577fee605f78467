"""The issue's scenario in a real browser: ops.clerk sends a ด่วนมาก circular with a PDF to two departments;
cgd.clerk finds it at the top of the inbox, registers it and downloads the stamped copy; ops.clerk sees one
recipient registered and one pending; the auditor opens the timeline and the browser verifies it."""

from __future__ import annotations

import time

from fpdf import FPDF
from playwright.sync_api import expect

from tests.browser.conftest import pick, shoot, token

SUBJECT = "ขอเชิญประชุมคณะทำงานจัดทำงบประมาณ พ.ศ. 2570"


def one_page_pdf() -> bytes:
    document = FPDF(unit="pt", format="A4")
    document.add_page()
    document.set_font("Helvetica", size=16)
    document.text(72, 120, "Invitation to the budget working group")
    return bytes(document.output())


def org_ids(api, headers) -> dict[str, str]:
    return {org["key"]: org["id"] for org in api.get("/orgs", headers=headers).json()}


def send_plain(api, headers, to: str, subject: str) -> dict:
    """A normal-urgency letter sent through the API, so the inbox has something to order against."""
    body = {"type": "external", "subject": subject, "recipient_org_ids": [to], "urgency": "normal"}
    response = api.post("/letters", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def until(check, within: float = 15.0):
    deadline = time.monotonic() + within
    while not (result := check()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)
    return result


def test_a_circular_from_sending_to_verified_history(open_as, api, tmp_path):
    ops_api = token(api, "ops.clerk")
    cgd_id = org_ids(api, ops_api)["cgd"]
    send_plain(api, ops_api, cgd_id, "แจ้งกำหนดส่งรายงานประจำเดือน")
    pdf = tmp_path / "หนังสือเชิญประชุม.pdf"
    pdf.write_bytes(one_page_pdf())

    # ops.clerk composes and sends the circular
    ops = open_as("ops.clerk")
    ops.goto("/compose")
    ops.select_option("#type", "external")
    ops.fill("#subject", SUBJECT)
    ops.fill("#to_text", "อธิบดีกรมบัญชีกลาง และอธิบดีกรมสรรพากร")
    ops.fill("#body", "ด้วยกระทรวงการคลังจะจัดประชุมคณะทำงานจัดทำงบประมาณ จึงขอเชิญผู้แทนหน่วยงานเข้าร่วมประชุม")
    ops.fill("#signer_name", "นายสมชาย ใจดี")
    ops.fill("#signer_position", "ปลัดกระทรวงการคลัง")
    pick(ops.locator("#recipients-picker"), "บัญชีกลาง", "cgd")
    pick(ops.locator("#recipients-picker"), "กค 0700", "rd")
    ops.check("#circular")
    ops.check("input[name=urgency][value=very_urgent]")
    ops.set_input_files("#files", str(pdf))
    expect(ops.locator("#uploads .done")).to_have_count(1)
    shoot(ops, "compose")
    ops.click("#send")
    expect(ops.locator("#notice")).to_contain_text("ส่งหนังสือแล้ว เลขที่ กค 0200/ว 1")
    expect(ops.locator("#doc-no")).to_have_text("กค 0200/ว 1")
    letter_id = ops.url.split("/letters/")[1].split("?")[0]
    send_plain(api, ops_api, cgd_id, "ขอความอนุเคราะห์ข้อมูลสถิติ")

    # cgd.clerk: at the top of the inbox, marked ด่วนมาก; ลงรับ in place shows the receive number at once
    cgd = open_as("cgd.clerk")
    until(lambda: cgd.reload() or cgd.locator("#inbox tbody tr").count() == 3)
    top = cgd.locator("#inbox tbody tr").first
    expect(top.locator(".doc-no")).to_have_text("กค 0200/ว 1")
    expect(top.locator(".urgency")).to_have_text("ด่วนมาก")
    expect(top.locator(".urgency")).to_have_css("color", "rgb(179, 18, 31)")
    shoot(cgd, "inbox")
    cgd.set_viewport_size({"width": 820, "height": 1180})  # a tablet held upright
    shoot(cgd, "inbox-tablet")
    cgd.set_viewport_size({"width": 1366, "height": 900})
    top.get_by_role("button", name="ลงรับ").click()
    expect(top.locator(".action-result")).to_have_text("ลงรับแล้ว เลขรับ 1")
    expect(top.locator(".status-cell")).to_contain_text("ลงรับแล้ว")

    # the letter page: the stamped copy downloads, an annotation is added
    cgd.goto(f"/letters/{letter_id}")
    stamped = cgd.locator("#stamped-link")
    until(lambda: cgd.context.request.get(stamped.get_attribute("href")).status == 200)
    with cgd.expect_download() as download:
        stamped.click()
    assert download.value.path().read_bytes().startswith(b"%PDF-")
    cgd.fill("#annotation-text", "เรียน ผอ.กอง เพื่อโปรดพิจารณามอบผู้แทนเข้าร่วมประชุม")
    cgd.select_option("#decision", "act")
    cgd.fill("#position", "หัวหน้าฝ่ายสารบรรณ")
    cgd.get_by_role("button", name="บันทึกเกษียน").click()
    expect(cgd.locator(".annotations li")).to_have_count(1)
    until(lambda: cgd.reload() or cgd.locator(".timeline .receive-no").count() == 1)
    shoot(cgd, "letter")
    cgd.goto("/registers/receive")
    expect(cgd.locator("#register tbody tr").first).to_contain_text("กค 0200/ว 1")
    shoot(cgd, "register")
    cgd.emulate_media(media="print")  # the printed register: the paper book, without the screen around it
    expect(cgd.locator(".masthead")).to_be_hidden()
    shoot(cgd, "register-print")
    cgd.emulate_media(media="screen")

    # ops.clerk: one recipient registered, one pending
    ops.goto(f"/letters/{letter_id}")
    expect(ops.locator("#registered-summary")).to_have_text("ลงรับแล้ว 1 จาก 2 หน่วยงาน")
    expect(ops.locator("#recipients tr[data-status=received]")).to_have_count(1)
    expect(ops.locator("#recipients tr[data-status=delivered]")).to_have_count(1)
    ops.goto("/follow-up")
    expect(ops.locator("#circulars")).to_contain_text("กรมสรรพากร")
    shoot(ops, "follow-up")

    # the auditor: the agency's events, the letter's timeline, and a verification done in the browser
    auditor = open_as("auditor")
    auditor.select_option("#org", label="กรมบัญชีกลาง")
    auditor.click("form[role=search] button[type=submit]")
    expect(auditor.locator("#events")).to_contain_text("กค 0200/ว 1")
    shoot(auditor, "audit")
    auditor.fill("#letter", letter_id)
    auditor.get_by_role("button", name="เปิดประวัติ").click()
    expect(auditor.locator("#history")).to_contain_text("ลงรับ")
    auditor.click("#verify")
    result = auditor.locator("#verify-result [data-result]")
    expect(result).to_have_attribute("data-result", "pass", timeout=20_000)
    expect(result).to_contain_text("ผ่านการตรวจสอบ")
    shoot(auditor, "audit-verify")
