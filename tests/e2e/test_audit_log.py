"""The verifiable audit log through the public API: an auditor checks the signed checkpoint against the
entries, every inclusion proof and a consistency proof, with nothing but the public key and the API."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
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
from tests.e2e.helpers import eventually, login, org_ids

AUDIT = "/api/v1/audit"


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
    async def enough():
        found = await all_entries(api, headers)
        return found if len(found) >= at_least else None

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
    assert checkpoint.size >= 9

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
    assert first >= 6
    assert json.loads(state.read_text())["checkpoint"].startswith(f"sarabun.example/audit\n{first}\n")

    await send_letters(api, 1)
    await logged(api, {"Authorization": f"Bearer {token}"}, first + 3)
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
