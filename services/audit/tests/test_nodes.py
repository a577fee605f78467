"""The stored complete subtrees: written with each leaf, backfilled for leaves logged before they existed,
and enough on their own to compute the root and every proof."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select

from services.audit import bootstrap
from services.audit.adapters import tables
from services.audit.adapters.repository import LogRepository
from services.audit.domain.merkle import consistency_proof, inclusion_proof, needed_nodes, root, tree_root
from services.audit.service import DamagedLog, computed
from services.audit.tests.test_service import OPS, Audit, _start, _stop, attachment_stored
from shared.bus.memory import MemoryBus
from shared.db import Database
from shared.migrate import upgrade
from shared.settings import Settings


@pytest.fixture
async def audit(tmp_path):
    started = await _start(tmp_path, MemoryBus())
    yield started
    await _stop(started)


async def _stored(db: Database) -> tuple[list[bytes], dict[tuple[int, int], bytes]]:
    async with db.read() as session:
        leaf_rows = await session.execute(select(tables.leaves.c.leaf_hash).order_by(tables.leaves.c["index"]))
        node_rows = await session.execute(select(tables.nodes.c.level, tables.nodes.c["index"], tables.nodes.c.hash))
        return list(leaf_rows.scalars()), {(lv, ix): h for lv, ix, h in node_rows}


def _expected_nodes(hashes: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Every complete subtree of the tree, computed from the leaf hashes alone."""
    expected, level = {}, 0
    while (1 << level) <= len(hashes):
        span = 1 << level
        for index in range(len(hashes) // span):
            expected[(level, index)] = root(hashes[index * span : (index + 1) * span])
        level += 1
    return expected


async def test_each_append_writes_the_subtrees_it_completes(audit: Audit):
    for _ in range(13):
        await audit.bus.publish(attachment_stored(OPS))
    assert len(await audit.settle(13)) == 13

    hashes, nodes = await _stored(audit.runtime.db)
    assert len(hashes) == 13
    # 13 leaves: 13 + 6 + 3 + 1 complete subtrees, no more, each the hash of exactly its leaves.
    assert nodes == _expected_nodes(hashes)
    assert len(nodes) == 23

    async with audit.runtime.db.read() as session:
        repo = LogRepository(session)
        assert await computed(repo, lambda get: tree_root(13, get)) == root(hashes)
        # A proof reads only the few nodes it needs (O(log n)), and they are the right ones.
        assert len(needed_nodes(lambda get: inclusion_proof(6, 13, get))) <= 2 * (13).bit_length()
        proof = await computed(repo, lambda get: inclusion_proof(6, 13, get))
        assert proof == inclusion_proof(6, 13, lambda lv, ix: nodes[(lv, ix)])
        assert await computed(repo, lambda get: consistency_proof(5, 13, get)) == consistency_proof(
            5, 13, lambda lv, ix: nodes[(lv, ix)]
        )


async def test_a_missing_node_is_reported_as_damage(audit: Audit):
    for _ in range(4):
        await audit.bus.publish(attachment_stored(OPS))
    await audit.settle(4)
    async with audit.runtime.db.transaction() as session:
        await session.execute(tables.nodes.delete().where(tables.nodes.c.level == 2))
    async with audit.runtime.db.read() as session:
        with pytest.raises(DamagedLog):
            await computed(LogRepository(session), lambda get: tree_root(4, get))


def _upgrade_to(connection, migrations: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", migrations)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_the_migration_backfills_nodes_for_leaves_logged_before_it(tmp_path):
    runtime = bootstrap.build(Settings(demo=True, data_dir=tmp_path), MemoryBus())
    db = runtime.db
    async with db.engine.connect() as conn:
        await conn.run_sync(_upgrade_to, runtime.migrations, "0001")
        await conn.commit()
    entries = [f'{{"n":{i}}}'.encode() for i in range(11)]
    async with db.transaction() as session:
        for i, entry in enumerate(entries):
            await session.execute(
                insert(tables.leaves).values(
                    index=i,
                    event_id=uuid.uuid4(),
                    type="attachment.stored.v1",
                    occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
                    entry=entry,
                    leaf_hash=hashlib.sha256(b"\x00" + entry).digest(),
                )
            )
    await upgrade(db, runtime.migrations)
    try:
        hashes, nodes = await _stored(db)
        assert len(hashes) == 11
        assert nodes == _expected_nodes(hashes)
    finally:
        await db.dispose()
