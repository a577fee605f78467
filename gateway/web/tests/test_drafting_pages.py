"""The drafting pages without a browser (and so without the pages' scripts): a delegation recorded with
Buddhist-era dates; a draft saved from the plain form with recipients and people typed by name; the preview
and the PDF framed by this site only; and signing several letters at once, where one refused does not stop
the others."""

from __future__ import annotations

import re
from datetime import timedelta

from gateway.web.tests.test_pages import system, text_of  # noqa: F401 (the fixture)
from gateway.web.tests.test_web import csrf_of
from shared import thai


def be(day) -> str:
    return f"{day.day}/{day.month}/{day.year + thai.BE_OFFSET}"


def plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_a_delegation_is_recorded_with_buddhist_era_dates_and_listed_in_its_capacity(system):  # noqa: F811
    dg = await system.browser("cgd.dg")
    page = await dg.get("/delegations")
    assert 'value="นายประเสริฐ การคลัง (cgd.dg)"' in page.text  # his own authority, by default
    form = {
        "csrf_token": csrf_of(page),
        "from_person": "นายประเสริฐ การคลัง (cgd.dg)",
        "to_person": "รัตนา",
        "kind": "acting",
        "valid_from": be(thai.today()),
        "valid_to": f"{thai.today().day}/{thai.today().month}/{thai.today().year}",
    }
    refused = await dg.post("/delegations", data=form)
    assert refused.status_code == 422
    assert "ปีพุทธศักราช" in text_of(refused, "valid_to-error")
    assert (await system.client().get("/api/v1/delegations", headers=await system.api("cgd.dg"))).json() == {
        "items": []
    }

    form["valid_to"] = be(thai.today() + timedelta(days=3))
    saved = await dg.post("/delegations", data=form)
    assert saved.status_code == 303
    listed = plain((await dg.get(saved.headers["location"])).text)
    assert "บันทึกการมอบอำนาจแล้ว" in listed
    assert "นางสาวรัตนา ยุติธรรม รองอธิบดีกรมบัญชีกลาง รักษาราชการแทน กรมบัญชีกลาง" in listed
    assert "มีผลอยู่" in listed

    # the deputy sees it too, without a form to delegate authority she does not hold as her own
    deputy = plain((await (await system.browser("cgd.deputy")).get("/delegations")).text)
    assert "รักษาราชการแทน" in deputy


async def test_without_the_script_a_draft_saves_with_names_typed_and_its_layout_is_framed_by_this_site_only(system):  # noqa: F811
    officer = await system.browser("cgd.officer")
    page = await officer.get("/drafts/new")
    assert page.status_code == 200
    form = {
        "csrf_token": csrf_of(page),
        "type": "external",
        "subject": "ขอความอนุเคราะห์ข้อมูลการจัดเก็บภาษี",
        "salutation": "เรียน",
        "to_text": "อธิบดีกรมสรรพากร",
        "body": "กรมบัญชีกลางขอความอนุเคราะห์ข้อมูลการจัดเก็บภาษีประจำปี",
        "closing": "ขอแสดงความนับถือ",
        "urgency": "urgent",
        "secrecy": "normal",
        "recipient_text": "กรมสรรพากร",
        "reviewer": ["สมศักดิ์", ""],
        "signer": "นายประเสริฐ การคลัง",
    }
    preview = await officer.post("/drafts/preview", data=form)
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "application/pdf"
    assert preview.content.startswith(b"%PDF-")
    assert "frame-ancestors 'self'" in preview.headers["content-security-policy"]
    assert preview.headers["x-frame-options"] == "SAMEORIGIN"

    saved = await officer.post("/drafts/new", data=form)
    assert saved.status_code == 303, plain(saved.text)[:500]
    draft_page = await officer.get(saved.headers["location"])
    assert text_of(draft_page, "notice") == "บันทึกร่างแล้ว"
    assert text_of(draft_page, "draft-status") == "ร่าง"
    assert 'data-username="cgd.head"' in draft_page.text and 'data-username="cgd.dg"' in draft_page.text

    draft_id = saved.headers["location"].split("/drafts/")[1].split("?")[0]
    pdf = await officer.get(f"/drafts/{draft_id}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert "frame-ancestors 'self'" in pdf.headers["content-security-policy"]

    # someone outside the unit and the line is not shown the draft, nor its layout
    stranger = await system.browser("rd.clerk")
    assert (await stranger.get(f"/drafts/{draft_id}")).status_code == 404
    assert (await stranger.get(f"/drafts/{draft_id}/pdf")).status_code == 404


async def test_a_date_the_preview_cannot_read_is_named_inside_the_frame(system):  # noqa: F811
    officer = await system.browser("cgd.officer")
    page = await officer.get("/drafts/new")
    form = {"csrf_token": csrf_of(page), "type": "external", "subject": "ทดสอบ", "deliver_by": "2/12/2026"}
    refused = await officer.post("/drafts/preview", data=form)
    assert refused.status_code == 422
    assert "ปีพุทธศักราช" in plain(refused.text)
    assert "frame-ancestors 'self'" in refused.headers["content-security-policy"]


async def test_signing_several_letters_signs_each_it_can_and_names_the_one_refused(system):  # noqa: F811
    orgs = await system.orgs()
    client, officer = system.client(), await system.api("cgd.officer")
    ids = []
    for subject in ("ขอส่งรายงานการเงินประจำเดือน", "ขอแจ้งผลการตรวจสอบบัญชี"):
        body = {"type": "external", "subject": subject, "body": "เรียนมาเพื่อโปรดทราบ"}
        body |= {"recipient_org_ids": [orgs["rd"]], "reviewers": [], "signer": "cgd.dg"}
        created = await client.post("/api/v1/drafts", headers=officer, json=body)
        assert created.status_code == 201, created.text
        assert (await client.post(f"/api/v1/drafts/{created.json()['id']}/propose", headers=officer)).status_code == 200
        ids.append(created.json()["id"])
    # the second is signed already, through the API, before the queue's form is sent
    assert (await client.post(f"/api/v1/drafts/{ids[1]}/sign", headers=await system.api("cgd.dg"))).status_code == 200

    dg = await system.browser("cgd.dg")
    queue = await dg.get("/drafts?box=to_sign")
    assert f'id="row-{ids[0]}"' in queue.text
    form = {"csrf_token": csrf_of(queue), "draft_ids": ids, f"delegation_{ids[0]}": "", f"delegation_{ids[1]}": ""}
    answered = await dg.post("/drafts/sign", data=form)
    assert answered.status_code == 409
    assert "ลงนามแล้ว 1 ฉบับ" in plain(answered.text)
    assert f'href="#row-{ids[1]}"' in answered.text  # the refusal points at its letter
    first = (await client.get(f"/api/v1/drafts/{ids[0]}", headers=officer)).json()
    assert first["status"] == "signed" and first["doc_no"]

    nothing = await dg.post("/drafts/sign", data={"csrf_token": csrf_of(queue)})
    assert nothing.status_code == 422
