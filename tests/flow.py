"""The walking skeleton's scenario through the public API only; run in embedded and distributed mode."""

import hashlib

from tests.e2e.helpers import PDF, eventually, inbox_item, login, org_ids


async def core_flow(api) -> dict:
    """ops.clerk sends a letter with a PDF to กรมบัญชีกลาง and กรมสรรพากร; cgd.clerk receives it; the sender
    sees the receive number; the auditor reads the history. Returns the letter."""
    ops = await login(api, "ops.clerk")
    me = (await api.get("/api/v1/me", headers=ops)).json()
    assert (me["username"], me["org_code"], me["roles"]) == ("ops.clerk", "กค 0200", ["clerk"])
    orgs = await org_ids(api, ops)

    upload = await api.post("/api/v1/attachments", headers=ops, files={"file": ("หนังสือ.pdf", PDF, "application/pdf")})
    assert upload.status_code == 201, upload.text
    attachment = upload.json()
    assert attachment["sha256"] == hashlib.sha256(PDF).hexdigest() and attachment["size"] == len(PDF)

    sent = await api.post(
        "/api/v1/letters",
        headers=ops,
        json={
            "type": "external",
            "subject": "ขอเชิญประชุมคณะทำงาน",
            "recipient_org_ids": [orgs["cgd"], orgs["rd"]],
            "urgency": "very_urgent",
            "secrecy": "normal",
            "attachment_ids": [attachment["id"]],
        },
    )
    assert sent.status_code == 201, sent.text
    letter = sent.json()
    assert letter["doc_no"] == "กค 0200/1" and letter["status"] == "sent"
    assert sorted(d["recipient_org_id"] for d in letter["deliveries"]) == sorted([orgs["cgd"], orgs["rd"]])

    cgd, rd, td = (await login(api, "cgd.clerk"), await login(api, "rd.clerk"), await login(api, "td.clerk"))
    item = await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    assert (item["doc_no"], item["urgency"], item["status"]) == ("กค 0200/1", "very_urgent", "delivered")
    assert await eventually(lambda: inbox_item(api, rd, letter["id"]))
    assert await inbox_item(api, td, letter["id"]) is None

    content = await api.get(f"/api/v1/attachments/{attachment['id']}/content", headers=cgd)
    assert content.status_code == 200 and content.content == PDF
    assert (await api.get(f"/api/v1/attachments/{attachment['id']}/content", headers=td)).status_code == 404

    received = await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=cgd)
    assert received.status_code == 200, received.text
    assert received.json()["status"] == "received" and received.json()["receive_no"] == 1
    again = await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=cgd)
    assert again.json()["receive_no"] == 1

    seen = (await api.get(f"/api/v1/letters/{letter['id']}", headers=ops)).json()
    by_org = {d["recipient_org_id"]: d for d in seen["deliveries"]}
    assert by_org[orgs["cgd"]]["status"] == "received" and by_org[orgs["cgd"]]["receive_no"] == 1
    assert by_org[orgs["rd"]]["status"] == "delivered" and by_org[orgs["rd"]]["received_at"] is None

    auditor = await login(api, "auditor")

    async def history():
        events = (await api.get(f"/api/v1/audit/letters/{letter['id']}/history", headers=auditor)).json()["events"]
        return events if len(events) == 4 else None

    events = await eventually(history)
    assert [e["type"] for e in events][0] == "letter.sent"
    assert sorted(e["type"] for e in events[1:]) == ["delivery.delivered", "delivery.delivered", "delivery.received"]
    assert [e["index"] for e in events] == sorted(e["index"] for e in events)
    assert (await api.get(f"/api/v1/audit/letters/{letter['id']}/history", headers=td)).status_code == 404
    return letter
