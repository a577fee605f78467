"""Upgrading a database with letters from before central registries: each letter was numbered in its
sender's own register, and numbers stay unique per register (SQLite and PostgreSQL)."""

import uuid

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

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
