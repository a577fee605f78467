"""Thai has no spaces between words, so search is by substring, made fast on PostgreSQL by trigram (pg_trgm)
GIN indexes, which serve `LIKE '%…%'` for any fragment of three or more characters, mid-word included.
Migrations call `create_trigram_index`; on SQLite (embedded mode, small data) the plain scan is enough."""

from __future__ import annotations

from alembic import op


def create_trigram_index(table: str, column: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # One extension per database, shared by every service schema, hence the explicit schema. Services
    # migrate concurrently and IF NOT EXISTS is not race-safe, so the creation is serialised by a lock.
    op.execute("SELECT pg_advisory_xact_lock(hashtext('sarabun:pg_trgm'))")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    op.execute(
        f"CREATE INDEX IF NOT EXISTS ix_{table}_{column}_trgm ON {table} USING gin ({column} public.gin_trgm_ops)"
    )


def drop_trigram_index(table: str, column: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_{column}_trgm")
