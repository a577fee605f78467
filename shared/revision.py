"""`sarabun revision SERVICE MESSAGE`: autogenerate a migration for one service against an empty SQLite."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

from shared.db import Database
from shared.migrate import upgrade


async def autogenerate(migrations: str, message: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'rev.db'}", schema="rev")
        await upgrade(db, migrations)
        async with db.engine.connect() as conn:
            await conn.run_sync(_revision, migrations, message)
        await db.dispose()


def _revision(connection, migrations: str, message: str) -> None:
    config = Config()
    config.set_main_option("script_location", migrations)
    config.attributes["connection"] = connection
    number = len(list((Path(migrations) / "versions").glob("*.py"))) + 1
    command.revision(config, message=message, autogenerate=True, rev_id=f"{number:04d}")


if __name__ == "__main__":
    import sys

    asyncio.run(autogenerate(sys.argv[1], sys.argv[2]))
