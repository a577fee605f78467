"""Alembic, run from code: each service keeps its own `migrations/` folder and version table (in its own
schema on PostgreSQL). Concurrent replicas take an advisory lock so only one migrates at a time."""

from __future__ import annotations

import zlib

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from shared.db import Database


async def upgrade(db: Database, script_location: str) -> None:
    async with db.engine.connect() as conn:
        if not db.is_sqlite:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": zlib.crc32(db.schema.encode())})
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
            await conn.commit()
        try:
            await conn.run_sync(_upgrade, script_location)
            await conn.commit()
        finally:
            if not db.is_sqlite:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": zlib.crc32(db.schema.encode())})
                await conn.commit()


def _upgrade(connection, script_location: str) -> None:
    config = Config()
    config.set_main_option("script_location", script_location)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def run_env(context, metadata) -> None:
    """The body of every service's migrations/env.py."""
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
