"""Signed checkpoints: the key, when to sign, and the rule that a checkpoint is only ever signed when the
tree it commits to extends the previous one.

Checkpoints are issued every `checkpoint_every` appends, every `checkpoint_seconds` while the log grows, and
on demand when the API is asked for one and the newest no longer covers the log. Each is kept in the
`checkpoints` table and also written to the object store, so a copy survives outside the database.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.audit.adapters.repository import LogRepository
from services.audit.domain.merkle import consistency_proof, tree_root, verify_consistency
from services.audit.domain.note import public_bytes, signed_checkpoint, verifier_key_text
from services.audit.service import DamagedLog, computed
from shared.db import Database
from shared.objectstore import ObjectStore
from shared.settings import Settings

log = logging.getLogger("sarabun.audit.checkpoints")

DEMO_KEY_FILE = "audit-signing.key"


class CheckpointSettings(BaseSettings):
    """The audit service's own knobs (SARABUN_AUDIT_*); the signing key itself is in shared settings."""

    model_config = SettingsConfigDict(env_prefix="SARABUN_AUDIT_", extra="ignore")

    origin: str = Field("sarabun.example/audit", pattern=r"^[^\s+]+$")
    checkpoint_every: int = Field(100, ge=1)
    checkpoint_seconds: float = Field(10.0, gt=0)


def load_signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The configured key; in demo mode without one, the key in data_dir, generated on first start. Outside
    demo mode a missing or malformed key refuses the start (settings raise)."""
    seed = settings.audit_signing_seed()
    if seed is not None:
        return Ed25519PrivateKey.from_private_bytes(seed)
    return _demo_key(settings.data_dir / DEMO_KEY_FILE)


def _demo_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_text("ascii").strip()))
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written readable by the owner only, and never to the database. Linked into place only when complete,
    # so a replica starting at the same moment reads a whole key or writes its own; the first link wins.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".audit-key-")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(base64.b64encode(seed).decode("ascii") + "\n")
        os.link(tmp, path)
    except FileExistsError:
        return _demo_key(path)
    finally:
        os.unlink(tmp)
    log.warning("demo mode: generated the audit signing key in %s", path)
    return key


def object_key(size: int) -> str:
    return f"audit/checkpoints/{size}"


class Checkpointer:
    def __init__(self, db: Database, store: ObjectStore, key: Ed25519PrivateKey, config: CheckpointSettings):
        self.db = db
        self.store = store
        self.key = key
        self.config = config
        self._since_checkpoint = 0  # leaves appended since the last checkpoint this process signed
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()  # one signer at a time in this process; replicas are settled by the table

    @property
    def public_key_text(self) -> str:
        return verifier_key_text(self.config.origin, public_bytes(self.key))

    async def latest(self) -> str | None:
        """The newest checkpoint, signing a fresh one first when the log has grown past it."""
        note = await self.issue()
        if note is not None:
            return note
        async with self.db.read() as session:
            row = await LogRepository(session).latest_checkpoint()
        return row["note"] if row else None

    async def issue(self) -> str | None:
        """Signs a checkpoint of the whole log if it has grown since the last one; None when nothing new."""
        async with self._lock:
            async with self.db.transaction() as session:
                repo = LogRepository(session)
                size = await repo.size()
                previous = await repo.latest_checkpoint()
                if size == 0 or (previous is not None and previous["size"] >= size):
                    return None
                root = await computed(repo, lambda get: tree_root(size, get))
                if previous is not None:
                    await _check_extends(repo, previous, size, root)
                note = signed_checkpoint(self.config.origin, size, root, self.key)
                await repo.add_checkpoint(size, root, note, datetime.now(UTC))
            self._since_checkpoint = 0
        await self._publish(size, note)
        log.info("signed checkpoint of %d leaves", size)
        return note

    async def _publish(self, size: int, note: str) -> None:
        data = note.encode("utf-8")
        try:
            await self.store.put(object_key(size), io.BytesIO(data), len(data), "text/plain; charset=utf-8")
        except Exception:  # noqa: BLE001 - the table holds it; the copy is retried with the next checkpoint
            log.exception("could not copy checkpoint %d to the object store", size)

    async def appended(self, count: int) -> None:
        """Called after each committed batch with the number of leaves it appended: once `checkpoint_every`
        leaves have been appended since the last checkpoint, one is signed (one decision per batch)."""
        self._since_checkpoint += count
        if self._since_checkpoint >= self.config.checkpoint_every:
            await self._issue_logged()

    async def _issue_logged(self) -> None:
        try:
            await self.issue()
        except Exception:  # noqa: BLE001 - a failed signing must not lose the event or stop the timer
            log.exception("checkpoint not signed")

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.config.checkpoint_seconds)
            await self._issue_logged()

    async def start(self) -> None:
        await self.store.ensure()
        self._task = asyncio.create_task(self._tick())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None


async def _check_extends(repo: LogRepository, previous, size: int, root: bytes) -> None:
    """Refuses to sign a tree that does not extend the last signed one: once a checkpoint is out, a rewritten
    history must show as an error here, never as a new signature."""
    proof = await computed(repo, lambda get: consistency_proof(previous["size"], size, get))
    old_root = await computed(repo, lambda get: tree_root(previous["size"], get))
    if old_root != previous["root"] or not verify_consistency(previous["size"], size, previous["root"], root, proof):
        log.error("the log of %d leaves does not extend checkpoint %d; not signing", size, previous["size"])
        raise DamagedLog(f"log does not extend checkpoint {previous['size']}")
