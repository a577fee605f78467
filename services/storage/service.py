"""Storage's use cases, each one unit of work: store an upload, read an attachment, check ownership, and let
a letter's recipients read what it carried."""

from __future__ import annotations

import asyncio
import logging
import tempfile
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from services.storage.adapters import tables
from services.storage.adapters.repository import AttachmentRepository
from services.storage.domain.attachments import (
    ZIP_CONTAINER,
    UploadRefused,
    clean_filename,
    office_type,
    refuse_type,
    sniff,
    storage_key,
)
from services.storage.domain.upload import FormUpload
from shared import thai
from shared.contracts import AttachmentStored, LetterSent
from shared.db import Database
from shared.objectstore import ObjectStore
from shared.outbox import stage
from shared.principal import Principal
from shared.problems import Problem, not_found
from shared.web import correlation_id

log = logging.getLogger("sarabun.storage")

SOURCE = "sarabun/storage"
# An ODF `mimetype` member is one short line; reading more would only invite a decompression bomb.
_ODF_MIMETYPE_LIMIT = 100


@dataclass(frozen=True)
class UploadPolicy:
    max_bytes: int
    spool_dir: Path  # on disk, next to the service's data: /tmp may be RAM


def _store_unavailable() -> Problem:
    return Problem(503, "ที่เก็บไฟล์ไม่พร้อมใช้งาน โปรดลองใหม่ภายหลัง (object store unavailable)")


async def store_attachment(
    db: Database,
    store: ObjectStore,
    body: AsyncIterator[bytes],
    content_type: str,
    who: Principal,
    policy: UploadPolicy,
) -> dict:
    """Streams the upload to a spool file, checks it, puts it in the object store, then records it and stages
    `attachment.stored` in one transaction. A refused or failed upload leaves neither row nor object."""
    attachment_id = uuid.uuid4()
    key = storage_key(attachment_id)
    try:
        with tempfile.TemporaryFile(dir=policy.spool_dir, prefix="upload-") as spool:
            upload = await _receive(body, content_type, policy.max_bytes, spool)
            detected = await _detect(upload.head, spool)
            await _put(store, key, spool, upload.size, detected)
    except UploadRefused as refused:
        raise Problem(refused.status, refused.message) from None
    row = {
        "id": attachment_id,
        "org_id": who.org_id,
        "filename": clean_filename(upload.filename),
        "content_type": detected,
        "size": upload.size,
        "sha256": upload.sha256,
        "storage_key": key,
        "created_by": who.user,
        "created_at": thai.now(),
    }
    try:
        async with db.transaction() as session:
            await AttachmentRepository(session).add(row)
            await stage(session, tables.outbox, _attachment_stored(row, who))
    except BaseException:
        # Without its row nobody can reach the object; remove it rather than keep an orphan.
        await _forget(store, key)
        raise
    return row


async def _receive(body: AsyncIterator[bytes], content_type: str, max_bytes: int, spool: BinaryIO) -> FormUpload:
    upload = FormUpload(content_type, max_bytes)
    async for chunk in body:
        upload.feed(chunk)
        if data := upload.take():
            await asyncio.to_thread(spool.write, data)
    upload.finish()
    await asyncio.to_thread(spool.flush)
    return upload


async def _detect(head: bytes, spool: BinaryIO) -> str:
    """The stored type comes from the bytes; the type the client declared is never trusted."""
    detected = sniff(head)
    if detected == ZIP_CONTAINER:
        detected = await asyncio.to_thread(_office_type, spool)
    if detected is None:
        raise refuse_type()
    return detected


def _office_type(spool: BinaryIO) -> str | None:
    spool.seek(0)
    try:
        with zipfile.ZipFile(spool) as archive:
            names = archive.namelist()
            mimetype = None
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    mimetype = member.read(_ODF_MIMETYPE_LIMIT)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, EOFError):
        # A damaged, encrypted or oddly compressed archive is not a document we can vouch for.
        return None
    return office_type(names, mimetype)


async def _put(store: ObjectStore, key: str, spool: BinaryIO, size: int, content_type: str) -> None:
    spool.seek(0)
    try:
        await store.put(key, spool, size, content_type)
    except Exception:  # noqa: BLE001 - whatever the store's SDK raises, the caller can only retry later
        log.warning("object store refused %s", key, exc_info=True)
        await _forget(store, key)
        raise _store_unavailable() from None


async def _forget(store: ObjectStore, key: str) -> None:
    try:
        await store.delete(key)
    except Exception:  # noqa: BLE001 - best effort: the store may be the thing that is away
        log.warning("could not remove object %s", key, exc_info=True)


def _attachment_stored(row: dict, who: Principal):
    event = AttachmentStored(
        attachment_id=row["id"],
        org_id=row["org_id"],
        sha256=row["sha256"],
        size=row["size"],
        content_type=row["content_type"],
        stored_at=row["created_at"],
    )
    return event.envelope(source=SOURCE, subject=str(row["id"]), actor=who.user, correlation_id=correlation_id.get())


async def get_attachment(db: Database, attachment_id: uuid.UUID, who: Principal) -> dict:
    async with db.read() as session:
        attachment = await AttachmentRepository(session).get_readable(attachment_id, who.org_id)
    if attachment is None:
        raise not_found("ไฟล์แนบ")
    return attachment


async def open_content(
    db: Database, store: ObjectStore, attachment_id: uuid.UUID, who: Principal
) -> tuple[dict, AsyncIterator[bytes]]:
    """The attachment and its bytes. The first chunk is read here, so a store that is away is answered with
    503 before any header is sent, instead of breaking off a download that has already begun."""
    attachment = await get_attachment(db, attachment_id, who)
    chunks = store.stream(attachment["storage_key"])
    try:
        first = await anext(chunks)
    except StopAsyncIteration:
        first = b""
    except Exception:  # noqa: BLE001 - whatever the store's SDK raises, the caller can only retry later
        log.warning("object store could not read %s", attachment["storage_key"], exc_info=True)
        raise _store_unavailable() from None
    return attachment, _prepend(first, chunks)


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in rest:
        yield chunk


async def check_owned(db: Database, attachment_ids: list[uuid.UUID], who: Principal) -> None:
    """Before a letter is sent: every attachment must be one the sender's unit uploaded itself."""
    wanted = list(dict.fromkeys(attachment_ids))
    async with db.read() as session:
        owned = await AttachmentRepository(session).owned_ids(wanted, who.org_id)
    unknown = [str(a) for a in wanted if a not in owned]
    if unknown:
        raise Problem(
            422,
            f"ไม่พบไฟล์แนบหรือไม่ใช่ของหน่วยงานท่าน (unknown attachment_ids): {', '.join(unknown)}",
            errors=[{"field": "ids", "message": f"unknown attachment id {a}"} for a in unknown],
        )


async def grant_to_recipients(session, event: LetterSent) -> None:
    """Runs inside the consumer's unit of work (its inbox row commits with these grants). Only attachments
    the sender owns are granted: a letter cannot hand out another unit's files."""
    repo = AttachmentRepository(session)
    carried = list(dict.fromkeys(event.attachment_ids))
    owned = await repo.owned_ids(carried, event.sender_org_id)
    if len(owned) != len(carried):
        log.warning(
            "letter %s carries attachments its sender does not own; not granted: %s",
            event.letter_id,
            [str(a) for a in carried if a not in owned],
        )
    recipients = {d.recipient_org_id for d in event.deliveries}
    await repo.grant(owned, recipients, event.letter_id, thai.now())
