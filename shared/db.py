"""The database port: one engine per service, a schema per service on PostgreSQL, a file per service on
SQLite. Handlers get sessions from `Database.transaction()` and never learn which database it is."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC
from pathlib import Path

from sqlalchemy import DateTime, TypeDecorator, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger("sarabun.db")

POOL_SIZE = 10
POOL_OVERFLOW = 5


class Database:
    def __init__(self, url: str, schema: str):
        self.url = url
        self.schema = schema
        self.is_sqlite = url.startswith("sqlite")
        self.engine: AsyncEngine = self._engine()
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has a single writer; serialising writers in-process avoids "database is locked".
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self._after_commit: list[Callable[[], None]] = []

    def _engine(self) -> AsyncEngine:
        if self.is_sqlite:
            path = self.url.split("///", 1)[1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_async_engine(self.url, connect_args={"timeout": 30})
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
            return engine
        return create_async_engine(
            self.url,
            # No ping before each checkout: it is a round trip per transaction. A connection that died (the
            # server restarted, a link was cut) fails its statement instead, SQLAlchemy drops the pool's stale
            # connections with it, and the error is transient: the client gets a 503 and the consumer's
            # message is retried, both on fresh connections.
            pool_pre_ping=False,
            # Enough kept-open connections for a busy process, so bursts reuse them instead of opening and
            # closing overflow connections (five processes stay within PostgreSQL's default 100).
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
            connect_args={"server_settings": {"search_path": self.schema}},
        )

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Called after every committed write transaction (wakes the outbox relay)."""
        self._after_commit.append(callback)

    @contextlib.asynccontextmanager
    async def transaction(self, notify: bool = True) -> AsyncIterator[AsyncSession]:
        """One unit of work: everything written inside commits together or not at all."""
        lock = self._write_lock or contextlib.nullcontext()
        async with lock:
            async with self.sessions() as session, session.begin():
                yield session
        if notify:
            for callback in self._after_commit:
                callback()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - readiness reports any failure as not ready
            return False

    async def wait_until_reachable(self, attempts: int = 60) -> None:
        """Start-up waits for the database instead of crashing on it."""
        delay = 0.5
        for attempt in range(1, attempts + 1):
            if await self.ping():
                return
            log.warning("database %s not reachable (attempt %d); retrying in %.1fs", self.schema, attempt, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5)
        raise RuntimeError(f"database for {self.schema} not reachable")

    async def dispose(self) -> None:
        await self.engine.dispose()


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC that always comes back with its offset. SQLite keeps no offset, so without
    this the same row would read as aware on PostgreSQL and naive on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        # SQLite would keep the wall-clock time and drop the offset, so 10:00+07:00 must become 03:00 first.
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def insert_ignore(session: AsyncSession, table, **values):
    """INSERT ... ON CONFLICT DO NOTHING on either database."""
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).values(**values).on_conflict_do_nothing()
