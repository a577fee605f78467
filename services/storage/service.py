"""Storage's use cases, each one unit of work: store an upload, read an attachment, check ownership, let a
letter's recipients read what it carried, stamp the copies a receiving unit registered (ตรารับ), render a letter
in its official layout, sign it (ลงนาม), and verify the signatures a sent letter carries.

An attachment carried by a classified letter (ลับ, ลับมาก) is read only by users cleared for it; the others get
the same 404 as for a file outside their unit's scope, and the refusal is audited, as is every download of a
classified file."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import tempfile
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from pyhanko.sign.timestamps import TimeStamper
from sqlalchemy.exc import IntegrityError

from services.storage.adapters import tables
from services.storage.adapters.keys import SigningKeys
from services.storage.adapters.repository import AttachmentRepository
from services.storage.domain.attachments import (
    PDF,
    ZIP_CONTAINER,
    UploadRefused,
    clean_filename,
    office_type,
    pdf_flags,
    refuse_type,
    sniff,
    stamped_storage_key,
    storage_key,
)
from services.storage.domain.clearance import Classification, is_classified
from services.storage.domain.layout import Letter, render_letter
from services.storage.domain.pages import page_count
from services.storage.domain.signing import (
    SIGNATURE_MARKER,
    Appearance,
    SignatureCheck,
    SigningRefused,
    sign_pdf,
    verify_pdf,
)
from services.storage.domain.stamp import ReceiptStamp, StampError, stamp_pdf
from services.storage.domain.upload import FormUpload
from shared import thai
from shared.contracts import (
    AccessDenied,
    AttachmentDownloaded,
    AttachmentStored,
    DeliveryForwarded,
    DeliveryReceived,
    Envelope,
    LetterSent,
    SignatureInvalid,
)
from shared.db import Database
from shared.objectstore import CHUNK, ObjectStore
from shared.outbox import stage
from shared.principal import Principal
from shared.problems import Problem, not_found
from shared.web import correlation_id

log = logging.getLogger("sarabun.storage")

SOURCE = "sarabun/storage"
# An ODF `mimetype` member is one short line; reading more would only invite a decompression bomb.
_ODF_MIMETYPE_LIMIT = 100
ATTACHMENT = "ไฟล์แนบ"
STAMPED_COPY = "สำเนาประทับตรารับ"
LETTER = "หนังสือ"
SYSTEM = "system"  # the actor of what storage does on its own, such as verifying a delivered letter


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
            flags = await asyncio.to_thread(_flags, spool) if detected == PDF else []
            pages = await asyncio.to_thread(page_count, spool) if detected == PDF else None
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
        "flags": flags,
        "pages": pages,
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


def _flags(spool: BinaryIO) -> list[str]:
    spool.seek(0)
    return pdf_flags(iter(lambda: spool.read(CHUNK), b""))


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
    attachment, _ = await _read_cleared(db, attachment_id, who)
    return attachment


async def open_content(
    db: Database, store: ObjectStore, attachment_id: uuid.UUID, who: Principal
) -> tuple[dict, AsyncIterator[bytes]]:
    """The attachment and its bytes. The first chunk is read here, so a store that is away is answered with
    503 before any header is sent, instead of breaking off a download that has already begun."""
    attachment, classification = await _read_cleared(db, attachment_id, who)
    chunks = await _first_chunk_then_rest(store, attachment["storage_key"])
    await _record_download(db, attachment_id, classification, who)
    return attachment, chunks


async def _read_cleared(db: Database, attachment_id: uuid.UUID, who: Principal) -> tuple[dict, Classification]:
    """The attachment if the unit may read it and the user is cleared for its secrecy; 404 otherwise."""
    async with db.read() as session:
        repo = AttachmentRepository(session)
        attachment = await repo.get_readable(attachment_id, who.org_id)
        classification = await repo.classification(attachment_id) if attachment else None
    if attachment is None:
        raise not_found(ATTACHMENT)
    await _require_clearance(db, attachment_id, classification, who, ATTACHMENT)
    return attachment, classification


async def _require_clearance(
    db: Database, attachment_id: uuid.UUID, classification: Classification, who: Principal, what: str
) -> None:
    """A user not cleared for the file gets the same 404 as for one outside the unit's scope, so the answer
    does not tell that it exists; the refusal is audited in its own transaction."""
    if who.cleared_for(classification.level):
        return
    async with db.transaction() as session:
        await stage(session, tables.outbox, _access_denied(attachment_id, classification, who))
    log.info("access to attachment %s refused to %s: not cleared", attachment_id, who.user)
    raise not_found(what)


async def _record_download(
    db: Database, attachment_id: uuid.UUID, classification: Classification, who: Principal
) -> None:
    """Every download of a classified file is audited; normal files are not."""
    if not is_classified(classification.level):
        return
    async with db.transaction() as session:
        await stage(session, tables.outbox, _attachment_downloaded(attachment_id, classification, who))


def _access_denied(attachment_id: uuid.UUID, classification: Classification, who: Principal) -> Envelope:
    event = AccessDenied(
        resource="attachment",
        resource_id=attachment_id,
        letter_id=classification.letter_id,
        org_id=who.org_id,
        secrecy=classification.level,
        denied_at=thai.now(),
    )
    return _envelope(event, attachment_id, who)


def _attachment_downloaded(attachment_id: uuid.UUID, classification: Classification, who: Principal) -> Envelope:
    event = AttachmentDownloaded(
        attachment_id=attachment_id,
        letter_id=classification.letter_id,
        org_id=who.org_id,
        secrecy=classification.level,
        downloaded_at=thai.now(),
    )
    return _envelope(event, attachment_id, who)


def _envelope(event: AccessDenied | AttachmentDownloaded, attachment_id: uuid.UUID, who: Principal) -> Envelope:
    return event.envelope(
        source=SOURCE, subject=str(attachment_id), actor=who.user, correlation_id=correlation_id.get()
    )


async def _first_chunk_then_rest(store: ObjectStore, key: str) -> AsyncIterator[bytes]:
    chunks = store.stream(key)
    try:
        first = await anext(chunks)
    except StopAsyncIteration:
        first = b""
    except Exception:  # noqa: BLE001 - whatever the store's SDK raises, the caller can only retry later
        log.warning("object store could not read %s", key, exc_info=True)
        raise _store_unavailable() from None
    return _prepend(first, chunks)


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


async def grant_to_recipients(session, events: list[LetterSent]) -> None:
    """Runs inside the consumer's unit of work (its inbox rows commit with these grants), for a batch of
    letters in a few statements. Only attachments the sender owns are granted: a letter cannot hand out
    another unit's files. A letter twice in the batch is handled once."""
    first: dict[uuid.UUID, LetterSent] = {}
    for event in events:
        first.setdefault(event.letter_id, event)
    letters = list(first.values())
    carried = {letter.letter_id: list(dict.fromkeys(letter.attachment_ids)) for letter in letters}
    repo = AttachmentRepository(session)
    owners = await repo.owners(list(dict.fromkeys(a for ids in carried.values() for a in ids)))
    pairs, recorded = [], []
    for letter in letters:
        owned = [a for a in carried[letter.letter_id] if owners.get(a) == letter.sender_org_id]
        if len(owned) != len(carried[letter.letter_id]):
            log.warning(
                "letter %s carries attachments its sender does not own; not granted: %s",
                letter.letter_id,
                [str(a) for a in carried[letter.letter_id] if a not in owned],
            )
        recipients = sorted({d.recipient_org_id for d in letter.deliveries})
        pairs += [(a, org, letter.letter_id) for a in sorted(owned) for org in recipients]
        recorded.append((letter.letter_id, letter.secrecy, owned))
    now = thai.now()
    await repo.grant(pairs, now)
    await repo.record_letters(recorded, now)


async def grant_to_forwarded(session, event: DeliveryForwarded) -> None:
    """ส่งต่อ: the units a letter is forwarded to may read what it carried, like its first recipients."""
    repo = AttachmentRepository(session)
    if not await repo.letter_known(event.letter_id):
        raise LetterNotHandledYet(f"letter {event.letter_id} not recorded yet")
    recipients = sorted({d.recipient_org_id for d in event.deliveries})
    carried = sorted(await repo.carried_by(event.letter_id))
    await repo.grant([(a, org, event.letter_id) for a in carried for org in recipients], thai.now())


class LetterNotHandledYet(Exception):
    """A receipt arrived before the `letter.sent` that says what the letter carried. The bus delivers each
    queue in its own order, so this is a race, not an error: the receipt is retried later."""


async def render_stamped_copies(db: Database, store: ObjectStore, event: DeliveryReceived) -> list[dict]:
    """Renders and stores the receipt-stamped copies a registered delivery calls for, and returns their rows
    for the caller to record. Copies already recorded are not rendered again.

    Runs outside any transaction: rendering takes CPU time, and a transaction held open meanwhile would keep
    every other writer waiting (SQLite has one writer). An object put here whose row is then not committed is
    rendered again to the same bytes under the same key when the message is retried, so nothing is left over.
    """
    async with db.read() as session:
        repo = AttachmentRepository(session)
        if not await repo.letter_known(event.letter_id):
            raise LetterNotHandledYet(f"letter {event.letter_id} not handled yet; receipt {event.delivery_id} waits")
        pending = await repo.pdfs_to_stamp(event.letter_id, event.recipient_org_id, event.delivery_id)
    stamp = ReceiptStamp(unit_name=event.recipient_org_name, receive_no=event.receive_no, received_at=event.received_at)
    rows = []
    for attachment in pending:
        row = await _stamp_copy(store, attachment, stamp, event)
        if row is not None:
            rows.append(row)
    return rows


async def _stamp_copy(
    store: ObjectStore, attachment: dict, stamp: ReceiptStamp, event: DeliveryReceived
) -> dict | None:
    original = await _read_object(store, attachment["storage_key"], attachment["size"])
    if hashlib.sha256(original).hexdigest() != attachment["sha256"]:
        # The stored bytes are not the ones that were uploaded; stamping them would certify something else.
        log.error("attachment %s does not match its SHA-256; not stamped", attachment["id"])
        return None
    try:
        stamped = await asyncio.to_thread(stamp_pdf, original, stamp)
    except StampError as exc:
        # Detected as a PDF on upload but not one that can be drawn on: the original stays readable, and a
        # retry would fail the same way, so the receipt goes on without a stamped copy of this file.
        log.warning("attachment %s of letter %s not stamped: %s", attachment["id"], event.letter_id, exc)
        return None
    key = stamped_storage_key(event.delivery_id, attachment["id"])
    # A store that is away raises here and the message is retried: the copy is owed, not impossible.
    await store.put(key, io.BytesIO(stamped), len(stamped), PDF)
    return {
        "delivery_id": event.delivery_id,
        "attachment_id": attachment["id"],
        "recipient_org_id": event.recipient_org_id,
        "ordinal": attachment["ordinal"],
        "storage_key": key,
        "sha256": hashlib.sha256(stamped).hexdigest(),
        "size": len(stamped),
        "created_at": thai.now(),
    }


async def _read_object(store: ObjectStore, key: str, size: int) -> bytes:
    """The whole object (pypdf needs to seek), refusing to hold more than the size recorded for it."""
    data = bytearray()
    # Closed on leaving early too, so the file or the S3 response is released at once.
    async with contextlib.aclosing(store.stream(key)) as chunks:
        async for chunk in chunks:
            data += chunk
            if len(data) > size:
                break
    return bytes(data)


async def record_stamped_copies(session, rows: list[dict]) -> None:
    """Runs inside the consumer's unit of work, so the copies and the inbox row commit together."""
    await AttachmentRepository(session).add_stamped(rows)


async def open_stamped(
    db: Database, store: ObjectStore, delivery_id: uuid.UUID, who: Principal
) -> tuple[dict, AsyncIterator[bytes]]:
    """The stamped copy of a delivery and its bytes, for the unit that received it only, and only for users
    cleared for the original attachment's secrecy."""
    async with db.read() as session:
        repo = AttachmentRepository(session)
        copy = await repo.get_stamped(delivery_id, who.org_id)
        classification = await repo.classification(copy["attachment_id"]) if copy else None
    if copy is None:
        raise not_found(STAMPED_COPY)
    await _require_clearance(db, copy["attachment_id"], classification, who, STAMPED_COPY)
    chunks = await _first_chunk_then_rest(store, copy["storage_key"])
    await _record_download(db, copy["attachment_id"], classification, who)
    return copy, chunks


@dataclass(frozen=True)
class Signing:
    """What rendering and signing need: the keys, a timestamp authority (B-T) if any, the garuda image if any.

    Drawing a letter takes about 0.2 s for two pages and up to ten seconds for the longest body a letter may
    have; at most `drawing` letters are drawn at once, so long ones never hold every worker thread that uploads
    and stamps need too."""

    keys: SigningKeys
    timestamper: TimeStamper | None = None
    garuda: Path | None = None
    drawing: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))


async def render(signing: Signing, letter: Letter) -> bytes:
    """The letter in its official layout, not stored: a preview, or a draft's current version."""
    async with signing.drawing:
        return await asyncio.to_thread(render_letter, letter, signing.garuda)


async def sign_draft(
    db: Database,
    store: ObjectStore,
    signing: Signing,
    draft_id: uuid.UUID,
    letter: Letter,
    appearance: Appearance,
    orgs: tuple[uuid.UUID, ...],
    who: Principal,
) -> dict:
    """Renders the letter with its number and date, signs it with the caller's key and stores it as an attachment
    of the first of `orgs` (the letter's sender), readable by the others and by the signer's own unit until the
    letter is sent. Once per draft: asked again, it answers the PDF signed the first time."""
    owner_org_id = orgs[0]
    done = await _signed_draft(db, draft_id, owner_org_id)
    if done is not None:
        return done
    if not letter.doc_no or letter.doc_date is None:
        raise Problem(422, "หนังสือที่จะลงนามต้องมีเลขที่และวันที่ (doc_no and doc_date are required to sign)")
    if not appearance.name:
        raise Problem(422, "ต้องระบุชื่อผู้ลงนาม (signature.name is required to sign)")
    async with signing.drawing:
        signed = await asyncio.to_thread(_render_and_sign, signing, letter, appearance, who.user)
    attachment_id = uuid.uuid4()
    key = storage_key(attachment_id)
    await _put(store, key, io.BytesIO(signed.pdf), len(signed.pdf), PDF)
    row = {
        "id": attachment_id,
        "org_id": owner_org_id,
        "filename": clean_filename(f"หนังสือ {letter.doc_no.replace('/', '-')}.pdf"),
        "content_type": PDF,
        "size": len(signed.pdf),
        "sha256": hashlib.sha256(signed.pdf).hexdigest(),
        "flags": pdf_flags([signed.pdf]),
        "pages": page_count(io.BytesIO(signed.pdf)),
        "storage_key": key,
        "created_by": who.user,
        "created_at": appearance.signed_at,
    }
    draft_row = {
        "draft_id": draft_id,
        "attachment_id": attachment_id,
        "signer": who.user,
        "signer_name": signed.signer_name[:300],
        "signed_at": appearance.signed_at,
    }
    try:
        async with db.transaction() as session:
            repo = AttachmentRepository(session)
            await repo.add(row)
            await repo.add_signed_draft(draft_row)
            # Those who signed it and the registry that dispatches it read it too; the grant names the draft.
            readers = dict.fromkeys(org for org in (*orgs[1:], who.org_id) if org != owner_org_id)
            await repo.grant([(attachment_id, org, draft_id) for org in readers], appearance.signed_at)
            await stage(session, tables.outbox, _attachment_stored(row, who))
    except IntegrityError:
        # Signed twice at once: the other one committed first, and its PDF is the draft's.
        await _forget(store, key)
        done = await _signed_draft(db, draft_id, owner_org_id)
        if done is None:
            raise
        return done
    except BaseException:
        await _forget(store, key)
        raise
    log.info("draft %s signed by %s as attachment %s", draft_id, who.user, attachment_id)
    return _signed_view({**draft_row, "sha256": row["sha256"], "size": row["size"]})


@dataclass(frozen=True)
class _Signed:
    pdf: bytes
    signer_name: str


def _render_and_sign(signing: Signing, letter: Letter, appearance: Appearance, username: str) -> _Signed:
    """In a worker thread: key files are read, the layout drawn and the signature computed, all CPU or disk."""
    try:
        key = signing.keys.key_for(username, appearance.name)
        key.usable_at(appearance.signed_at)
        pdf = render_letter(letter, signing.garuda)
        return _Signed(sign_pdf(pdf, key, appearance, signing.timestamper), key.name)
    except SigningRefused as refused:
        raise Problem(refused.status, refused.message) from None


async def _signed_draft(db: Database, draft_id: uuid.UUID, owner_org_id: uuid.UUID) -> dict | None:
    async with db.read() as session:
        done = await AttachmentRepository(session).signed_draft(draft_id)
    if done is None:
        return None
    if done["org_id"] != owner_org_id:
        raise Problem(409, "ร่างหนังสือนี้ลงนามแล้วในนามหน่วยงานอื่น (this draft was signed for another unit)")
    return _signed_view(done)


def _signed_view(row: dict) -> dict:
    return {
        "attachment_id": row["attachment_id"],
        "sha256": row["sha256"],
        "size": row["size"],
        "signer": row["signer"],
        "signer_name": row["signer_name"],
        "signed_at": row["signed_at"],
    }


async def letter_signatures(db: Database, letter_id: uuid.UUID, who: Principal) -> list[dict]:
    """What verification found about a letter's signatures, for its sender and its recipients; 404 for others."""
    async with db.read() as session:
        rows = await AttachmentRepository(session).signatures(letter_id, who.org_id)
    if rows is None:
        raise not_found(LETTER)
    return [
        {
            "attachment_id": row["attachment_id"],
            "field": row["field"],
            "signer": row["signer"],
            "valid": row["valid"],
            "trusted": row["trusted"],
            "signed_at": row["signed_at"],
            "problem": row["problem"],
        }
        for row in rows
    ]


async def verify_letters(
    db: Database, store: ObjectStore, keys: SigningKeys, events: list[LetterSent]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, SignatureCheck]]]:
    """Checks the signatures of the PDFs each letter carried (those its sender owns), outside any transaction:
    reading files and checking signatures takes time, and a transaction held meanwhile would keep every other
    writer waiting. Letters checked before are skipped. A PDF without signatures gives no finding."""
    letters = list({event.letter_id: event for event in events}.values())
    async with db.read() as session:
        repo = AttachmentRepository(session)
        checked = await repo.letters_checked([letter.letter_id for letter in letters])
        carried = {a for letter in letters for a in letter.attachment_ids}
        pdfs = {pdf["id"]: pdf for pdf in await repo.pdfs(sorted(carried))}
    found: dict[uuid.UUID, list[tuple[uuid.UUID, SignatureCheck]]] = {}
    roots = None
    for letter in letters:
        if letter.letter_id in checked:
            continue
        for attachment_id in dict.fromkeys(letter.attachment_ids):
            pdf = pdfs.get(attachment_id)
            if pdf is None or pdf["org_id"] != letter.sender_org_id:
                continue  # not a PDF, or not the sender's to hand out (it is not granted either)
            if not await _may_be_signed(store, pdf):
                continue
            if roots is None:
                roots = await asyncio.to_thread(keys.trust_roots)
            checks = await _verify(store, pdf, roots)
            found.setdefault(letter.letter_id, []).extend((attachment_id, check) for check in checks)
    return found


async def _may_be_signed(store: ObjectStore, pdf: dict) -> bool:
    """Whether the file may hold a signature, read as a stream: most PDFs are not signed, and need not be held
    whole in memory to tell."""
    async with contextlib.aclosing(store.stream(pdf["storage_key"])) as chunks:
        tail = b""
        async for chunk in chunks:
            window = tail + chunk
            if SIGNATURE_MARKER in window:
                return True
            tail = window[-len(SIGNATURE_MARKER) :]
    return False


async def _verify(store: ObjectStore, pdf: dict, roots) -> list[SignatureCheck]:
    data = await _read_object(store, pdf["storage_key"], pdf["size"])
    if hashlib.sha256(data).hexdigest() != pdf["sha256"]:
        # The stored bytes are not the ones that were uploaded: whatever they say, the file was changed.
        log.error("attachment %s does not match its SHA-256; its signatures are not what was sent", pdf["id"])
        return [SignatureCheck("", "", False, False, None, "modified")]
    return await asyncio.to_thread(verify_pdf, data, roots)


async def record_signature_checks(
    session, sent: list[tuple[Envelope, LetterSent]], found: dict[uuid.UUID, list[tuple[uuid.UUID, SignatureCheck]]]
) -> None:
    """Runs inside the consumer's unit of work, after the letters are recorded: stores the findings and stages a
    `letter.signature-invalid` for each PDF with a signature that failed, once per letter."""
    repo = AttachmentRepository(session)
    letters = {event.letter_id: (envelope, event) for envelope, event in sent if event.letter_id in found}
    fresh = set(letters) - await repo.letters_checked(list(letters))
    now = thai.now()
    rows = []
    for letter_id in sorted(fresh):
        envelope, event = letters[letter_id]
        failed: dict[uuid.UUID, str] = {}
        for attachment_id, check in found[letter_id]:
            rows.append(_check_row(letter_id, attachment_id, check, now))
            if check.problem is not None:
                failed.setdefault(attachment_id, check.problem)
        for attachment_id, problem in failed.items():
            await stage(session, tables.outbox, _signature_invalid(envelope, event, attachment_id, problem, now))
            log.warning("letter %s: a signature in attachment %s failed (%s)", letter_id, attachment_id, problem)
    await repo.add_checks(rows)


def _check_row(letter_id: uuid.UUID, attachment_id: uuid.UUID, check: SignatureCheck, now) -> dict:
    return {
        "letter_id": letter_id,
        "attachment_id": attachment_id,
        "field": check.field,
        "signer": check.signer[:300],
        "valid": check.valid,
        "trusted": check.trusted,
        "signed_at": check.signed_at,
        "problem": check.problem,
        "checked_at": now,
    }


def _signature_invalid(cause: Envelope, letter: LetterSent, attachment_id: uuid.UUID, problem: str, now) -> Envelope:
    event = SignatureInvalid(
        letter_id=letter.letter_id,
        attachment_id=attachment_id,
        sender_org_id=letter.sender_org_id,
        problem=problem,
        checked_at=now,
    )
    envelope = event.envelope(
        source=SOURCE, subject=str(letter.letter_id), actor=SYSTEM, correlation_id=cause.correlation_id
    )
    return envelope.model_copy(update={"causation_id": str(cause.id)})
