"""The verifiable audit log through the public API: an auditor checks the signed checkpoint against the
entries, every inclusion proof and a consistency proof, with nothing but the public key and the API."""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import json
import sqlite3
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.audit import verifier
from services.audit.domain.merkle import root, verify_consistency, verify_inclusion
from services.audit.domain.note import (
    parse_verifier_key,
    public_bytes,
    signed_checkpoint,
    verifier_key_text,
    verify_checkpoint,
)
from shared import thai
from shared.seed import DEMO_USERS, sample_org_ids
from tests.e2e.helpers import eventually, inbox_item, login, org_ids

AUDIT = "/api/v1/audit"
# The demo's first entries: routing announcing each unit of the sample directory as it seeds it, and the
# gateway announcing the address of each demo person who has one.
SEEDED = len(sample_org_ids()) + len([user for user in DEMO_USERS if user.email])


@pytest.fixture
async def api(api):
    """The demo deployment once its log holds the sample directory's announcements, so that what each test
    does is logged after them, from index SEEDED on."""
    auditor = await login(api, "auditor")

    async def seeded():
        found = await all_entries(api, auditor)
        return len(found) >= SEEDED

    await eventually(seeded)
    return api


async def send_letters(api: httpx.AsyncClient, count: int) -> None:
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    for n in range(count):
        body = {"type": "external", "subject": f"เรื่องทดสอบ {n}", "recipient_org_ids": [orgs["cgd"], orgs["rd"]]}
        response = await api.post("/api/v1/letters", headers=ops, json=body)
        assert response.status_code in (200, 201), response.text


async def all_entries(api: httpx.AsyncClient, headers: dict) -> list[dict]:
    response = await api.get(f"{AUDIT}/entries", headers=headers, params={"start": 0})
    assert response.status_code == 200, response.text
    return response.json()


async def logged(api: httpx.AsyncClient, headers: dict, at_least: int) -> list[dict]:
    """Every entry, once the test's own (after the SEEDED first ones) number at least `at_least`."""

    async def enough():
        found = await all_entries(api, headers)
        return found if len(found) >= SEEDED + at_least else None

    return await eventually(enough)


async def test_an_auditor_verifies_checkpoint_entries_and_proofs(api):
    await send_letters(api, 3)
    auditor = await login(api, "auditor")
    found = await logged(api, auditor, 9)  # per letter: sent, and delivered to each of two recipients

    key_response = await api.get(f"{AUDIT}/public-key", headers=auditor)
    assert key_response.status_code == 200
    assert key_response.headers["content-type"].startswith("text/plain")
    key = parse_verifier_key(key_response.text)

    note = await api.get(f"{AUDIT}/checkpoint", headers=auditor)
    assert note.status_code == 200 and note.headers["content-type"].startswith("text/plain")
    checkpoint = verify_checkpoint(note.text, key)
    assert checkpoint.origin == "sarabun.example/audit"
    found = await all_entries(api, auditor)  # the checkpoint may have caught events logged since
    assert checkpoint.size <= len(found)
    assert checkpoint.size >= SEEDED + 9

    assert [e["index"] for e in found] == list(range(len(found)))
    hashes = []
    for e in found:
        leaf = base64.b64decode(e["leaf_hash"])
        assert leaf == hashlib.sha256(b"\x00" + base64.b64decode(e["entry"])).digest()
        hashes.append(leaf)
    assert root(hashes[: checkpoint.size]) == checkpoint.root

    for index in range(checkpoint.size):
        params = {"index": index, "tree_size": checkpoint.size}
        proof = (await api.get(f"{AUDIT}/proofs/inclusion", headers=auditor, params=params)).json()
        assert (proof["leaf_index"], proof["tree_size"]) == (index, checkpoint.size)
        path = [base64.b64decode(h) for h in proof["hashes"]]
        assert verify_inclusion(index, checkpoint.size, hashes[index], path, checkpoint.root)
        assert not verify_inclusion(index, checkpoint.size, hashes[(index + 1) % checkpoint.size], path,
                                    checkpoint.root)  # fmt: skip

    for first in (1, 4, checkpoint.size):
        params = {"first": first, "second": checkpoint.size}
        proof = (await api.get(f"{AUDIT}/proofs/consistency", headers=auditor, params=params)).json()
        assert (proof["first"], proof["second"]) == (first, checkpoint.size)
        path = [base64.b64decode(h) for h in proof["hashes"]]
        assert verify_consistency(first, checkpoint.size, root(hashes[:first]), checkpoint.root, path)


async def test_entries_are_paged(api):
    await send_letters(api, 2)
    auditor = await login(api, "auditor")
    found = await logged(api, auditor, 6)
    page = await api.get(f"{AUDIT}/entries", headers=auditor, params={"start": 2, "end": 5})
    assert [e["index"] for e in page.json()] == [2, 3, 4]
    assert page.json() == found[2:5]
    beyond = await api.get(f"{AUDIT}/entries", headers=auditor, params={"start": len(found) + 10})
    assert beyond.json() == []


async def test_checkpoint_and_key_for_everyone_signed_in_entries_and_proofs_for_auditors(api):
    await send_letters(api, 1)
    auditor = await login(api, "auditor")
    await logged(api, auditor, 3)
    clerk = await login(api, "rd.clerk")
    for path in ("/checkpoint", "/public-key"):
        assert (await api.get(f"{AUDIT}{path}", headers=clerk)).status_code == 200
        assert (await api.get(f"{AUDIT}{path}")).status_code == 401
    for path, params in (
        ("/entries", {}),
        ("/proofs/inclusion", {"index": 0, "tree_size": 1}),
        ("/proofs/consistency", {"first": 1, "second": 2}),
    ):
        response = await api.get(f"{AUDIT}{path}", headers=clerk, params=params)
        assert response.status_code == 403, path
        assert response.headers["content-type"] == "application/problem+json"
        assert (await api.get(f"{AUDIT}{path}", params=params)).status_code == 401


async def test_bad_parameters_are_422_problems(api):
    await send_letters(api, 1)
    auditor = await login(api, "auditor")
    size = len(await logged(api, auditor, 3))
    huge = "99999999999999999999999"
    cases = [
        ("/entries", {"start": -1}),
        ("/entries", {"start": "abc"}),
        ("/entries", {"start": huge}),
        ("/entries", {"start": 5, "end": 2}),
        ("/proofs/inclusion", {}),
        ("/proofs/inclusion", {"index": 0}),
        ("/proofs/inclusion", {"index": 3, "tree_size": 3}),
        ("/proofs/inclusion", {"index": 0, "tree_size": size + 1}),
        ("/proofs/inclusion", {"index": -1, "tree_size": 2}),
        ("/proofs/inclusion", {"index": huge, "tree_size": huge}),
        ("/proofs/inclusion", {"index": 0, "tree_size": 2**63 - 1}),
        ("/proofs/consistency", {"first": 3, "second": 2}),
        ("/proofs/consistency", {"first": 1, "second": size + 1}),
        ("/proofs/consistency", {"first": "x", "second": 2}),
        ("/proofs/consistency", {"first": 1}),
    ]
    for path, params in cases:
        response = await api.get(f"{AUDIT}{path}", headers=auditor, params=params)
        assert response.status_code == 422, (path, params, response.text)
        assert response.headers["content-type"] == "application/problem+json"


class Through(httpx.AsyncBaseTransport):
    """Sends the verifier's requests through the test's client, so it reaches the embedded gateway."""

    def __init__(self, client: httpx.AsyncClient):
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.client.send(request)
        return httpx.Response(response.status_code, headers=response.headers, content=response.content)


async def verify(api, token: str, *args: str) -> tuple[int, dict]:
    """Runs `sarabun-audit` in-process with --json and returns its exit status and report."""
    argv = [args[0], "--url", "http://sarabun", "--token", token, "--json", *args[1:]]
    stream = io.StringIO()
    with contextlib.redirect_stdout(stream):
        status = await verifier.run(argv, transport=Through(api))
    return status, json.loads(stream.getvalue())


async def auditor_token(api) -> str:
    return (await login(api, "auditor"))["Authorization"].removeprefix("Bearer ")


async def test_verify_and_monitor_accept_an_honest_log(api, tmp_path):
    await send_letters(api, 2)
    token = await auditor_token(api)
    await logged(api, {"Authorization": f"Bearer {token}"}, 6)
    state = tmp_path / "trusted.json"

    status, report = await verify(api, token, "verify", "--state", str(state), "--sample", "100")
    assert (status, report["result"]) == (0, "valid"), report
    first = report["checkpoint"]["size"]
    assert first >= SEEDED + 6
    assert json.loads(state.read_text())["checkpoint"].startswith(f"sarabun.example/audit\n{first}\n")

    await send_letters(api, 1)
    await logged(api, {"Authorization": f"Bearer {token}"}, first - SEEDED + 3)
    status, report = await verify(api, token, "monitor", "--state", str(state))
    assert (status, report["result"]) == (0, "valid"), report
    assert report["checkpoint"]["size"] > first
    assert f"extends the saved checkpoint of {first}" in report["checks"]
    assert json.loads(state.read_text())["checkpoint"].startswith(
        f"sarabun.example/audit\n{report['checkpoint']['size']}\n"
    )


def _edit_leaf(data_dir: Path, index: int, also_hash: bool) -> None:
    """Changes a stored entry behind the service's back, as someone with database access could."""
    with sqlite3.connect(data_dir / "audit.db") as db:
        (entry,) = db.execute('SELECT entry FROM leaves WHERE "index" = ?', (index,)).fetchone()
        forged = entry.replace(b'"type"', b'"typo"')
        assert forged != entry
        db.execute('UPDATE leaves SET entry = ? WHERE "index" = ?', (forged, index))
        if also_hash:
            new_hash = hashlib.sha256(b"\x00" + forged).digest()
            db.execute('UPDATE leaves SET leaf_hash = ? WHERE "index" = ?', (new_hash, index))


async def test_an_entry_edited_in_the_database_is_caught_and_named(api, tmp_path):
    await send_letters(api, 2)
    token = await auditor_token(api)
    await logged(api, {"Authorization": f"Bearer {token}"}, 6)
    assert (await verify(api, token, "verify"))[0] == 0

    _edit_leaf(tmp_path, 4, also_hash=False)
    status, report = await verify(api, token, "verify")
    assert (status, report["result"], report["first_bad_index"]) == (1, "invalid", 4), report
    assert "4" in report["message_en"] and "4" in report["message_th"]


async def test_an_entry_rewritten_with_its_hash_is_caught_and_named(api, tmp_path):
    await send_letters(api, 2)
    token = await auditor_token(api)
    await logged(api, {"Authorization": f"Bearer {token}"}, 6)

    _edit_leaf(tmp_path, 2, also_hash=True)
    status, report = await verify(api, token, "verify")
    assert (status, report["first_bad_index"]) == (1, 2), report
    assert "root of the entries is not the signed root" in report["message_en"]


def _sign_with_the_demo_key(data_dir: Path, size: int, top: bytes) -> str:
    seed = base64.b64decode((data_dir / "audit-signing.key").read_text())
    return signed_checkpoint("sarabun.example/audit", size, top, Ed25519PrivateKey.from_private_bytes(seed))


async def test_monitor_refuses_a_log_that_does_not_extend_the_saved_checkpoint(api, tmp_path):
    await send_letters(api, 1)
    token = await auditor_token(api)
    await logged(api, {"Authorization": f"Bearer {token}"}, 3)
    key = (await api.get(f"{AUDIT}/public-key", headers={"Authorization": f"Bearer {token}"})).text.strip()
    state = tmp_path / "trusted.json"

    # A saved checkpoint of a longer log than the one served now: the log lost its tail.
    state.write_text(json.dumps({"public_key": key, "checkpoint": _sign_with_the_demo_key(tmp_path, 500, bytes(32))}))
    status, report = await verify(api, token, "monitor", "--state", str(state))
    assert (status, report["result"]) == (1, "invalid") and "shrank from 500" in report["message_en"]

    # A saved checkpoint of a different history of 2 leaves: a fork.
    state.write_text(json.dumps({"public_key": key, "checkpoint": _sign_with_the_demo_key(tmp_path, 2, bytes(32))}))
    status, report = await verify(api, token, "monitor", "--state", str(state))
    assert (status, report["result"]) == (1, "invalid") and "does not extend the saved checkpoint of 2" in report[
        "message_en"
    ]


async def test_verify_cannot_check_without_access_or_with_a_strangers_key(api):
    await send_letters(api, 1)
    token = await auditor_token(api)
    await logged(api, {"Authorization": f"Bearer {token}"}, 3)
    status, report = await verify(api, "not-a-token", "verify")
    assert (status, report["result"]) == (2, "cannot_check")

    stranger = Ed25519PrivateKey.generate()
    other_key = verifier_key_text("sarabun.example/audit", public_bytes(stranger))
    status, report = await verify(api, token, "verify", "--public-key", other_key)
    assert (status, report["result"]) == (1, "invalid")
    assert "checkpoint does not verify" in report["message_en"]

    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    argv = ["verify", "--url", "http://nowhere", "--token", token]
    assert await verifier.run(argv, transport=httpx.MockTransport(refuse)) == 2


def test_the_verifier_needs_nothing_of_the_service():
    # Run in a fresh interpreter: importing the verifier must not pull in the database, settings or shared/.
    code = (
        "import sys, services.audit.verifier; "
        "bad = [m for m in sys.modules if m.startswith(('shared', 'sqlalchemy', 'fastapi'))]; "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _csv_rows(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_an_auditor_asks_what_an_agency_sent_and_received_as_json_and_csv(api):
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    body = {"type": "external", "subject": "ขอส่งรายงาน", "recipient_org_ids": [orgs["cgd"], orgs["rd"]]}
    letter = (await api.post("/api/v1/letters", headers=ops, json=body)).json()
    cgd = await login(api, "cgd.clerk")
    item = await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    assert (await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=cgd)).status_code == 200
    auditor = await login(api, "auditor")
    await logged(api, auditor, 4)

    today = datetime.now(thai.BANGKOK).date().isoformat()
    path = f"{AUDIT}/orgs/{orgs['cgd']}/events"
    answer = await api.get(path, headers=auditor, params={"from": today, "to": today})
    assert answer.status_code == 200, answer.text
    events = answer.json()["items"]
    # CGD's view: the unit announced as the demo's directory was loaded; then the letter, its own delivery and
    # its registration; not RD's delivery.
    types = ["directory.unit.added", "letter.sent", "delivery.delivered", "delivery.received"]
    assert [e["type"] for e in events] == types
    assert events[0]["actor"] == "system" and {e["letter_id"] for e in events[1:]} == {letter["id"]}
    assert events[3]["receive_no"] == 1 and events[3]["delivery_id"] == item["delivery_id"]
    assert all("subject" not in e for e in events)
    received = await api.get(path, headers=auditor, params={"type": "delivery.received"})
    assert [e["index"] for e in received.json()["items"]] == [events[3]["index"]]
    yesterday = await api.get(path, headers=auditor, params={"to": "2000-01-01"})
    assert yesterday.json() == {"org_id": orgs["cgd"], "items": [], "next_cursor": None}

    first = (await api.get(path, headers=auditor, params={"limit": 3})).json()
    assert [e["index"] for e in first["items"]] == [e["index"] for e in events[:3]]
    rest = (await api.get(path, headers=auditor, params={"limit": 3, "cursor": first["next_cursor"]})).json()
    assert [e["index"] for e in rest["items"]] == [events[3]["index"]] and rest["next_cursor"] is None

    rows = _csv_rows(await api.get(path, headers=auditor, params={"from": today, "format": "csv"}))
    assert rows[0][:3] == ["ลำดับในบันทึก (index)", "ประเภทเหตุการณ์ (event type)", "วันเวลา (time, Asia/Bangkok)"]
    assert [row[0] for row in rows[1:]] == [str(e["index"]) for e in events]
    assert [row[1] for row in rows[1:]] == [e["type"] for e in events]
    assert all(row[2].endswith("+07:00") for row in rows[1:])
    heading = rows[0]
    registered = dict(zip(heading, rows[4], strict=True))
    assert registered["เลขทะเบียนรับ (receive no.)"] == "1"
    assert registered["ผู้ส่ง (sender)"] != "" and registered["ผู้รับ (recipient)"] != ""
    assert registered["ที่ (document no.)"] == ""  # only letter.sent carries the document number
    assert dict(zip(heading, rows[2], strict=True))["ที่ (document no.)"] == letter["doc_no"]
    assert "ขอส่งรายงาน" not in rows.__repr__()


async def test_a_letters_history_has_a_summary_per_recipient_and_exports_as_csv(api):
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    body = {"type": "external", "subject": "ขอส่งรายงาน", "recipient_org_ids": [orgs["cgd"], orgs["rd"]]}
    letter = (await api.post("/api/v1/letters", headers=ops, json=body)).json()
    cgd = await login(api, "cgd.clerk")
    item = await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    assert (await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=cgd)).status_code == 200
    auditor = await login(api, "auditor")
    await logged(api, auditor, 4)
    path = f"{AUDIT}/letters/{letter['id']}/history"

    history = (await api.get(path, headers=auditor)).json()
    by_org = {r["org_id"]: r for r in history["recipients"]}
    assert set(by_org) == {orgs["cgd"], orgs["rd"]}
    assert by_org[orgs["cgd"]]["receive_no"] == 1 and by_org[orgs["cgd"]]["received_at"] is not None
    assert by_org[orgs["cgd"]]["delivery_id"] == item["delivery_id"]
    assert by_org[orgs["rd"]]["delivered_at"] is not None and by_org[orgs["rd"]]["received_at"] is None

    events = _csv_rows(await api.get(path, headers=auditor, params={"format": "csv"}))
    assert [row[1] for row in events[1:]] == [e["type"] for e in history["events"]]
    assert {row[6] for row in events[1:]} == {letter["id"]}
    table = _csv_rows(await api.get(path, headers=auditor, params={"format": "csv", "table": "recipients"}))
    assert table[0][0] == "รหัสหน่วยงานผู้รับ (recipient org id)"
    rows = {row[0]: row for row in table[1:]}
    assert set(rows) == {orgs["cgd"], orgs["rd"]}
    assert rows[orgs["cgd"]][5] == "1" and rows[orgs["cgd"]][4].endswith("+07:00")
    assert rows[orgs["rd"]][4] == ""
    # The sender's clerk may export it too; a recipient sees its own delivery only.
    assert len(_csv_rows(await api.get(path, headers=ops, params={"format": "csv", "table": "recipients"}))) == 3
    mine = (await api.get(path, headers=cgd)).json()["recipients"]
    assert [r["org_id"] for r in mine] == [orgs["cgd"]]


async def test_denied_requests_for_auditors_as_json_and_csv(api):
    ops, rd = await login(api, "ops.clerk"), await login(api, "rd.clerk")
    orgs = await org_ids(api, ops)
    body = {"type": "external", "subject": "ลับ", "secrecy": "secret", "recipient_org_ids": [orgs["rd"]]}
    letter = (await api.post("/api/v1/letters", headers=ops, json=body)).json()
    await eventually(lambda: inbox_item(api, rd, letter["id"]))
    assert (await api.get(f"/api/v1/letters/{letter['id']}", headers=rd)).status_code == 404
    auditor = await login(api, "auditor")

    async def refusals():
        found = (await api.get(f"{AUDIT}/denied", headers=auditor)).json()["items"]
        return found or None

    found = await eventually(refusals)
    assert [(e["type"], e["org_id"], e["letter_id"], e["secrecy"]) for e in found] == [
        ("access.denied", orgs["rd"], letter["id"], "secret")
    ]
    rows = _csv_rows(await api.get(f"{AUDIT}/denied", headers=auditor, params={"format": "csv"}))
    assert [row[0] for row in rows[1:]] == [str(found[0]["index"])]
    assert rows[1][5] == "rd.clerk" and rows[1][13] == "secret"
    assert (await api.get(f"{AUDIT}/denied", headers=auditor, params={"to": "2000-01-01"})).json()["items"] == []


async def test_the_auditors_questions_refuse_others_and_bad_parameters(api):
    await send_letters(api, 1)
    auditor = await login(api, "auditor")
    await logged(api, auditor, 3)
    clerk = await login(api, "ops.clerk")
    orgs = await org_ids(api, clerk)
    org_path = f"{AUDIT}/orgs/{orgs['ops']}/events"
    for path in (org_path, f"{AUDIT}/denied"):
        for params in ({}, {"format": "csv"}):
            response = await api.get(path, headers=clerk, params=params)
            assert response.status_code == 403 and response.headers["content-type"] == "application/problem+json"
            assert (await api.get(path, params=params)).status_code == 401

    cases = [
        (org_path, {"from": "yesterday"}),
        (org_path, {"from": "2026-03-02", "to": "2026-03-01"}),
        (org_path, {"type": "letter.sen"}),
        (org_path, {"cursor": "abc"}),
        (org_path, {"limit": 0}),
        (org_path, {"limit": 100000}),
        (org_path, {"format": "xml"}),
        (org_path, {"from": "bad", "format": "csv"}),
        (f"{AUDIT}/orgs/not-a-uuid/events", {}),
        (f"{AUDIT}/denied", {"to": "2026-02-30"}),
        (f"{AUDIT}/denied", {"cursor": "-5", "format": "csv"}),
        (f"{AUDIT}/letters/{uuid.uuid4()}/history", {"format": "pdf"}),
        (f"{AUDIT}/letters/{uuid.uuid4()}/history", {"format": "csv", "table": "nothing"}),
    ]
    for path, params in cases:
        response = await api.get(path, headers=auditor, params=params)
        assert response.status_code == 422, (path, params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    unknown = await api.get(f"{AUDIT}/orgs/{uuid.uuid4()}/events", headers=auditor)
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    missing = await api.get(f"{AUDIT}/letters/{uuid.uuid4()}/history", headers=auditor, params={"format": "csv"})
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


async def replay(*args: str) -> tuple[int, dict]:
    """`sarabun-audit replay` in-process, with no transport at all: it must need no network."""
    stream = io.StringIO()
    with contextlib.redirect_stdout(stream):
        status = await verifier.run(["replay", "--json", *args])
    return status, json.loads(stream.getvalue())


async def test_export_then_replay_offline(api, tmp_path):
    await send_letters(api, 2)
    token = await auditor_token(api)
    await logged(api, {"Authorization": f"Bearer {token}"}, 6)
    out = tmp_path / "export.json"

    status, report = await verify(api, token, "export", "--out", str(out))
    assert (status, report["result"]) == (0, "valid"), report
    export = json.loads(out.read_text("utf-8"))
    size = report["checkpoint"]["size"]
    assert size >= SEEDED + 6 and len(export["entries"]) == size
    key = parse_verifier_key(export["public_key"])
    assert verify_checkpoint(export["checkpoint"], key).size == size
    assert [e["index"] for e in export["entries"]] == list(range(size))
    served = await all_entries(api, {"Authorization": f"Bearer {token}"})
    assert export["entries"] == served[:size]

    status, report = await replay("--export", str(out), "--public-key", export["public_key"])
    assert (status, report["result"], report["checkpoint"]["size"]) == (0, "valid", size), report
    assert (await replay("--export", str(out)))[0] == 0

    def tampered(change) -> str:
        copy = json.loads(out.read_text("utf-8"))
        change(copy)
        path = tmp_path / f"tampered-{uuid.uuid4().hex[:6]}.json"
        path.write_text(json.dumps(copy), "utf-8")
        return str(path)

    def rewrite(copy, index=3, fix_hash=True):
        entry = base64.b64decode(copy["entries"][index]["entry"]).replace(b'"type"', b'"typo"')
        copy["entries"][index]["entry"] = base64.b64encode(entry).decode()
        if fix_hash:
            copy["entries"][index]["leaf_hash"] = base64.b64encode(hashlib.sha256(b"\x00" + entry).digest()).decode()

    status, report = await replay("--export", tampered(lambda c: rewrite(c, fix_hash=False)))
    assert (status, report["first_bad_index"]) == (1, 3), report
    status, report = await replay("--export", tampered(rewrite))
    assert (status, report["result"]) == (1, "invalid") and "not the signed root" in report["message_en"]
    swapped = tampered(lambda c: c["entries"].__setitem__(slice(1, 3), [c["entries"][2], c["entries"][1]]))
    status, report = await replay("--export", swapped)
    assert (status, report["first_bad_index"]) == (1, 1), report
    status, report = await replay("--export", tampered(lambda c: c["entries"].pop()))
    assert (status, report["first_bad_index"]) == (1, size - 1), report
    forged = tampered(lambda c: c.__setitem__("checkpoint", c["checkpoint"].replace(f"\n{size}\n", "\n1\n")))
    status, report = await replay("--export", forged)
    assert (status, report["result"]) == (1, "invalid") and "checkpoint does not verify" in report["message_en"]
    stranger = verifier_key_text("sarabun.example/audit", public_bytes(Ed25519PrivateKey.generate()))
    assert (await replay("--export", str(out), "--public-key", stranger))[0] == 1

    (tmp_path / "garbage.json").write_text("{not json", "utf-8")
    assert (await replay("--export", str(tmp_path / "garbage.json")))[1]["result"] == "cannot_check"
    assert (await replay("--export", str(tmp_path / "absent.json")))[0] == 2
    assert (await replay("--export", tampered(lambda c: c.pop("format"))))[0] == 2


async def test_export_needs_an_auditor(api, tmp_path):
    await send_letters(api, 1)
    await logged(api, await login(api, "auditor"), 3)
    clerk = (await login(api, "ops.clerk"))["Authorization"].removeprefix("Bearer ")
    out = tmp_path / "export.json"
    status, report = await verify(api, clerk, "export", "--out", str(out))
    assert (status, report["result"]) == (2, "cannot_check") and not out.exists()


async def _letter_with_history(api) -> tuple[str, dict]:
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    body = {"type": "external", "subject": "ขอส่งรายงาน", "recipient_org_ids": [orgs["cgd"], orgs["rd"]]}
    letter = (await api.post("/api/v1/letters", headers=ops, json=body)).json()
    cgd = await login(api, "cgd.clerk")
    item = await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    assert (await api.post(f"/api/v1/deliveries/{item['delivery_id']}/receive", headers=cgd)).status_code == 200
    return letter["id"], await logged(api, await login(api, "auditor"), 4)


async def test_verify_proves_every_event_of_a_letter_is_in_the_signed_log(api, tmp_path):
    letter, _ = await _letter_with_history(api)
    await send_letters(api, 1)
    token = await auditor_token(api)
    await logged(api, {"Authorization": f"Bearer {token}"}, 7)
    status, report = await verify(api, token, "verify", "--letter", letter, "--sample", "0")
    assert (status, report["result"]) == (0, "valid"), report
    assert f"all 4 events of letter {letter} are in the signed log" in report["checks"]

    assert (await verify(api, token, "verify", "--letter", str(uuid.uuid4())))[0] == 2  # nothing logged for it

    # The service's index moves another letter's event into this letter's history; the signed entry says not.
    with sqlite3.connect(tmp_path / "audit.db") as db:
        (other,) = db.execute(
            'SELECT "index" FROM leaves WHERE type = \'letter.sent.v1\' AND letter_id != ? ORDER BY "index"',
            (uuid.UUID(letter).hex,),
        ).fetchone()
        changed = db.execute('UPDATE leaves SET letter_id = ? WHERE "index" = ?', (uuid.UUID(letter).hex, other))
        assert changed.rowcount == 1
    status, report = await verify(api, token, "verify", "--letter", letter, "--sample", "0")
    assert (status, report["result"], report["first_bad_index"]) == (1, "invalid", other), report
    assert f"entry {other} is not the letter.sent event of letter {letter}" in report["message_en"]


def _drop_tail(data_dir: Path, keep: int) -> None:
    """Removes every leaf from `keep` on, with the subtrees over them and every checkpoint, and sets the size
    back, as someone with the database could: the service then appends and signs a different history."""
    with sqlite3.connect(data_dir / "audit.db") as db:
        assert db.execute('DELETE FROM leaves WHERE "index" >= ?', (keep,)).rowcount > 0
        db.execute('DELETE FROM nodes WHERE ("index" + 1) << level > ?', (keep,))
        db.execute("DELETE FROM checkpoints")
        db.execute("UPDATE log_state SET size = ?", (keep,))


async def test_a_dropped_and_reappended_tail_is_caught_against_the_saved_state(api, tmp_path):
    await send_letters(api, 2)
    token = await auditor_token(api)
    auditor = {"Authorization": f"Bearer {token}"}
    before = await logged(api, auditor, 6)
    state = tmp_path / "trusted.json"
    status, report = await verify(api, token, "verify", "--state", str(state))
    assert (status, report["checkpoint"]["size"]) == (0, SEEDED + 6), report
    saved = state.read_text()
    assert len(base64.b64decode(json.loads(saved)["leaf_hashes"])) == (SEEDED + 6) * 32

    cut = SEEDED + 4
    _drop_tail(tmp_path, cut)
    await send_letters(api, 2)
    after = await logged(api, auditor, 10)
    assert [e["index"] for e in after] == list(range(SEEDED + 10))
    assert after[:cut] == before[:cut] and after[cut] != before[cut]

    # On its own the forged log is consistent and freshly signed: only the state saved before tells.
    assert (await verify(api, token, "verify"))[0] == 0
    status, report = await verify(api, token, "verify", "--state", str(state))
    assert (status, report["result"], report["first_bad_index"]) == (1, "invalid", cut), report
    assert f"entry {cut} differs from the one verified and saved earlier" in report["message_en"]
    assert str(cut) in report["message_th"]
    assert state.read_text() == saved  # a failed check never replaces the trusted state

    status, report = await verify(api, token, "monitor", "--state", str(state))
    assert (status, report["first_bad_index"]) == (1, cut), report
    assert f"does not extend the saved checkpoint of {SEEDED + 6}; first bad entry: {cut}" in report["message_en"]


def _swap(data_dir: Path, first: int, second: int) -> None:
    """Exchanges two stored leaves, every column but the index."""
    columns = "event_id, type, occurred_at, letter_id, delivery_id, org_id, entry, leaf_hash"
    setter = ", ".join(f"{c} = ?" for c in columns.split(", "))
    with sqlite3.connect(data_dir / "audit.db") as db:
        a, b = (db.execute(f'SELECT {columns} FROM leaves WHERE "index" = ?', (i,)).fetchone() for i in (first, second))
        db.execute('UPDATE leaves SET event_id = ? WHERE "index" = ?', (uuid.uuid4().hex, first))  # unique
        db.execute(f'UPDATE leaves SET {setter} WHERE "index" = ?', (*a, second))
        db.execute(f'UPDATE leaves SET {setter} WHERE "index" = ?', (*b, first))


async def test_two_swapped_entries_are_caught_and_the_first_is_named(api, tmp_path):
    await send_letters(api, 2)
    token = await auditor_token(api)
    auditor = {"Authorization": f"Bearer {token}"}
    before = await logged(api, auditor, 6)
    state = tmp_path / "trusted.json"
    assert (await verify(api, token, "verify", "--state", str(state)))[0] == 0

    _swap(tmp_path, 1, 4)
    after = await all_entries(api, auditor)
    assert (after[1]["entry"], after[4]["entry"]) == (before[4]["entry"], before[1]["entry"])
    status, report = await verify(api, token, "verify")
    assert (status, report["result"], report["first_bad_index"]) == (1, "invalid", 1), report
    assert "root of the entries is not the signed root; first bad entry: 1" in report["message_en"]
    status, report = await verify(api, token, "verify", "--state", str(state))
    assert (status, report["first_bad_index"]) == (1, 1), report


async def test_failed_sign_ins_and_refused_actions_are_in_the_log(api):
    import base64
    import hashlib
    import json

    from tests.e2e.helpers import eventually, login

    await api.post("/api/v1/auth/token", data={"username": "ops.clerk", "password": "wrong"})
    auditor = await login(api, "auditor")
    assert (await api.get("/api/v1/inbox", headers=auditor)).status_code == 403

    async def refusals():
        entries = [json.loads(base64.b64decode(e["entry"])) for e in await all_entries(api, auditor)]
        found = {e["type"]: e for e in entries if e["type"] in ("auth.sign-in-failed.v1", "request.denied.v1")}
        return found if len(found) == 2 else None

    found = await eventually(refusals)
    assert found["auth.sign-in-failed.v1"]["username_sha256"] == hashlib.sha256(b"ops.clerk").hexdigest()
    assert "ops.clerk" not in json.dumps(found["auth.sign-in-failed.v1"])  # no name in the leaf
    assert (found["request.denied.v1"]["action"], found["request.denied.v1"]["actor"]) == ("inbox.read", "auditor")
