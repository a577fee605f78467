"""Batches of events appended in one transaction, on SQLite and on PostgreSQL: repeats inside a batch and
events logged before are skipped, the indexes stay contiguous, every proof over the log verifies, a failed
batch leaves nothing behind, and checkpoints are decided once per batch."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from services.audit import bootstrap, service
from services.audit.adapters import tables
from services.audit.consumers import EVENTS_QUEUE
from services.audit.domain.merkle import root, verify_consistency, verify_inclusion
from services.audit.tests.test_nodes import _expected_nodes, _stored
from services.audit.tests.test_service import CGD, MOF, OPS, RD, attachment_stored, delivered, letter_sent
from shared.bus.memory import MemoryBus
from shared.contracts import Envelope, LetterSent
from shared.db import Database
from shared.outbox import once_batch
from shared.principal import Principal
from shared.settings import Settings

AUDITOR = Principal(user="auditor", org_id=MOF, roles=("auditor",))
CHECKPOINT_EVERY = 4


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def runtime(request, tmp_path, monkeypatch):
    monkeypatch.setenv("SARABUN_AUDIT_CHECKPOINT_EVERY", str(CHECKPOINT_EVERY))
    db = None
    if request.param == "postgresql":
        db = Database(request.getfixturevalue("postgres_url"), schema=f"audit_{uuid.uuid4().hex[:8]}")
    bus = MemoryBus()
    started = bootstrap.build(Settings(demo=True, data_dir=tmp_path), bus, db)
    await started.start()
    yield started
    await started.stop()
    await bus.close()


def _letter(sender=OPS, recipients=(CGD, RD)) -> tuple[Envelope, list[Envelope]]:
    """A letter.sent and the delivery.delivered of each of its recipients."""
    letter_id = uuid.uuid4()
    deliveries = [(uuid.uuid4(), org) for org in recipients]
    sent = letter_sent(letter_id, sender, deliveries)
    return sent, [delivered(letter_id, d, sender, org) for d, org in deliveries]


async def _event_ids(db: Database) -> list[uuid.UUID]:
    async with db.read() as session:
        rows = (await session.execute(select(tables.leaves).order_by(tables.leaves.c["index"]))).mappings().all()
        size = (await session.execute(select(tables.log_state.c.size))).scalar_one_or_none() or 0
    assert [r["index"] for r in rows] == list(range(size)), "indexes must run from 0 to the log size, no gap"
    return [r["event_id"] for r in rows]


async def _check_every_proof(db: Database, sizes: list[int]) -> None:
    """At every size the log had after a batch: each leaf's inclusion proof and the consistency proof from
    the previous size verify against the root computed from the leaf hashes alone."""
    hashes, nodes = await _stored(db)
    assert nodes == _expected_nodes(hashes)
    previous = 0
    for size in sizes:
        top = root(hashes[:size])
        for index in range(size):
            proof = await service.inclusion(db, AUDITOR, index, size)
            assert verify_inclusion(index, size, hashes[index], proof, top), (index, size)
        proof = await service.consistency(db, AUDITOR, previous, size)
        assert verify_consistency(previous, size, root(hashes[:previous]), top, proof), (previous, size)
        previous = size


async def test_batches_with_repeats_append_each_event_once_with_contiguous_indexes_and_valid_proofs(runtime):
    db, consume = runtime.db, runtime.consumers[EVENTS_QUEUE]
    sent, (to_cgd, to_rd) = _letter()
    stored = [attachment_stored(OPS) for _ in range(7)]
    later = [attachment_stored(RD) for _ in range(13)]
    replay = once_batch(db, tables.inbox, "audit.replay", service.record_events)

    # A message twice in one batch.
    await consume([sent, to_cgd, sent, stored[0], stored[1]])
    # Already handled messages mixed with new ones, and a new one twice.
    await consume([to_cgd, stored[2], to_rd, stored[2], stored[1], stored[3]])
    # The same events replayed under another consumer name pass the inbox but are logged once.
    await replay([sent, stored[4], stored[0], stored[5]])
    # Straight into the use case: a repeat inside the batch and an event logged before.
    async with db.transaction() as session:
        assert await service.record_events(session, [stored[6], stored[6], to_rd]) == 1
    await consume(later)

    expected = [sent, to_cgd, stored[0], stored[1], stored[2], to_rd, stored[3], stored[4], stored[5], stored[6]]
    expected += later
    assert await _event_ids(db) == [e.id for e in expected]
    await _check_every_proof(db, [4, 7, 9, 10, 23])

    # The parties were recorded with the leaves: each recipient sees the letter and its own delivery only.
    letter_id = LetterSent.model_validate(sent.data).letter_id
    cgd = Principal(user="cgd.clerk", org_id=CGD, roles=("clerk",))
    history = await service.letter_history(db, letter_id, cgd)
    assert [(r["index"], r["type"]) for r in history] == [(0, "letter.sent.v1"), (1, "delivery.delivered.v1")]


async def test_a_batch_that_fails_leaves_no_leaf_no_index_and_no_inbox_mark(runtime):
    db, consume = runtime.db, runtime.consumers[EVENTS_QUEUE]
    good = [attachment_stored(OPS) for _ in range(3)]
    broken = Envelope(type=LetterSent.TYPE, source="test", data={"letter_id": "broken"})

    with pytest.raises(ValueError):
        await consume([good[0], good[1], broken, good[2]])
    assert await _event_ids(db) == []
    async with db.read() as session:
        assert (await session.execute(select(tables.inbox))).all() == []
        assert (await session.execute(select(tables.nodes))).all() == []

    # Retried one by one, as the bus does after a failed batch: the good ones take indexes from 0.
    for envelope in (good[0], good[1], good[2]):
        await consume([envelope])
    with pytest.raises(ValueError):
        await consume([broken])
    assert await _event_ids(db) == [e.id for e in good]
    await _check_every_proof(db, [1, 2, 3])


async def _checkpoint_sizes(db: Database) -> list[int]:
    async with db.read() as session:
        sizes = select(tables.checkpoints.c.size).order_by(tables.checkpoints.c.size)
        return list((await session.execute(sizes)).scalars())


async def test_a_checkpoint_is_decided_once_per_batch_and_covers_the_whole_batch(runtime):
    db, consume = runtime.db, runtime.consumers[EVENTS_QUEUE]
    first = [attachment_stored(OPS) for _ in range(CHECKPOINT_EVERY + 2)]

    await consume(first)
    # Past the threshold inside the batch: one checkpoint, of the whole batch, not one at the threshold.
    assert await _checkpoint_sizes(db) == [CHECKPOINT_EVERY + 2]

    await consume([attachment_stored(OPS) for _ in range(CHECKPOINT_EVERY - 1)])
    await consume(first)  # all handled before: appends nothing, so counts nothing
    assert await _checkpoint_sizes(db) == [CHECKPOINT_EVERY + 2]

    await consume([attachment_stored(OPS)])
    assert await _checkpoint_sizes(db) == [CHECKPOINT_EVERY + 2, 2 * CHECKPOINT_EVERY + 2]
