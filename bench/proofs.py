"""Audit inclusion proofs over a large log: leaves appended in bulk straight into the audit service's tables
(the same entries, leaf hashes and stored subtrees the service writes), then proofs asked of the running
deployment through the gateway as the auditor, timed, and a sample checked against the signed checkpoint."""

from __future__ import annotations

import base64
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from bench.flows import percentile
from services.audit.domain.entries import leaf_for
from services.audit.domain.log import canonical_json, leaf_hash, utc_text
from services.audit.domain.merkle import complete_nodes, verify_inclusion
from services.audit.domain.note import parse_verifier_key, verify_checkpoint
from shared.contracts import DeliveryDelivered

BATCH = 50_000
EVENT_TYPE = DeliveryDelivered.TYPE
SOURCE = "sarabun/routing"
LEAF_COLUMNS = (
    "index",
    "event_id",
    "type",
    "occurred_at",
    "letter_id",
    "delivery_id",
    "org_id",
    "entry",
    "leaf_hash",
)


class Entries:
    """`delivery.delivered` entries as the audit service writes them, built without pydantic so that a
    million take seconds; `check` proves on a sample that they are byte for byte what `leaf_for` makes."""

    def __init__(self, sender: uuid.UUID, recipients: list[uuid.UUID], start: datetime):
        self.sender = sender
        self.recipients = recipients
        self.start = start
        self.base = random.getrandbits(64) << 64  # ids of this run: base + counter, never repeated

    def facts(self, n: int) -> dict:
        letter_id = uuid.UUID(int=self.base + 3 * n)
        return {
            "event_id": uuid.UUID(int=self.base + 3 * n + 1),
            "letter_id": letter_id,
            "delivery_id": uuid.UUID(int=self.base + 3 * n + 2),
            "recipient": self.recipients[n % len(self.recipients)],
            "occurred_at": self.start + timedelta(milliseconds=n),
        }

    def entry(self, f: dict) -> bytes:
        return canonical_json(
            {
                "v": 1,
                "event_id": str(f["event_id"]),
                "type": EVENT_TYPE,
                "source": SOURCE,
                "actor": "system",
                "occurred_at": utc_text(f["occurred_at"]),
                "letter_id": str(f["letter_id"]),
                "delivery_id": str(f["delivery_id"]),
                "sender_org_id": str(self.sender),
                "recipient_org_id": str(f["recipient"]),
            }
        )

    def check(self, n: int) -> None:
        f = self.facts(n)
        event = DeliveryDelivered(
            delivery_id=f["delivery_id"],
            letter_id=f["letter_id"],
            sender_org_id=self.sender,
            recipient_org_id=f["recipient"],
            delivered_at=f["occurred_at"],
        )
        envelope = event.envelope(source=SOURCE, subject=str(f["delivery_id"]), actor="system", correlation_id=None)
        envelope = envelope.model_copy(update={"id": f["event_id"]})
        leaf = leaf_for(envelope)
        if leaf.entry != self.entry(f) or leaf.org_id != f["recipient"]:
            raise AssertionError("bench entries differ from the audit service's own")


async def _frontier(conn: asyncpg.Connection, size: int) -> dict[int, bytes]:
    """The newest complete node of each level below `size`: the only left siblings appends still need."""
    wanted = [(level, (size >> level) - 1) for level in range(size.bit_length()) if size >> level]
    rows = await conn.fetch(
        "SELECT n.level, n.hash FROM audit.nodes n JOIN unnest($1::smallint[], $2::bigint[]) AS w(level, index) "
        "ON n.level = w.level AND n.index = w.index",
        [w[0] for w in wanted],
        [w[1] for w in wanted],
    )
    frontier = {r["level"]: bytes(r["hash"]) for r in rows}
    needed = {level for level, index in wanted if (size >> level) & 1}
    if missing := needed - frontier.keys():
        raise RuntimeError(f"audit.nodes lacks the frontier at levels {sorted(missing)}")
    return frontier


async def seed_leaves(conn: asyncpg.Connection, count: int, sender: uuid.UUID, recipients: list[uuid.UUID]) -> dict:
    """Appends `count` leaves after the log's current end in one transaction that holds log_state's row lock
    (the lock the service numbers leaves under), with every complete subtree they finish, then the size."""
    started = time.monotonic()
    async with conn.transaction():
        first = await conn.fetchval("SELECT size FROM audit.log_state WHERE id = 1 FOR UPDATE")
        if first is None:
            raise RuntimeError("audit.log_state has no row yet: no event has been logged")
        frontier = await _frontier(conn, first)
        entries = Entries(sender, recipients, datetime.now(UTC) - timedelta(days=30))
        for n in (0, count // 2, count - 1):
            entries.check(n)
        hashing = 0.0
        for offset in range(0, count, BATCH):
            t0 = time.monotonic()
            leaves, nodes = _batch(entries, first, offset, min(BATCH, count - offset), frontier)
            hashing += time.monotonic() - t0
            await conn.copy_records_to_table("leaves", schema_name="audit", records=leaves, columns=LEAF_COLUMNS)
            await conn.copy_records_to_table(
                "nodes", schema_name="audit", records=nodes, columns=("level", "index", "hash")
            )
        await conn.execute("UPDATE audit.log_state SET size = $1 WHERE id = 1", first + count)
    await conn.execute("ANALYZE audit.leaves")
    await conn.execute("ANALYZE audit.nodes")
    return {
        "seeded": count,
        "first_index": first,
        "size": first + count,
        "seconds": time.monotonic() - started,
        "hashing_seconds": hashing,
    }


def _batch(entries: Entries, first: int, offset: int, count: int, frontier: dict[int, bytes]):
    leaves, nodes = [], []
    for n in range(offset, offset + count):
        index = first + n
        f = entries.facts(n)
        entry = entries.entry(f)
        digest = leaf_hash(entry)
        leaves.append(
            (
                index,
                f["event_id"],
                EVENT_TYPE,
                f["occurred_at"],
                f["letter_id"],
                f["delivery_id"],
                f["recipient"],
                entry,
                digest,
            )
        )
        for level, position, value in complete_nodes(index, digest, lambda lv, _ix: frontier[lv]):
            frontier[level] = value
            nodes.append((level, position, value))
    return leaves, nodes


async def signed_root(api: httpx.AsyncClient, auditor: dict):
    """The latest signed checkpoint, its signature checked with the log's published key."""
    key = await api.get("/api/v1/audit/public-key", headers=auditor)
    key.raise_for_status()
    note = await api.get("/api/v1/audit/checkpoint", headers=auditor)
    note.raise_for_status()
    return verify_checkpoint(note.text, parse_verifier_key(key.text.strip()))


async def time_proofs(api: httpx.AsyncClient, auditor: dict, requests: int, sample: int, warmup: int = 20) -> dict:
    """Inclusion proofs for random leaves of the signed tree, one request at a time; then `sample` of the
    timed proofs are checked against the checkpoint's root with the leaf hash the log serves for them."""
    checkpoint = await signed_root(api, auditor)
    size = checkpoint.size
    rng = random.Random(9162)

    async def proof(index: int) -> list[bytes]:
        response = await api.get(
            "/api/v1/audit/proofs/inclusion", headers=auditor, params={"index": index, "tree_size": size}
        )
        response.raise_for_status()
        return [base64.b64decode(h) for h in response.json()["hashes"]]

    for _ in range(warmup):
        await proof(rng.randrange(size))
    timings, proofs = [], {}
    for _ in range(requests):
        index = rng.randrange(size)
        t0 = time.perf_counter()
        proofs[index] = await proof(index)
        timings.append((time.perf_counter() - t0) * 1000)
    checked = await _check_sample(api, auditor, checkpoint, proofs, sample, rng)
    return {
        "tree_size": size,
        "requests": requests,
        "p50_ms": percentile(timings, 50),
        "p90_ms": percentile(timings, 90),
        "p99_ms": percentile(timings, 99),
        "max_ms": max(timings),
        "proof_hashes": max(len(p) for p in proofs.values()),
        "verified": checked,
        "sample": min(sample, len(proofs)),
    }


async def _check_sample(api, auditor, checkpoint, proofs: dict[int, list[bytes]], sample: int, rng) -> int:
    """Each sampled leaf's entry is read back, its hash recomputed, and its proof must lead to the signed root."""
    verified = 0
    for index in rng.sample(sorted(proofs), min(sample, len(proofs))):
        page = await api.get("/api/v1/audit/entries", headers=auditor, params={"start": index, "end": index + 1})
        page.raise_for_status()
        row = page.json()[0]
        entry, served = base64.b64decode(row["entry"]), base64.b64decode(row["leaf_hash"])
        if row["index"] != index or leaf_hash(entry) != served:
            raise AssertionError(f"leaf {index}: the served hash is not the hash of the served entry")
        if not verify_inclusion(index, checkpoint.size, served, proofs[index], checkpoint.root):
            raise AssertionError(f"leaf {index}: the inclusion proof does not lead to the signed root")
        verified += 1
    return verified
