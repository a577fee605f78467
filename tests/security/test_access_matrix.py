"""Who may do what to which letter: one table over endpoints × users × their relation to the object, with
the expected status of each cell. Cross-unit reads are 404, never 403; roles that may never attempt an action
get 403; no token gets 401. The table is also written to docs/access-matrix.md for security review
(regenerate with SARABUN_UPDATE_SNAPSHOT=1 after an intended change)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.e2e.helpers import PDF, eventually, inbox_item, login, org_ids

DOC = Path(__file__).resolve().parents[2] / "docs" / "access-matrix.md"

# ops sends letter L (with an attachment) to cgd, who registers it and forwards it to rd; td is uninvolved.
# ops also sends a secret letter S to cgd (cleared: secret) and td (cleared: normal).
USERS = ("ops.clerk", "cgd.clerk", "rd.clerk", "td.clerk", "auditor", "admin", None)
RELATION = {
    "ops.clerk": "sender",
    "cgd.clerk": "recipient",
    "rd.clerk": "forwarded-to",
    "td.clerk": "uninvolved (recipient of S without clearance)",
    "auditor": "auditor",
    "admin": "admin",
    None: "no token",
}

MATRIX = {
    # (method, path template): statuses in USERS order
    ("GET", "/letters/{L}"): (200, 200, 200, 404, 403, 403, 401),
    ("GET", "/letters/{S}"): (200, 200, 404, 404, 403, 403, 401),
    ("GET", "/letters/{L}/pending"): (200, 404, 404, 404, 403, 403, 401),
    ("POST", "/letters/{L}/recall"): (409, 404, 404, 404, 403, 403, 401),
    ("POST", "/letters/{L}/cancel"): (409, 404, 404, 404, 403, 403, 401),
    ("POST", "/deliveries/{cgd_delivery}/receive"): (404, 200, 404, 404, 403, 403, 401),
    ("POST", "/deliveries/{cgd_delivery}/reject"): (404, 409, 404, 404, 403, 403, 401),
    ("GET", "/deliveries/{cgd_delivery}/annotations"): (404, 200, 404, 404, 403, 403, 401),
    ("GET", "/attachments/{attachment}/content"): (200, 200, 200, 404, 403, 403, 401),
    ("GET", "/audit/letters/{L}/history"): (200, 200, 200, 404, 200, 403, 401),
    ("GET", "/inbox"): (200, 200, 200, 200, 403, 403, 401),
    ("GET", "/outbox"): (200, 200, 200, 200, 403, 403, 401),
    ("GET", "/registers/send"): (200, 200, 200, 200, 422, 403, 401),
    ("PUT", "/registers/send/next-number"): (403, 403, 403, 403, 403, 200, 401),
    ("GET", "/orgs"): (200, 200, 200, 200, 200, 200, 401),
    ("GET", "/me"): (200, 200, 200, 200, 200, 200, 401),
}

BODIES = {
    "/letters/{L}/recall": {},
    "/letters/{L}/cancel": {"reason": "ทดสอบสิทธิ์"},
    "/deliveries/{cgd_delivery}/reject": {"reason": "ทดสอบสิทธิ์"},
    "/registers/send/next-number": {"year": None, "next_number": 500},
}


async def _world(api) -> dict:
    ops, cgd = await login(api, "ops.clerk"), await login(api, "cgd.clerk")
    orgs = await org_ids(api, ops)
    upload = await api.post("/api/v1/attachments", headers=ops, files={"file": ("ก.pdf", PDF, "application/pdf")})
    attachment = upload.json()["id"]
    body = {
        "type": "external",
        "subject": "หนังสือ L",
        "recipient_org_ids": [orgs["cgd"]],
        "attachment_ids": [attachment],
    }
    letter = (await api.post("/api/v1/letters", headers=ops, json=body)).json()
    secret = {
        "type": "external",
        "subject": "หนังสือ S",
        "secrecy": "secret",
        "recipient_org_ids": [orgs["cgd"], orgs["td"]],
    }
    secret_letter = (await api.post("/api/v1/letters", headers=ops, json=secret)).json()
    item = await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=cgd)
    forwarded = {"recipient_org_ids": [orgs["rd"]]}
    assert (
        await api.post(f"/api/v1/deliveries/{item['delivery_id']}/forward", headers=cgd, json=forwarded)
    ).status_code == 200
    rd = await login(api, "rd.clerk")
    await eventually(lambda: _status(api, rd, f"/api/v1/letters/{letter['id']}", 200))
    await eventually(lambda: _status(api, rd, f"/api/v1/attachments/{attachment}/content", 200))
    return {"L": letter["id"], "S": secret_letter["id"], "cgd_delivery": item["delivery_id"], "attachment": attachment}


async def _status(api, headers, url, expected):
    return (await api.get(url, headers=headers)).status_code == expected


async def test_every_cell_of_the_access_matrix(api):
    ids = await _world(api)
    year = (await api.get("/api/v1/registers/send", headers=await login(api, "ops.clerk"))).json().get("year")
    headers = {user: (await login(api, user)) if user else {} for user in USERS}
    wrong = []
    for (method, template), expected in MATRIX.items():
        url = "/api/v1" + template.format(**ids)
        body = BODIES.get(template)
        if body and "year" in body:
            body = {**body, "year": year}
        for user, status in zip(USERS, expected, strict=True):
            response = await api.request(method, url, headers=headers[user], json=body)
            if response.status_code != status:
                wrong.append(f"{method} {template} as {user}: {response.status_code}, expected {status}")
    assert not wrong, "\n".join(wrong)


def test_the_reviewers_document_matches_the_table():
    text = render()
    if os.environ.get("SARABUN_UPDATE_SNAPSHOT") == "1":
        DOC.write_text(text)
    assert DOC.read_text() == text, "docs/access-matrix.md is stale: regenerate with SARABUN_UPDATE_SNAPSHOT=1"


def render() -> str:
    head = "| endpoint | " + " | ".join(f"{u or 'none'}<br>({RELATION[u]})" for u in USERS) + " |"
    rule = "|---" * (len(USERS) + 1) + "|"
    rows = [f"| `{m} /api/v1{t}` | " + " | ".join(str(s) for s in st) + " |" for (m, t), st in MATRIX.items()]
    return "\n".join(
        [
            "# Access matrix",
            "",
            "Generated from `tests/security/test_access_matrix.py`, which checks every cell against the running",
            "system. ops.clerk sends letter L (with an attachment) to cgd.clerk's unit, which registers it and",
            "forwards it to rd.clerk's unit; td.clerk's unit is uninvolved in L. ops.clerk also sends a secret",
            'letter S to cgd (clearance secret) and td (clearance normal). 404 means "not in your scope" (existence',
            "is never confirmed), 403 a role that may never attempt the action, 401 no valid token, 409 a state",
            "conflict (L is registered, so it can no longer be recalled, cancelled or rejected).",
            "",
            head,
            rule,
            *rows,
            "",
        ]
    )
