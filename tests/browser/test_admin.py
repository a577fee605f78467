"""An administrator in Chromium: the unit tree, a directory CSV imported (preview first, then applied) that adds
a division, a person created in that division as its clerk (the unit chosen with the picker), a one-time
sign-in link issued and copied, another person disabled behind a confirmation, and the people list's filters
showing both."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import pick, shoot, token

DIVISION = ("cgd.digital", "กองระบบการเงินดิจิทัล", "กค 0409")


def test_an_admin_imports_a_division_and_staffs_it(open_as, api, tmp_path):
    page = open_as("admin")
    expect(page).to_have_url(re.compile(r"/admin/people$"))
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="บุคลากร")).to_have_attribute("aria-current", "page")

    # The unit tree: departments open, divisions and sections folded until asked for.
    nav.get_by_role("link", name="ผังหน่วยงาน").click()
    tree = page.locator("#unit-tree")
    expect(tree.locator("li[data-key='cgd'] > details")).to_have_attribute("open", "")
    budget = tree.locator("li[data-key='cgd.budget'] > details")
    expect(budget.locator("li[data-key='cgd.budget.control']")).to_be_hidden()
    budget.locator("> summary").click()
    expect(budget.locator("li[data-key='cgd.budget.control']")).to_be_visible()
    shoot(page, "admin-units")

    # A directory file with one division more: previewed, then applied.
    export = api.get("/admin/directory/export", params={"format": "csv"}, headers=token(api, "admin"))
    key, name, code = DIVISION
    directory = tmp_path / "directory.csv"
    directory.write_bytes(export.content + f"{key},{name},Digital Finance Division,{code},,กอง,cgd,ใช่,,\n".encode())
    page.get_by_role("link", name="นำเข้าทะเบียนหน่วยงาน").click()
    page.set_input_files("#import-file", str(directory))
    page.get_by_role("button", name="ตรวจสอบไฟล์ (ยังไม่นำเข้า)").click()
    expect(page.locator("#count-added")).to_have_text("1")
    expect(page.locator("#count-retired")).to_have_text("0")
    expect(page.locator("#import-added")).to_contain_text(name)
    shoot(page, "admin-import-preview")
    page.get_by_role("button", name="ยืนยันนำเข้าตามที่แสดง").click()
    expect(page.locator("#import-plan")).to_have_attribute("data-applied", "true")
    page.goto("/admin/units?q=" + code)
    expect(page.locator(f"li[data-key='{key}']")).to_be_visible()

    # A person in the new division, as its clerk; the unit chosen by its letter code.
    page.goto("/admin/people")
    page.get_by_role("link", name="เพิ่มผู้ใช้").click()
    page.fill("#username", "digital.clerk")
    page.fill("#display_name", "นายทดสอบ ดิจิทัล")
    pick(page.locator("#person-unit-picker"), code, key)
    page.fill("#position", "เจ้าพนักงานธุรการ")
    page.get_by_label("เจ้าหน้าที่สารบรรณ").check()
    page.get_by_role("button", name="เพิ่มผู้ใช้").click()
    expect(page.locator("#person-notice")).to_contain_text("เพิ่มผู้ใช้ นายทดสอบ ดิจิทัล แล้ว")
    expect(page.locator("#person-form")).to_contain_text(name)

    # A one-time link, shown once with its expiry in the Buddhist era, copied with the button.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="ออกลิงก์เข้าสู่ระบบ").click()
    expect(page.locator("#link-url")).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/auth/link/[\w-]{20,}$"))
    expect(page.locator("#link-expires")).to_have_text(re.compile(r"ใช้ได้ถึง \d{1,2} \S+ 25\d\d \d\d:\d\d น\."))
    page.get_by_role("button", name="คัดลอกลิงก์").click()
    expect(page.locator(".copy-result")).to_have_text("คัดลอกลิงก์แล้ว")
    assert page.evaluate("navigator.clipboard.readText()") == page.locator("#link-url").input_value()
    shoot(page, "admin-sign-in-link")
    newcomer = page.context.browser.new_context(locale="th-TH")
    arriving = newcomer.new_page()
    arriving.goto(page.locator("#link-url").input_value())
    arriving.get_by_role("button", name="เข้าสู่ระบบ").click()
    expect(arriving).to_have_url(re.compile(r"/account/password$"))
    newcomer.close()

    # Another person disabled, only once the confirmation is ticked.
    page.goto("/admin/people/td.clerk")
    page.locator("#access summary").click()  # the disclosure: ระงับการใช้งาน
    page.locator("#active-confirm").check()
    page.locator("#active-submit").click()
    expect(page.locator("#person-notice")).to_contain_text("ระงับการใช้งานแล้ว")
    expect(page.locator("#person-state")).to_have_text("บัญชีนี้ถูกระงับการใช้งาน")

    # The list's filters: who is disabled; who is a clerk of the new division.
    page.goto("/admin/people")
    page.select_option("#active", "false")
    page.get_by_role("button", name="ค้นหาผู้ใช้").click()
    expect(page.locator("#people tbody tr")).to_have_count(1)
    expect(page.locator("#people tbody tr[data-username='td.clerk']")).to_contain_text("ระงับการใช้งาน")
    page.select_option("#active", "")
    page.select_option("#role", "clerk")
    page.select_option("#org", key)
    page.get_by_role("button", name="ค้นหาผู้ใช้").click()
    expect(page.locator("#people tbody tr")).to_have_count(1)
    expect(page.locator("#people tbody tr[data-username='digital.clerk']")).to_contain_text("นายทดสอบ ดิจิทัล")
    shoot(page, "admin-people")

    refused = api.post("/auth/token", data={"username": "td.clerk", "password": "sarabun-demo"})
    assert refused.status_code == 401
