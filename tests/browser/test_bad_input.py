"""What people get wrong, in a real browser: a double-clicked send, a session that ran out, a form with a
mistake in it, and files the system will not take."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import pick, shoot, token


@pytest.mark.parametrize("script", [True, False], ids=["with-script", "without-script"])
def test_a_double_clicked_send_makes_one_letter(open_as, api, script):
    """With the script the button is held after the first press; without it both presses reach the server,
    which answers the second with the same letter (one Idempotency-Key per drawn form)."""
    subject = f"ทดสอบกดส่งสองครั้ง {'ก' if script else 'ข'}"
    ops = open_as("ops.clerk", script=script)
    ops.goto("/compose")
    ops.fill("#subject", subject)
    if script:
        pick(ops.locator("#recipients-picker"), "ธนารักษ์", "td")
    else:  # the picker is the script's; without it the recipient is typed by name
        ops.fill("#recipients-text", "กรมธนารักษ์")
    ops.dblclick("#send")
    expect(ops.locator("#notice")).to_contain_text("ส่งหนังสือแล้ว เลขที่")
    sent = api.get("/outbox", params={"q": subject}, headers=token(api, "ops.clerk")).json()["items"]
    assert len(sent) == 1


def test_a_cleared_or_expired_session_signs_in_again_and_returns(open_as, server):
    cgd = open_as("cgd.clerk")
    cgd.goto("/registers/receive?year=2569")
    cgd.context.clear_cookies()
    cgd.goto("/follow-up")
    expect(cgd).to_have_url(f"{server}/signin?next=%2Ffollow-up&expired=1")
    expect(cgd.locator(".notice")).to_contain_text("กรุณาเข้าสู่ระบบอีกครั้ง")
    shoot(cgd, "signin")
    cgd.fill("#username", "cgd.clerk")
    cgd.fill("#password", "sarabun-demo")
    cgd.click("button[type=submit]")
    expect(cgd).to_have_url(f"{server}/follow-up")

    # a token the API no longer accepts counts as no session at all
    cgd.context.add_cookies([{"name": "sarabun_session", "value": "expired.token.value", "url": server}])
    cgd.goto("/outbox?q=abc")
    expect(cgd).to_have_url(f"{server}/signin?next=%2Foutbox%3Fq%3Dabc&expired=1")


def test_a_refused_letter_keeps_everything_typed_and_says_why_in_thai(open_as):
    ops = open_as("ops.clerk")
    ops.goto("/compose")
    ops.fill("#subject", "เรื่องที่ยังไม่ได้เลือกผู้รับ")
    ops.fill("#body", "ข้อความยาว ๆ ที่พิมพ์ไว้แล้วต้องไม่หายไป")
    ops.fill("#references", "กค 0400/123")
    ops.check("input[name=urgency][value=most_urgent]")
    ops.click("#send")
    expect(ops.locator("#recipients-error")).to_be_visible()
    expect(ops.locator("#recipients-error")).to_contain_text("ผู้รับ")
    expect(ops.locator("#error-summary")).to_be_focused()
    expect(ops.locator("#subject")).to_have_value("เรื่องที่ยังไม่ได้เลือกผู้รับ")
    expect(ops.locator("#body")).to_have_value("ข้อความยาว ๆ ที่พิมพ์ไว้แล้วต้องไม่หายไป")
    expect(ops.locator("#references")).to_have_value("กค 0400/123")
    expect(ops.locator("input[name=urgency][value=most_urgent]")).to_be_checked()
    shoot(ops, "compose-error")

    # ลับที่สุด never travels electronically: the API's reason appears next to the field
    pick(ops.locator("#recipients-picker"), "สรรพากร", "rd")
    ops.select_option("#secrecy", "top_secret")
    ops.click("#send")
    expect(ops.locator("#secrecy-error")).to_contain_text("ลับที่สุด")
    expect(ops.locator("#recipients-picker .chip[data-key=rd]")).to_be_visible()  # still chosen


def test_files_the_system_refuses_are_named_before_and_after_upload(open_as, tmp_path):
    ops = open_as("ops.clerk")
    ops.goto("/compose")
    program = tmp_path / "setup.exe"
    program.write_bytes(b"MZ" + bytes(100))
    ops.set_input_files("#files", str(program))
    expect(ops.locator("#upload-message")).to_contain_text("ไม่รับไฟล์ชนิดนี้: setup.exe")
    expect(ops.locator("#uploads li")).to_have_count(0)  # refused in the browser, nothing was sent

    disguised = tmp_path / "รายงาน.pdf"
    disguised.write_bytes(b"#!/bin/sh\necho this is not a PDF\n")
    ops.set_input_files("#files", str(disguised))
    expect(ops.locator("#uploads .failed")).to_be_visible()  # the API checks the bytes, and says so
    expect(ops.locator("#upload-message")).not_to_be_empty()
