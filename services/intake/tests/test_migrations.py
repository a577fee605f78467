"""Upgrading a database with letters from before central registries: each letter was numbered in its
sender's own register, and numbers stay unique per register (SQLite and PostgreSQL). Drafts arrive beside
the letters, and go again on a downgrade."""

import uuid
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from services.intake.adapters import tables
from shared.db import Database

MIGRATIONS = "services/intake/migrations"
COLUMNS = (
    "id, doc_no, register, register_no, register_year, sender_org_id, letter_type, subject, body, urgency, secrecy, "
    "circular, salutation, signer_name, signer_position, attachment_ids, reference_letter_ids, status, sent_at, sent_by"
)
VALUES = (
    ":id, :doc_no, 'send', :no, 2569, :sender, 'internal', 'เรื่อง', '', 'normal', 'normal', false, '', '', '', "
    "'[]', '[]', 'sent', CURRENT_TIMESTAMP, 'clerk'"
)
OLD_LETTER = f"INSERT INTO letters ({COLUMNS}) VALUES ({VALUES})"
NEW_LETTER = f"INSERT INTO letters ({COLUMNS}, register_org_id) VALUES ({VALUES}, :register)"


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


def uid(db: Database, value: uuid.UUID):
    return value.hex if db.is_sqlite else value  # SQLite keeps a UUID as 32 hex characters


async def insert(db: Database, sql: str, sender: uuid.UUID, number: int, register: uuid.UUID | None = None) -> None:
    params = {"id": uid(db, uuid.uuid4()), "doc_no": f"กค 0400/{number}", "no": number, "sender": uid(db, sender)}
    async with db.transaction() as session:
        await session.execute(text(sql), {**params, **({"register": uid(db, register)} if register else {})})


async def check_upgrade(db: Database) -> None:
    cgd, rd, secretariat = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await migrate(db, "0003")
    await insert(db, OLD_LETTER, cgd, 1)
    await insert(db, OLD_LETTER, rd, 1)
    await migrate(db, "head")
    async with db.read() as session:
        rows = (await session.execute(text("SELECT sender_org_id, register_org_id FROM letters"))).all()
    assert len(rows) == 2 and all(sender == register for sender, register in rows)
    await insert(db, NEW_LETTER, secretariat, 2, register=cgd)  # the next number of cgd's register
    with pytest.raises(IntegrityError):  # number 1 of cgd's register is taken, whichever unit sends now
        await insert(db, NEW_LETTER, secretariat, 1, register=cgd)


async def test_letters_from_before_keep_their_numbers_in_their_senders_registers_sqlite(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}", schema="intake")
    try:
        await check_upgrade(db)
    finally:
        await db.dispose()


async def test_letters_from_before_keep_their_numbers_in_their_senders_registers_postgres(postgres_url):
    db = Database(postgres_url, schema=f"intake_{uuid.uuid4().hex[:8]}")
    try:
        await check_upgrade(db)
    finally:
        await db.dispose()


# ── 0006: drafts ───────────────────────────────────────────────────────────────────────────────────────


def _down(connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def tables_present(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names(schema=None)))


async def check_drafts(db: Database) -> None:
    """Drafts arrive beside the letters already there, and their numbers are unique per register like the
    letters'; going back to 0005 takes them away and leaves the letters."""
    await migrate(db, "0005")
    await insert(db, NEW_LETTER, uuid.uuid4(), 1, register=uuid.uuid4())
    await migrate(db, "head")
    assert {"drafts", "draft_versions", "draft_steps", "draft_line"} <= await tables_present(db)
    register = uuid.uuid4()
    async with db.transaction() as session:
        for number in (1, 2):
            await session.execute(insert_draft(register, number))
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await session.execute(insert_draft(register, 2))
    async with db.engine.connect() as conn:
        await conn.run_sync(_down, "0005")
        await conn.commit()
    assert not {"drafts", "draft_versions", "draft_steps", "draft_line"} & await tables_present(db)
    async with db.read() as session:
        assert (await session.execute(text("SELECT count(*) FROM letters"))).scalar_one() == 1
    await migrate(db, "head")


def insert_draft(register: uuid.UUID, number: int):
    now = datetime.now(UTC)
    return tables.drafts.insert().values(
        id=uuid.uuid4(),
        org_id=register,
        org_name="กองงบประมาณ",
        letter_code="กค 0402",
        register_org_id=register,
        author="cgd.officer",
        status="signing",
        version=1,
        step=0,
        current_username="cgd.dg",
        last_step="proposed",
        reviewers=[],
        signer={"username": "cgd.dg", "display_name": "", "position": ""},
        signer_username="cgd.dg",
        secrecy="normal",
        register="send",
        register_no=number,
        register_year=2569,
        doc_no=f"กค 0402/{number}",
        created_at=now,
        updated_at=now,
    )


async def test_drafts_table_upgrade_and_downgrade_sqlite(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}", schema="intake")
    try:
        await check_drafts(db)
    finally:
        await db.dispose()


async def test_drafts_table_upgrade_and_downgrade_postgres(postgres_url):
    db = Database(postgres_url, schema=f"intake_{uuid.uuid4().hex[:8]}")
    try:
        await check_drafts(db)
    finally:
        await db.dispose()
