"""Secrecy (ชั้นความลับ): classified letters are listed with their level and number to everyone in scope,
but their content only to users cleared for it; every view and every refusal reaches the audit log."""

from tests.e2e.helpers import eventually, inbox_item, login, org_ids
from tests.e2e.test_bad_input import assert_problem

SUBJECT = "แผนปรับโครงสร้างหนี้รัฐวิสาหกิจ"


async def test_a_secret_letter_is_masked_for_uncleared_users_and_views_are_audited(api):
    ops, cgd, rd = await login(api, "ops.clerk"), await login(api, "cgd.clerk"), await login(api, "rd.clerk")
    orgs = await org_ids(api, ops)
    body = {
        "type": "external",
        "subject": SUBJECT,
        "body": "เนื้อความลับ",
        "secrecy": "secret",
        "recipient_org_ids": [orgs["cgd"], orgs["rd"]],
    }
    letter = (await api.post("/api/v1/letters", headers=ops, json=body)).json()

    rd_item = await eventually(lambda: inbox_item(api, rd, letter["id"]))
    assert (rd_item["secrecy"], rd_item["doc_no"]) == ("secret", letter["doc_no"])
    assert rd_item["subject"] == "[หนังสือลับมาก]"  # rd.clerk holds clearance "normal"
    assert_problem(await api.get(f"/api/v1/letters/{letter['id']}", headers=rd), 404)
    by_subject = await api.get("/api/v1/inbox", headers=rd, params={"q": "โครงสร้างหนี้"})
    assert by_subject.json()["items"] == []  # what cannot be read cannot be searched for either
    by_number = await api.get("/api/v1/inbox", headers=rd, params={"q": letter["doc_no"]})
    assert [i["letter_id"] for i in by_number.json()["items"]] == [letter["id"]]

    cgd_item = await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    assert cgd_item["subject"] == SUBJECT  # cgd.clerk holds clearance "secret"
    seen = await api.get(f"/api/v1/letters/{letter['id']}", headers=cgd)
    assert seen.status_code == 200 and seen.json()["body"] == "เนื้อความลับ"

    auditor = await login(api, "auditor")

    async def access_events():
        history = await api.get(f"/api/v1/audit/letters/{letter['id']}/history", headers=auditor)
        types = [e["type"] for e in history.json()["events"]]
        return types if {"letter.viewed", "access.denied"} <= set(types) else None

    await eventually(access_events)


async def test_nobody_sends_above_their_own_clearance_and_top_secret_never_travels(api):
    rd = await login(api, "rd.clerk")
    orgs = await org_ids(api, rd)
    body = {"type": "external", "subject": "x", "secrecy": "confidential", "recipient_org_ids": [orgs["cgd"]]}
    assert_problem(await api.post("/api/v1/letters", headers=rd, json=body), 422)
    ops = await login(api, "ops.clerk")
    assert_problem(await api.post("/api/v1/letters", headers=ops, json={**body, "secrecy": "top_secret"}), 422)
