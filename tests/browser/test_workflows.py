"""The rest of a clerk's day in a real browser: finding a letter by part of a Thai word, registering it and
forwarding it to another department, which registers it in its own book; returning a misrouted letter with a
reason; and, as the sender, copies (สำเนาส่ง), recalling a letter from one recipient and cancelling it, each
behind a confirmation."""

from __future__ import annotations

from fpdf import FPDF
from playwright.sync_api import expect

from tests.browser.conftest import pick, shoot, token
from tests.browser.test_scenario import org_ids, send_plain, until


def pdf_of(pages: int) -> bytes:
    document = FPDF(unit="pt", format="A4")
    document.set_font("Helvetica", size=14)
    for number in range(1, pages + 1):
        document.add_page()
        document.text(72, 120, f"Tax audit report, page {number}")
    return bytes(document.output())


def send_with_pdf(api, headers, to: str, subject: str, name: str, pages: int) -> dict:
    upload = api.post("/attachments", headers=headers, files={"file": (name, pdf_of(pages), "application/pdf")})
    assert upload.status_code == 201, upload.text
    body = {"type": "external", "subject": subject, "recipient_org_ids": [to], "attachment_ids": [upload.json()["id"]]}
    response = api.post("/letters", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def inbox_row(page, doc_no: str):
    """The inbox row of a letter, once it has arrived (delivery is asynchronous)."""
    row = page.locator("#inbox tbody tr").filter(has=page.locator(".doc-no", has_text=doc_no))
    until(lambda: page.reload() or row.count() == 1)
    return row


def test_a_letter_found_by_a_thai_fragment_is_registered_and_forwarded_to_a_department_that_registers_it(open_as, api):
    ops_api = token(api, "ops.clerk")
    orgs = org_ids(api, ops_api)
    send_plain(api, ops_api, orgs["cgd"], "ขอเชิญประชุมคณะกรรมการบริหารความเสี่ยง")
    letter = send_with_pdf(
        api, ops_api, orgs["cgd"], "ขอส่งรายงานการตรวจสอบภาษีสรรพสามิต ประจำปี 2569", "รายงานการตรวจสอบ.pdf", 5
    )

    # cgd finds it by the middle of a Thai word: no spaces separate the words to search by
    cgd = open_as("cgd.clerk")
    inbox_row(cgd, letter["doc_no"])
    cgd.fill("#q", "ตรวจสอบภาษีสรรพ")
    cgd.get_by_role("button", name="ค้นหาหนังสือ").click()
    expect(cgd.locator("#inbox tbody tr")).to_have_count(1)
    expect(cgd.locator("#inbox .subject")).to_have_text(letter["subject"])
    expect(cgd.locator(".result-count")).to_have_text("พบ 1 รายการ")
    shoot(cgd, "inbox-search")

    # registers it in place, then forwards it from the letter page
    row = cgd.locator("#inbox tbody tr").first
    row.get_by_role("button", name="ลงรับหนังสือ").click()
    expect(row.locator(".action-result")).to_have_text("ลงรับแล้ว เลขรับ 1")
    row.locator(".doc-no").click()
    expect(cgd.locator("#attachments")).to_contain_text("รายงานการตรวจสอบ.pdf")
    expect(cgd.locator("#attachments .pages")).to_have_text("5 หน้า")
    mine = cgd.locator("section[aria-labelledby=mine-heading]")
    mine.get_by_text("ส่งต่อหรือคืนเรื่อง").click()
    pick(mine.locator("[data-picker]"), "สรรพสามิต", "excise")
    mine.get_by_label("หมายเหตุ").fill("เพื่อโปรดพิจารณาดำเนินการในส่วนที่เกี่ยวข้อง")
    shoot(cgd, "forward")
    mine.get_by_role("button", name="ส่งต่อหนังสือ").click()
    expect(mine.locator(".action-result")).to_have_text("ส่งต่อแล้ว")
    expect(mine.locator(".status-cell")).to_contain_text("ส่งต่อแล้ว")

    # กรมสรรพสามิต sees the same letter and number in its inbox and registers it in its own receive register
    excise = open_as("excise.clerk")
    forwarded = inbox_row(excise, letter["doc_no"])
    forwarded.get_by_role("button", name="ลงรับหนังสือ").click()
    expect(forwarded.locator(".action-result")).to_have_text("ลงรับแล้ว เลขรับ 1")
    excise.goto("/registers/receive")
    expect(excise.locator("#register tbody tr").first).to_contain_text(letter["doc_no"])
    excise.goto(f"/letters/{letter['id']}")
    with excise.expect_download() as download:
        excise.locator("#attachments .attachment-link").click()
    assert download.value.suggested_filename == "รายงานการตรวจสอบ.pdf"
    assert download.value.path().read_bytes().startswith(b"%PDF-")


def test_a_misrouted_letter_is_returned_with_a_reason_the_sender_sees(open_as, api):
    ops_api = token(api, "ops.clerk")
    letter = send_plain(api, ops_api, org_ids(api, ops_api)["rd"], "ขอข้อมูลการจัดเก็บค่าธรรมเนียมศุลกากร")

    rd = open_as("rd.clerk")
    row = inbox_row(rd, letter["doc_no"])
    row.get_by_text("คืนเรื่องหรือปฏิเสธ").click()
    row.get_by_label("เหตุผล (คืนเรื่องให้ผู้ส่ง)").fill("เป็นภารกิจของกรมศุลกากร ไม่ใช่กรมสรรพากร")
    shoot(rd, "return")
    row.get_by_role("button", name="คืนเรื่องให้ผู้ส่ง").click()
    expect(row.locator(".action-result")).to_have_text("คืนเรื่องแล้ว")
    expect(row.locator(".status-cell")).to_contain_text("คืนเรื่องแล้ว")

    ops = open_as("ops.clerk")
    ops.goto(f"/letters/{letter['id']}")
    returned = ops.locator("#recipients tr[data-status=returned]")
    expect(returned).to_contain_text("กรมสรรพากร")
    expect(returned).to_contain_text("เป็นภารกิจของกรมศุลกากร ไม่ใช่กรมสรรพากร")


def test_the_sender_sends_a_copy_recalls_it_from_one_recipient_and_cancels_the_letter_after_confirming(open_as, api):
    ops = open_as("ops.clerk")
    ops.goto("/compose")
    expect(ops.locator("#hint")).to_contain_text("เลือกผู้รับ")
    ops.fill("#subject", "ขอความร่วมมือตรวจสอบบัญชีทรัพย์สินราชพัสดุ")
    pick(ops.locator("#recipients-picker"), "ธนารักษ์", "td")
    pick(ops.locator("#cc-picker"), "ศุลกากร", "customs")
    shoot(ops, "compose-cc")
    ops.click("#send")
    expect(ops.locator("#notice")).to_contain_text("ส่งหนังสือแล้ว เลขที่")
    expect(ops.locator("#cc")).to_have_text("กรมศุลกากร")
    until(lambda: ops.reload() or ops.locator("#recipients tr[data-status=delivered]").count() == 2)

    # ดึงคืน from กรมศุลกากร: nothing happens until the confirmation is ticked
    customs = ops.locator("#recipients tr").filter(has_text="กรมศุลกากร")
    customs.get_by_text("เรียกคืน", exact=True).click()
    recall = customs.get_by_role("button", name="เรียกคืนหนังสือจากกรมศุลกากร")
    confirm = customs.get_by_label("ยืนยันการเรียกคืนหนังสือจากกรมศุลกากร")
    recall.click()
    expect(confirm).to_be_focused()  # the browser held the form back and points at what is missing
    confirm.check()
    shoot(ops, "recall")
    recall.click()
    expect(ops.locator(".notice")).to_have_text("เรียกคืนหนังสือแล้ว")
    expect(ops.locator("#recipients tr").filter(has_text="กรมศุลกากร")).to_have_attribute("data-status", "recalled")

    # ยกเลิก: the number stays, marked cancelled; the recipient no longer has a letter to register
    ops.get_by_text("ยกเลิกหนังสือฉบับนี้").click()
    ops.fill("#cancel-reason-input", "ส่งก่อนได้รับอนุมัติ")
    ops.check("#cancel-confirm")
    shoot(ops, "cancel")
    ops.get_by_role("button", name="ยกเลิกหนังสือ", exact=True).click()
    expect(ops.locator("#cancelled")).to_have_text("ยกเลิก")
    expect(ops.locator("#cancel-reason")).to_contain_text("ส่งก่อนได้รับอนุมัติ")
    td_api = token(api, "td.clerk")
    letter_id = ops.url.split("/letters/")[1].split("?")[0]
    items = api.get("/inbox", headers=td_api).json()["items"]
    assert [i["status"] for i in items if i["letter_id"] == letter_id] == ["recalled"]
