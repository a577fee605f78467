"""Signed checkpoints: the note format, the key (from configuration, or generated once in demo mode and kept
out of the database), when they are signed, the copy in the object store, and the refusal to sign a tree
that does not extend the previous checkpoint."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import random
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from services.audit import bootstrap
from services.audit.adapters import tables
from services.audit.checkpoints import DEMO_KEY_FILE, object_key
from services.audit.domain.log import leaf_hash
from services.audit.domain.merkle import node_hash, root
from services.audit.domain.note import (
    ED25519,
    NoteError,
    b64,
    key_id,
    open_note,
    parse_checkpoint,
    parse_verifier_key,
    public_bytes,
    sign_note,
    signed_checkpoint,
    verifier_key_text,
    verify_checkpoint,
)
from services.audit.service import DamagedLog
from services.audit.tests.test_service import OPS, SETTLE_SECONDS, Audit, _start, _stop, attachment_stored
from shared.bus.memory import MemoryBus
from shared.settings import Settings

ORIGIN = "sarabun.example/audit"
SEED = bytes(range(32))
KEY = Ed25519PrivateKey.from_private_bytes(SEED)


@pytest.fixture
async def audit(tmp_path, monkeypatch):
    monkeypatch.setenv("SARABUN_AUDIT_CHECKPOINT_EVERY", "3")
    started = await _start(tmp_path, MemoryBus())
    yield started
    await _stop(started)


def test_a_signed_checkpoint_opens_with_its_verifier_key():
    top = hashlib.sha256(b"x").digest()
    note = signed_checkpoint(ORIGIN, 7, top, KEY)
    body, _, signature_line = note.partition("\n\n")
    assert body == f"{ORIGIN}\n7\n{b64(top)}"
    assert signature_line.startswith(f"\u2014 {ORIGIN} ") and signature_line.endswith("\n")
    raw = base64.b64decode(signature_line.split(" ")[2])
    # The key id is the signed-note spec's: SHA-256(name || LF || 0x01 || public key)[:4].
    assert (
        raw[:4]
        == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public_bytes(KEY)).digest()[:4]
        == key_id(ORIGIN, public_bytes(KEY))
    )
    text = verifier_key_text(ORIGIN, public_bytes(KEY))
    assert text == f"{ORIGIN}+{raw[:4].hex()}+{b64(ED25519 + public_bytes(KEY))}"
    checkpoint = verify_checkpoint(note, parse_verifier_key(text))
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (ORIGIN, 7, top)


def test_a_note_fails_to_open_when_changed_or_signed_by_another_key():
    note = signed_checkpoint(ORIGIN, 7, bytes(32), KEY)
    key = parse_verifier_key(verifier_key_text(ORIGIN, public_bytes(KEY)))
    with pytest.raises(NoteError, match="bad signature"):
        open_note(note.replace("\n7\n", "\n8\n"), key)
    other = Ed25519PrivateKey.generate()
    with pytest.raises(NoteError, match="not signed by"):
        open_note(signed_checkpoint(ORIGIN, 7, bytes(32), other), key)
    # Same name and key id, forged signature bytes.
    name, encoded = note.rstrip("\n").rsplit("\n", 1)[1][2:].split(" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[10] ^= 1
    with pytest.raises(NoteError, match="bad signature"):
        open_note(note.replace(encoded, b64(bytes(raw))), key)
    # A note signed by the right key for another log is not this log's checkpoint.
    stranger = sign_note(f"other.example/log\n7\n{b64(bytes(32))}\n", ORIGIN, KEY)
    with pytest.raises(NoteError, match="not of"):
        verify_checkpoint(stranger, key)


@pytest.mark.parametrize(
    "body",
    [
        f"{ORIGIN}\n07\n{b64(bytes(32))}\n",
        f"{ORIGIN}\n-1\n{b64(bytes(32))}\n",
        f"{ORIGIN}\n7\n{b64(bytes(31))}\n",
        f"{ORIGIN}\n7\nnot base64!\n",
        f"{ORIGIN}\n7\n",
        f"\n7\n{b64(bytes(32))}\n",
        f"{ORIGIN}\n٧\n{b64(bytes(32))}\n",  # a digit, but not an ASCII one
    ],
)
def test_malformed_checkpoints_are_refused(body):
    with pytest.raises(NoteError):
        parse_checkpoint(body)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "name+00000000",
        f"{ORIGIN}+zz+{b64(ED25519 + bytes(32))}",
        f"{ORIGIN}+00000000+{b64(ED25519 + bytes(32))}",  # key id that does not match the key
        f"{ORIGIN}+{key_id(ORIGIN, bytes(32)).hex()}+{b64(b'' + bytes(33))}",
    ],
)
def test_malformed_verifier_keys_are_refused(text):
    with pytest.raises(NoteError):
        parse_verifier_key(text)


def test_the_parsers_fail_only_with_note_errors_on_random_damage():
    rng = random.Random(6962)
    note = signed_checkpoint(ORIGIN, 12345, hashlib.sha256(b"r").digest(), KEY)
    key = parse_verifier_key(verifier_key_text(ORIGIN, public_bytes(KEY)))
    alphabet = "\n \u2014+=/0123456789abcxyzABC\x00\x7fก"
    for _ in range(2000):
        chars = list(note)
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(chars))
            action = rng.choice(("replace", "delete", "insert"))
            if action == "replace":
                chars[position] = rng.choice(alphabet)
            elif action == "delete":
                del chars[position]
            else:
                chars.insert(position, rng.choice(alphabet))
        damaged = "".join(chars)
        try:
            checkpoint = verify_checkpoint(damaged, key)
        except NoteError:
            continue
        # A damaged note may only pass if the signed body is untouched (e.g. a changed unknown-key line).
        assert (checkpoint.size, checkpoint.origin) == (12345, ORIGIN)
        with pytest.raises(NoteError):
            parse_verifier_key(damaged[:60])


async def _checkpoint_rows(audit: Audit) -> list:
    async with audit.runtime.db.read() as session:
        query = select(tables.checkpoints).order_by(tables.checkpoints.c.size)
        return (await session.execute(query)).mappings().all()


async def _checkpoints_reach(audit: Audit, sizes: list[int]) -> list:
    """The checkpoint rows once they are `sizes`: a checkpoint is signed just after its leaf commits, so a
    reader that has seen the leaf may look a moment before the checkpoint is there."""
    deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
    while True:
        rows = await _checkpoint_rows(audit)
        if [r["size"] for r in rows] == sizes or asyncio.get_running_loop().time() > deadline:
            return rows
        await asyncio.sleep(0.02)


async def _leaf_hashes(audit: Audit) -> list[bytes]:
    async with audit.runtime.db.read() as session:
        rows = await session.execute(select(tables.leaves.c.leaf_hash).order_by(tables.leaves.c["index"]))
        return list(rows.scalars())


async def _object(audit: Audit, size: int) -> bytes:
    path = audit.settings.data_dir / "objects"
    store = audit.runtime.app.state.checkpointer.store
    assert path.exists()
    return b"".join([chunk async for chunk in store.stream(object_key(size))])


async def test_checkpoints_every_n_entries_and_on_demand(audit: Audit):
    # One checkpoint decision per batch: the events arrive in batches of 3, 3 and 1.
    for batch, settled in ((3, 3), (3, 6), (1, 7)):
        await audit.bus.publish_many([attachment_stored(OPS) for _ in range(batch)])
        await audit.settle(settled)
    checkpointer = audit.runtime.app.state.checkpointer
    key = parse_verifier_key(checkpointer.public_key_text)

    rows = await _checkpoints_reach(audit, [3, 6])
    assert [r["size"] for r in rows] == [3, 6]
    hashes = await _leaf_hashes(audit)
    # Asked for the newest, the service signs the 7 leaves it has; asked again, it signs nothing new.
    latest = await checkpointer.latest()
    assert verify_checkpoint(latest, key).size == 7
    assert await checkpointer.latest() == latest
    rows = await _checkpoint_rows(audit)
    assert [r["size"] for r in rows] == [3, 6, 7]
    for row in rows:
        checkpoint = verify_checkpoint(row["note"], key)
        assert checkpoint.root == row["root"] == root(hashes[: row["size"]])
        assert (await _object(audit, row["size"])).decode() == row["note"]


async def test_a_tree_that_does_not_extend_the_last_checkpoint_is_not_signed(audit: Audit):
    for _ in range(3):
        await audit.bus.publish(attachment_stored(OPS))
    await audit.settle(3)
    assert [r["size"] for r in await _checkpoints_reach(audit, [3])] == [3]
    # History rewritten behind the service's back, thoroughly: leaf 1 and the node above it recomputed.
    hashes = await _leaf_hashes(audit)
    forged = leaf_hash(b"forged")
    async with audit.runtime.db.transaction() as session:
        for level, index, value in ((0, 1, forged), (1, 0, node_hash(hashes[0], forged))):
            where = (tables.nodes.c.level == level, tables.nodes.c["index"] == index)
            await session.execute(update(tables.nodes).where(*where).values(hash=value))
    await audit.bus.publish(attachment_stored(OPS))
    await audit.settle(4)
    with pytest.raises(DamagedLog):
        await audit.runtime.app.state.checkpointer.issue()
    assert [r["size"] for r in await _checkpoint_rows(audit)] == [3]


async def test_the_demo_key_is_generated_once_and_kept_out_of_the_database(tmp_path):
    first = await _start(tmp_path, MemoryBus())
    public = first.runtime.app.state.checkpointer.public_key_text
    await first.bus.publish(attachment_stored(OPS))
    await first.settle(1)
    assert await first.runtime.app.state.checkpointer.latest()
    await _stop(first)

    path = tmp_path / DEMO_KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    seed = base64.b64decode(path.read_text())
    assert len(seed) == 32
    for db_file in tmp_path.glob("audit.db*"):
        data = db_file.read_bytes()
        assert seed not in data and base64.b64encode(seed) not in data

    again = await _start(tmp_path, MemoryBus())
    try:
        assert again.runtime.app.state.checkpointer.public_key_text == public
    finally:
        await _stop(again)


def test_outside_demo_mode_the_key_comes_from_configuration(tmp_path):
    secrets = {"jwt_secret": "j" * 40, "service_secret": "s" * 40, "data_dir": tmp_path}
    with pytest.raises(ValueError, match="SARABUN_AUDIT_SIGNING_KEY"):
        bootstrap.build(Settings(demo=False, **secrets), MemoryBus())
    with pytest.raises(ValueError, match="SARABUN_AUDIT_SIGNING_KEY"):
        bootstrap.build(Settings(demo=False, audit_signing_key=b64(SEED[:31]), **secrets), MemoryBus())
    with pytest.raises(ValueError, match="SARABUN_AUDIT_SIGNING_KEY"):
        bootstrap.build(Settings(demo=False, audit_signing_key="not base64!", **secrets), MemoryBus())
    runtime = bootstrap.build(Settings(demo=False, audit_signing_key=b64(SEED), **secrets), MemoryBus())
    assert runtime.app.state.checkpointer.public_key_text == verifier_key_text(ORIGIN, public_bytes(KEY))
    assert not (tmp_path / DEMO_KEY_FILE).exists()
