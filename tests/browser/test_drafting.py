"""From draft to a signed letter in a real browser, as the issue's Done-when walks it: an officer of กองงบประมาณ
drafts with the preview of the official layout beside the form; the section head endorses; the director returns
it with a reason; the officer edits it (version 2) and proposes it again; the head and the director endorse it;
the deputy director-general, holding the director-general's delegation, signs it from the signing queue together
with another letter (ปฏิบัติราชการแทน shown); the registry dispatches it; กรมสรรพากร's clerk sees the signature
valid and registers it. And without JavaScript the drafting form still saves."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from shared import thai
from tests.browser.conftest import pick, shoot, token
from tests.browser.test_scenario import until
from tests.browser.test_workflows import inbox_row

SUBJECT = "ขอส่งรายงานผลการเบิกจ่ายงบประมาณ ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2570"
REASON = "ขอให้แนบตารางสรุปการเบิกจ่ายแยกตามหน่วยงาน และแก้ย่อหน้าที่สองให้กระชับ"
HEAD = "นายสมศักดิ์ ตั้งใจ (cgd.head)"
DIRECTOR = "นางวันดี มีสุข (cgd.director)"
DG = "นายประเสริฐ การคลัง (cgd.dg)"


def be(day) -> str:
    return f"{day.day}/{day.month}/{day.year + thai.BE_OFFSET}"


def draft_id_of(page) -> str:
    return page.url.split("/drafts/")[1].split("?")[0].split("/")[0]


def another_letter_awaiting_the_dg(api, rd_id: str) -> str:
    """A second letter for the signing queue, drafted and proposed through the API with no reviewers."""
    officer = token(api, "cgd.officer")
    body = {
        "type": "external",
        "subject": "ขอแจ้งกำหนดการตรวจสอบการเบิกจ่ายเงินกองทุน",
        "body": "ด้วยกรมบัญชีกลางกำหนดตรวจสอบการเบิกจ่ายเงินกองทุนในเดือนมกราคม จึงเรียนมาเพื่อโปรดทราบ",
        "recipient_org_ids": [rd_id],
        "reviewers": [],
        "signer": "cgd.dg",
    }
    created = api.post("/drafts", headers=officer, json=body)
    assert created.status_code == 201, created.text
    proposed = api.post(f"/drafts/{created.json()['id']}/propose", headers=officer)
    assert proposed.status_code == 200, proposed.text
    return created.json()["id"]


def endorse(page, draft_id: str) -> None:
    page.goto("/drafts?box=to_review")
    page.locator(f"#row-{draft_id} .draft-link").click()
    page.locator("#endorse").click()
    expect(page.locator("#notice")).to_contain_text("เห็นชอบแล้ว")


def test_a_draft_goes_up_the_line_is_signed_by_a_delegate_dispatched_and_arrives_with_a_valid_signature(open_as, api):
    clerk_api = token(api, "ops.clerk")
    rd_id = next(o["id"] for o in api.get("/orgs", headers=clerk_api).json() if o["key"] == "rd")

    # The director-general delegates his signature to his deputy for a week; a Gregorian year is refused
    dg = open_as("cgd.dg")
    dg.goto("/delegations")
    dg.fill("#to_person", "รัตนา")  # a fragment of one person's name is enough
    dg.fill("#valid_to", f"{thai.today().day}/{thai.today().month}/{thai.today().year}")
    dg.locator("#add-delegation").click()
    expect(dg.locator("#valid_to-error")).to_contain_text("ปีพุทธศักราช")
    dg.fill("#valid_to", be(thai.today() + timedelta(days=7)))
    dg.locator("#add-delegation").click()
    expect(dg.locator("#notice")).to_have_text("บันทึกการมอบอำนาจแล้ว")
    given = dg.locator("#delegations tbody tr").first
    expect(given).to_contain_text("นางสาวรัตนา ยุติธรรม")
    expect(given).to_contain_text("ปฏิบัติราชการแทน")
    expect(given).to_contain_text("มีผลอยู่")

    # The officer drafts with the official layout previewed beside the form, then saves and proposes
    officer = open_as("cgd.officer")
    officer.goto("/drafts")
    officer.locator("#new-draft").click()
    expect(officer.locator("#doc_no")).to_have_value("")
    officer.select_option("#type", "external")
    officer.fill("#subject", SUBJECT)
    officer.fill("#to_text", "อธิบดีกรมสรรพากร")
    officer.fill("#enclosures", "รายงานผลการเบิกจ่าย จำนวน 1 ชุด")
    officer.fill("#body", "ด้วยกรมบัญชีกลางได้สรุปผลการเบิกจ่ายงบประมาณไตรมาสที่ 1 แล้ว จึงขอส่งรายงานมาเพื่อโปรดทราบ")
    pick(officer.locator("#recipients-picker"), "สรรพากร", "rd")
    officer.fill("#reviewer-1", HEAD)
    officer.locator("#add-reviewer").click()
    expect(officer.locator("#reviewer-2")).to_be_focused()
    officer.fill("#reviewer-2", DIRECTOR)
    with officer.expect_response(lambda r: r.url.endswith("/drafts/preview") and r.status == 200) as previewed:
        officer.fill("#signer", DG)
    assert previewed.value.headers["content-type"] == "application/pdf"
    assert "frame-ancestors 'self'" in previewed.value.headers["content-security-policy"]
    expect(officer.locator("#preview-status")).to_have_text("ตัวอย่างตรงกับที่พิมพ์แล้ว")
    officer.evaluate("window.scrollTo(0, 0)")
    officer.wait_for_timeout(1500)  # the PDF viewer paints its page a moment after the frame has loaded
    shoot(officer, "drafting", full_page=False)
    officer.locator("#save-propose").click()
    expect(officer.locator("#notice")).to_have_text("เสนอแล้ว")
    expect(officer.locator("#draft-status")).to_have_text("อยู่ระหว่างเสนอ")
    expect(officer.locator("#draft-current")).to_contain_text("นายสมศักดิ์ ตั้งใจ")
    draft_id = draft_id_of(officer)

    # The head endorses; the director returns it with a reason
    head = open_as("cgd.head")
    endorse(head, draft_id)
    director = open_as("cgd.director")
    director.goto(f"/drafts/{draft_id}")
    expect(director.locator("#line li[data-username='cgd.head']")).to_contain_text("เห็นชอบแล้ว")
    director.locator("#return summary").click()
    director.fill("#return-reason", REASON)
    director.locator("#return button[type=submit]").click()
    expect(director.locator("#draft-status")).to_have_text("คืนแก้ไข")

    # The officer reads why, edits (version 2) and proposes again; version 1 stays viewable
    officer.goto(f"/drafts/{draft_id}")
    expect(officer.locator("#history .step-returned")).to_contain_text(REASON)
    expect(officer.locator("#history .step-returned")).to_contain_text("นางวันดี มีสุข")
    officer.locator("#edit").click()
    officer.fill("#enclosures", "1. รายงานผลการเบิกจ่าย\n2. ตารางสรุปการเบิกจ่ายแยกตามหน่วยงาน")
    officer.fill("#body", "กรมบัญชีกลางขอส่งรายงานผลการเบิกจ่ายงบประมาณไตรมาสที่ 1 พร้อมตารางสรุปแยกตามหน่วยงาน")
    officer.locator("#save-propose").click()
    expect(officer.locator("#draft-status")).to_have_text("อยู่ระหว่างเสนอ")
    expect(officer.locator("#draft-version")).to_have_text("ฉบับที่ 2")
    officer.locator("#versions a", has_text="ฉบับที่ 1").click()
    expect(officer.locator("#older-version")).to_contain_text("ฉบับที่ 1")

    # Both endorse version 2: it waits for the director-general's signature
    endorse(head, draft_id)
    endorse(director, draft_id)
    expect(director.locator("#draft-status")).to_have_text("รอลงนาม")

    # The deputy signs it from her queue, with another letter, under the delegation
    second_id = another_letter_awaiting_the_dg(api, rd_id)
    deputy = open_as("cgd.deputy")
    deputy.goto("/drafts?box=to_sign")
    row = deputy.locator(f"#row-{draft_id}")
    expect(row).to_contain_text("ปฏิบัติราชการแทน อธิบดีกรมบัญชีกลาง")
    row.get_by_role("checkbox").check()
    deputy.locator(f"#row-{second_id}").get_by_role("checkbox").check()
    shoot(deputy, "sign-queue")
    deputy.locator("#sign-chosen").click()
    expect(deputy.locator("#notice")).to_have_text("ลงนามแล้ว 2 ฉบับ")
    expect(deputy.locator("#empty")).to_be_visible()
    deputy.goto(f"/drafts/{draft_id}")
    expect(deputy.locator("#draft-status")).to_have_text("ลงนามแล้ว รอส่ง")
    expect(deputy.locator("#on-behalf")).to_have_text("ปฏิบัติราชการแทน อธิบดีกรมบัญชีกลาง")
    deputy.wait_for_timeout(1500)  # the signed PDF painted in its frame
    shoot(deputy, "draft-signed", full_page=False)
    doc_no = deputy.locator("#draft-doc-no strong").inner_text()
    assert doc_no.startswith("กค")

    # The registry dispatches it
    registry = open_as("cgd.clerk")
    registry.goto("/drafts?box=to_dispatch")
    registry.locator(f"#row-{draft_id} .draft-link").click()
    registry.locator("#dispatch").click()
    expect(registry.locator("#notice")).to_contain_text(f"ส่งหนังสือแล้ว เลขที่ {doc_no}")

    # กรมสรรพากร's clerk sees the signature valid before registering it
    rd = open_as("rd.clerk")
    arrived = inbox_row(rd, doc_no)
    until(lambda: rd.reload() or arrived.locator(".signature-status").count() == 1)
    expect(arrived.locator(".signature-status")).to_have_attribute("data-valid", "true")
    expect(arrived.locator(".signature-status")).to_contain_text("ลายมือชื่ออิเล็กทรอนิกส์ถูกต้อง")
    arrived.get_by_role("button", name="ลงรับหนังสือ").click()
    expect(arrived.locator(".action-result")).to_have_text("ลงรับแล้ว เลขรับ 1")
    arrived.locator(".doc-no").click()
    expect(rd.locator("#signatures .valid")).to_contain_text("ลายมือชื่ออิเล็กทรอนิกส์ถูกต้อง")
    expect(rd.locator("#signatures .valid")).to_contain_text("รัตนา")


def test_without_javascript_the_drafting_form_saves_with_recipients_and_people_typed_by_name(open_as):
    officer = open_as("cgd.officer", script=False)
    officer.goto("/drafts/new")
    officer.fill("#subject", "ขอความอนุเคราะห์ข้อมูลการจัดเก็บภาษี")
    officer.fill("#body", "กรมบัญชีกลางขอความอนุเคราะห์ข้อมูลการจัดเก็บภาษีประจำปี เพื่อประกอบการจัดทำรายงาน")
    officer.fill("#recipients-text", "กรมสรรพากร")
    officer.fill("#reviewer-1", "สมศักดิ์")
    officer.fill("#signer", "นายประเสริฐ การคลัง")
    officer.locator("#send").click()
    expect(officer.locator("#notice")).to_have_text("บันทึกร่างแล้ว")
    expect(officer.locator("#draft-status")).to_have_text("ร่าง")
    expect(officer.locator("#line li[data-username='cgd.head']")).to_be_visible()
    expect(officer.locator("#line li[data-username='cgd.dg']")).to_contain_text("อธิบดีกรมบัญชีกลาง")
