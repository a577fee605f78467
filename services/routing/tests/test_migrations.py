"""Upgrading a database whose directory was never announced to the services keeping a copy of it: each unit is
announced once, as it is now, in the outbox (SQLite and PostgreSQL); a fresh database announces nothing."""

import uuid
from datetime import date

from alembic import command
from alembic.config import Config
from sqlalchemy import select, text

from services.routing.adapters import tables
from shared.contracts import Envelope
from shared.db import Database

MIGRATIONS = "services/routing/migrations"
UNIT = (
    "INSERT INTO orgs (id, key, code, name, kind, parent_id, own_registers, valid_from, valid_to) "
    "VALUES (:id, :key, :code, :name, :kind, :parent, :own, :valid_from, :valid_to)"
)


def _to(connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def migrate(db: Database, revision: str) -> None:
    async with db.engine.connect() as conn:
        if not db.is_sqlite:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
        await conn.run_sync(_to, revision)
        await conn.commit()


def uid(db: Database, value: uuid.UUID | None):
    return value.hex if db.is_sqlite and value else value  # SQLite keeps a UUID as 32 hex characters


async def announced(db: Database) -> list[Envelope]:
    async with db.read() as session:
        bodies = (await session.execute(select(tables.outbox.c.body).order_by(tables.outbox.c.seq))).scalars()
        return [Envelope.decode(body.encode()) for body in bodies]


async def check_upgrade(db: Database) -> None:
    mof, rd, old = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await migrate(db, "0006")
    async with db.transaction() as session:
        for key, org, kind, parent, valid_to in (
            ("mof", mof, "ministry", None, None),
            ("rd", rd, "department", mof, None),
            ("rd.old", old, "division", rd, date(2026, 1, 31)),
        ):
            row = {"id": uid(db, org), "key": key, "code": f"กค {key}", "name": key, "kind": kind}
            extra = {"parent": uid(db, parent), "own": True, "valid_from": None, "valid_to": valid_to}
            await session.execute(text(UNIT), {**row, **extra})
    await migrate(db, "head")
    events = {e.subject: e for e in await announced(db)}
    assert set(events) == {str(mof), str(rd), str(old)}
    assert {(e.type, e.actor, e.source) for e in events.values()} == {
        ("directory.unit.added.v1", "system", "sarabun/routing")
    }
    retired = events[str(old)].data
    assert (retired["parent_org_id"], retired["unit"]["parent_key"]) == (str(rd), "rd")
    assert (retired["unit"]["kind"], retired["unit"]["valid_to"]) == ("division", "2026-01-31")
    assert events[str(mof)].data["parent_org_id"] is None


async def test_an_upgraded_directory_is_announced_once_per_unit_sqlite(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'routing.db'}", schema="routing")
    try:
        await check_upgrade(db)
    finally:
        await db.dispose()


async def test_an_upgraded_directory_is_announced_once_per_unit_postgres(postgres_url):
    db = Database(postgres_url, schema=f"routing_{uuid.uuid4().hex[:8]}")
    try:
        await check_upgrade(db)
    finally:
        await db.dispose()


async def test_a_fresh_database_announces_nothing(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'routing.db'}", schema="routing")
    try:
        await migrate(db, "head")
        assert await announced(db) == []
    finally:
        await db.dispose()
