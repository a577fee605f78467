"""Intake's use cases for drafts (ร่างหนังสือ), each one unit of work that stages its event in the outbox: write
and edit a draft, move it along its proposal line, sign it (the number and date are taken then), record its
signed PDF (the letter enters the send register), and dispatch it (the letter leaves as any letter does)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import replace

from sqlalchemy.exc import IntegrityError

from services.intake.adapters import tables
from services.intake.adapters.drafts import DraftRepository, DraftScope
from services.intake.adapters.repository import DirectoryReadModel, LetterRepository
from services.intake.domain import drafts as rules
from services.intake.domain.drafts import DraftConflict, DraftState, Line, Outcome
from services.intake.domain.letters import LetterRefused, NewLetter, check_deadline, unique_recipients
from services.intake.service import (
    SOURCE,
    Numbered,
    check_directory,
    check_references,
    deliver,
    letter_row,
    new_letter,
    take_number,
)
from shared import thai
from shared.contracts import (
    DraftCreated,
    DraftEdited,
    DraftEndorsed,
    DraftProposed,
    DraftRecalled,
    DraftReturned,
    DraftSigned,
    DraftStep,
)
from shared.db import Database
from shared.outbox import stage
from shared.principal import CLEARANCE_ORDER, Principal
from shared.problems import Problem, not_found
from shared.schemas import DraftRequest, SendLetterRequest, SignedRequest, SignRequest
from shared.web import correlation_id

BOXES = ("mine", "to_review", "to_sign", "to_dispatch")
# A step on the line: its name in the history and its event.
LINE_STEPS: dict[str, tuple[str, type[DraftStep]]] = {
    "propose": ("proposed", DraftProposed),
    "endorse": ("endorsed", DraftEndorsed),
    "return": ("returned", DraftReturned),
    "recall": ("recalled", DraftRecalled),
}
LETTER_FIELDS = set(SendLetterRequest.model_fields)
WHAT = "ร่างหนังสือ"


# ── Who may see what ───────────────────────────────────────────────────────────────────────────────────


log = logging.getLogger("sarabun.intake.drafts")


async def _scope(session, who: Principal, signs_for=()) -> DraftScope:
    """What the reader may see. A clerk also dispatches for the send register their unit is numbered in and,
    unless their unit is a ministry, for every unit under theirs: a department's registry dispatches what its
    divisions sign, even for divisions that keep their own registers."""
    cleared = tuple(level for level in CLEARANCE_ORDER if who.cleared_for(level))
    signs_for = tuple(dict.fromkeys(s for s in signs_for if s != who.user))
    if not who.has("clerk"):
        return DraftScope(who.user, who.org_id, cleared, signs_for)
    directory = DirectoryReadModel(session)
    unit = (await directory.units([who.org_id])).get(who.org_id)
    below = await directory.units_below(who.org_id) if unit and unit.kind != "ministry" else []
    return DraftScope(who.user, who.org_id, cleared, signs_for, who.register_org_id, tuple(below))


def _dispatches(scope: DraftScope, draft: dict) -> bool:
    """The draft's own unit, or a registry clerk it is numbered or dispatched by."""
    if draft["org_id"] == scope.org_id:
        return True
    if scope.registry_org_id is None:
        return False
    return draft["register_org_id"] == scope.registry_org_id or draft["org_id"] in scope.units_below


async def _locked(session, draft_id: uuid.UUID, scope: DraftScope) -> dict:
    draft = await DraftRepository(session).get(draft_id, scope, lock=True)
    if draft is None:
        raise not_found(WHAT)
    return draft


# ── From rows to rules and back ────────────────────────────────────────────────────────────────────────


def _line(author: str, reviewers: list[dict], signer: dict) -> Line:
    return Line(author, tuple(r["username"] for r in reviewers), signer["username"])


def state_of(draft: dict) -> DraftState:
    line = _line(draft["author"], draft["reviewers"], draft["signer"])
    return DraftState(draft["status"], draft["step"], line, draft["last_step"], draft["signed_by"])


def _decide(action: str, draft: dict, who: Principal, **how) -> Outcome:
    try:
        return rules.decide(action, state_of(draft), who.user, **how)
    except DraftConflict as conflict:
        raise Problem(409, conflict.message) from None


def _refused(refused: LetterRefused) -> Problem:
    return Problem(422, refused.message, errors=refused.errors)


def _letter_of(fields: dict) -> NewLetter:
    """The letter a version's fields describe (they were checked when written)."""
    letter = new_letter(SendLetterRequest.model_validate({k: v for k, v in fields.items() if k in LETTER_FIELDS}))
    return replace(letter, recipient_org_ids=unique_recipients(letter.recipient_org_ids))


def _fields(request: DraftRequest) -> dict:
    return request.model_dump(mode="json", exclude={"reviewers", "signer"})


def _people(request: DraftRequest) -> list[dict]:
    reviewers = [{"username": r.username, "role": "reviewer"} for r in request.reviewers]
    return [*reviewers, {"username": request.signer.username, "role": "signer"}]


async def _check(session, request: DraftRequest, org_id: uuid.UUID, who: Principal) -> None:
    """The fields as a letter's are checked when it is written, against the unit that owns the draft."""
    letter = _letter_of(_fields(request))
    try:
        rules.check_fields(letter, org_id, who.clearance, thai.now())
    except LetterRefused as refused:
        raise _refused(refused) from None
    await check_directory(session, letter, org_id)
    await check_references(LetterRepository(session), letter, org_id)


def _check_line(line: Line) -> None:
    try:
        rules.check_line(line)
    except LetterRefused as refused:
        raise _refused(refused) from None


async def _record(
    session,
    draft: dict,
    kind: str,
    event: type[DraftStep] | None,
    who: Principal,
    at,
    *,
    version: int | None = None,
    reason: str | None = None,
    outcome: Outcome | None = None,
) -> None:
    """A step in the history and, for the steps of the line, its event: in the caller's transaction. The event
    says whose turn follows and in which status (the outcome of a move; otherwise the draft's, which the step
    leaves as it was), so people can be told it is their turn."""
    version = version or draft["version"]
    await DraftRepository(session).add_step(draft["id"], kind, who.user, version, at, reason)
    if event is not None:
        current, status = (outcome.current, outcome.status) if outcome else (draft["current_username"], draft["status"])
        step = event(
            draft_id=draft["id"],
            org_id=draft["org_id"],
            version=version,
            occurred_at=at,
            reason=reason,
            current=current,
            status=status,
        )
        await _stage(session, step, draft["id"], who)


async def _stage(session, event, draft_id: uuid.UUID, who: Principal) -> None:
    envelope = event.envelope(source=SOURCE, subject=str(draft_id), actor=who.user, correlation_id=correlation_id.get())
    await stage(session, tables.outbox, envelope)


# ── Writing ────────────────────────────────────────────────────────────────────────────────────────────


def _request_hash(request: DraftRequest) -> str:
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


async def create_draft(db: Database, request: DraftRequest, who: Principal, idempotency_key: str | None) -> dict:
    """A new draft of the caller's unit, version 1, with its line; it takes no number."""
    _check_line(_line(who.user, [r.model_dump() for r in request.reviewers], request.signer.model_dump()))
    try:
        async with db.transaction() as session:
            if idempotency_key and (replay := await _replay(session, who, idempotency_key, request)):
                draft_id = replay
            else:
                await _check(session, request, who.org_id, who)
                draft_id = await _add(session, request, who, idempotency_key)
    except IntegrityError:
        # The same Idempotency-Key won a race a moment ago: answer with its draft.
        if not idempotency_key:
            raise
        async with db.read() as session:
            draft_id = await _replay(session, who, idempotency_key, request)
        if draft_id is None:
            raise Problem(409, "บันทึกร่างไม่สำเร็จเพราะข้อมูลชนกัน โปรดลองใหม่ (conflict, retry)") from None
    return await get_draft(db, draft_id, who)


async def _replay(session, who: Principal, key: str, request: DraftRequest) -> uuid.UUID | None:
    found = await DraftRepository(session).find_idempotent(who.user, key)
    if found is None:
        return None
    draft_id, request_hash = found
    if request_hash != _request_hash(request):
        raise Problem(409, "Idempotency-Key นี้ใช้กับร่างฉบับอื่นแล้ว (key reused with a different request)")
    return draft_id


async def _add(session, request: DraftRequest, who: Principal, idempotency_key: str | None) -> uuid.UUID:
    now = thai.now()
    line = _line(who.user, [r.model_dump() for r in request.reviewers], request.signer.model_dump())
    row = {
        "id": uuid.uuid4(),
        "org_id": who.org_id,
        "org_name": request.org_name,
        "letter_code": who.letter_code,
        "register_org_id": who.register_org_id,
        "author": who.user,
        "status": rules.DRAFT,
        "version": 1,
        "step": 0,
        "current_username": who.user,
        "last_step": "created",
        "reviewers": [r.model_dump() for r in request.reviewers],
        "signer": request.signer.model_dump(),
        "signer_username": line.signer,
        "secrecy": request.secrecy,
        "idempotency_key": idempotency_key,
        "request_hash": _request_hash(request) if idempotency_key else None,
        "created_at": now,
        "updated_at": now,
    }
    await DraftRepository(session).add(row, _people(request), _fields(request))
    await _record(session, row, "created", DraftCreated, who, now)
    return row["id"]


async def edit_draft(db: Database, draft_id: uuid.UUID, request: DraftRequest, who: Principal) -> dict:
    """PUT: a new version; the earlier ones stay. The author may change the line while the draft is with them;
    a reviewer or the signer edits on their turn and the line stays as it is."""
    async with db.transaction() as session:
        scope = await _scope(session, who)
        draft = await _locked(session, draft_id, scope)
        _decide("edit", draft, who)
        line = _line(draft["author"], [r.model_dump() for r in request.reviewers], request.signer.model_dump())
        by_author = draft["status"] in (rules.DRAFT, rules.RETURNED)
        if by_author:
            _check_line(line)
        elif not rules.same_line(line, state_of(draft).line):
            raise Problem(
                422,
                "ผู้ได้รับเสนอแก้ไขได้เฉพาะเนื้อหา สายเสนอเปลี่ยนได้โดยผู้ร่างเท่านั้น "
                "(only the author changes the line; send the line as it is)",
                errors=[{"field": "reviewers", "message": "the line differs from the draft's"}],
            )
        await _check(session, request, draft["org_id"], who)
        now = thai.now()
        version = draft["version"] + 1
        repo = DraftRepository(session)
        await repo.add_version(draft_id, version, _fields(request), who.user, now)
        changes = {"version": version, "secrecy": request.secrecy, "org_name": request.org_name, "updated_at": now}
        if by_author:
            reviewers = [r.model_dump() for r in request.reviewers]
            changes |= {"reviewers": reviewers, "signer": request.signer.model_dump(), "signer_username": line.signer}
            await repo.set_line(draft_id, _people(request))
        # Someone on the line editing is the next person acting: the author can no longer recall it.
        await repo.update(draft_id, last_step="edited", **changes)
        await _record(session, draft, "edited", DraftEdited, who, now, version=version)
    return await get_draft(db, draft_id, who)


# ── The line ───────────────────────────────────────────────────────────────────────────────────────────


async def move(db: Database, draft_id: uuid.UUID, action: str, who: Principal, reason: str | None = None) -> dict:
    """propose | endorse | return (with a reason) | recall: whose turn it is next, in one transaction with the
    step's event."""
    kind, event = LINE_STEPS[action]
    if action == "return" and not (reason or "").strip():
        message = "ต้องระบุเหตุผลที่คืนแก้ไข (a reason is required)"
        raise Problem(422, message, errors=[{"field": "reason", "message": message}])
    async with db.transaction() as session:
        draft = await _locked(session, draft_id, await _scope(session, who))
        outcome = _decide(action, draft, who)
        now = thai.now()
        await DraftRepository(session).update(
            draft_id,
            status=outcome.status,
            step=outcome.step,
            current_username=outcome.current,
            last_step=kind,
            updated_at=now,
        )
        await _record(session, draft, kind, event, who, now, reason=reason, outcome=outcome)
    return await get_draft(db, draft_id, who)


# ── Signing and dispatch ───────────────────────────────────────────────────────────────────────────────


async def sign(db: Database, draft_id: uuid.UUID, request: SignRequest, who: Principal) -> dict:
    """ลงนาม, the part intake owns: the letter takes its number in the send register the draft's unit is
    numbered in and the date of today (Bangkok), in one transaction. Its PDF is signed next (storage) and
    recorded with `signed`; if that fails midway the draft stays `signing`, and signing again by the same
    person answers the same number, so it can be completed."""
    on_behalf_of = request.on_behalf_of if request.on_behalf_of != who.user else None
    async with db.transaction() as session:
        scope = await _scope(session, who, signs_for=(on_behalf_of,) if on_behalf_of else ())
        draft = await _locked(session, draft_id, scope)
        outcome = _decide("sign", draft, who, on_behalf_of=on_behalf_of)
        if not outcome.repeat:
            await _take_number(session, draft, request, on_behalf_of, who)
    return await get_draft(db, draft_id, who)


async def _take_number(session, draft: dict, request: SignRequest, on_behalf_of: str | None, who: Principal):
    letter = _letter_of(draft["fields"])
    now = thai.now()
    try:
        check_deadline(letter, now)  # the deadline may have passed while the draft went up the line
    except LetterRefused as refused:
        raise _refused(refused) from None
    numbered = await take_number(session, draft["register_org_id"], draft["letter_code"], letter.circular, now)
    await DraftRepository(session).update(
        draft["id"],
        status=rules.SIGNING,
        current_username=who.user,
        register=numbered.register,
        register_no=numbered.number,
        register_year=numbered.year,
        doc_no=numbered.doc_no,
        doc_date=now.astimezone(thai.BANGKOK).date(),
        signed_by=who.user,
        on_behalf_of=on_behalf_of,
        delegation_kind=request.delegation_kind if on_behalf_of else None,
        delegation_id=request.delegation_id if on_behalf_of else None,
        updated_at=now,
    )


async def record_signed(db: Database, draft_id: uuid.UUID, request: SignedRequest, who: Principal) -> dict:
    """The draft's PDF is signed: its letter enters the send register with its number, `signed` (no recipient
    has it yet), and `draft.signed` is staged. Recording the same PDF again changes nothing."""
    async with db.transaction() as session:
        draft = await _locked(session, draft_id, await _scope(session, who))
        outcome = _decide("signed", draft, who)
        if outcome.repeat:
            if draft["signed_pdf_id"] != request.attachment_id:
                raise Problem(
                    409,
                    "หนังสือนี้ลงนามแล้วด้วยไฟล์อื่น ลงนามซ้ำไม่ได้ (the draft is signed already, with another PDF)",
                )
        else:
            await _add_signed_letter(session, draft, request, who)
    return await get_draft(db, draft_id, who)


async def _add_signed_letter(session, draft: dict, request: SignedRequest, who: Principal) -> None:
    letter = _letter_of(draft["fields"])
    signer = draft["signer"]
    letter = replace(
        letter,
        attachment_ids=(request.attachment_id, *letter.attachment_ids),  # the signed PDF first
        signer_name=letter.signer_name or signer.get("display_name", ""),
        signer_position=letter.signer_position or signer.get("position", ""),
    )
    numbered = Numbered(
        draft["register_org_id"], draft["register"], draft["register_year"], draft["register_no"], draft["doc_no"]
    )
    now = thai.now()
    row = letter_row(
        letter,
        numbered,
        sender_org_id=draft["org_id"],
        sent_by=draft["signed_by"],
        sent_at=now,
        status=rules.SIGNED,
        doc_date=draft["doc_date"],
    )
    await LetterRepository(session).add(row)
    await DraftRepository(session).update(
        draft["id"],
        status=rules.SIGNED,
        current_username=None,
        last_step="signed",
        letter_id=row["id"],
        signed_pdf_id=request.attachment_id,
        signed_pdf_sha256=request.sha256,
        signed_at=now,
        updated_at=now,
    )
    await _record(session, draft, "signed", None, who, now)
    event = DraftSigned(
        draft_id=draft["id"],
        org_id=draft["org_id"],
        version=draft["version"],
        letter_id=row["id"],
        doc_no=draft["doc_no"],
        signer=draft["signed_by"],
        on_behalf_of=draft["on_behalf_of"],
        delegation_kind=draft["delegation_kind"],
        signed_at=now,
        pdf_attachment_id=request.attachment_id,
        pdf_sha256=request.sha256,
    )
    await _stage(session, event, draft["id"], who)


async def dispatch(db: Database, draft_id: uuid.UUID, who: Principal) -> dict:
    """ส่ง: the registry sends the signed letter. Its recipients are checked again against the directory (a unit
    may have been retired while it was being signed), and it leaves exactly as a letter sent at once does:
    `sent`, one delivery per recipient, `letter.sent`. The answer is the letter as POST /letters answers it;
    dispatching again answers the same letter and sends nothing more."""
    async with db.transaction() as session:
        scope = await _scope(session, who)
        draft = await _locked(session, draft_id, scope)
        return await _dispatch(session, draft, who, registry=_dispatches(scope, draft))


async def dispatch_on_signing(db: Database, draft_id: uuid.UUID, who: Principal) -> dict:
    """Where the deployment sends letters as soon as they are signed: the signer's signing dispatches it. A
    recipient retired meanwhile leaves it signed, for the registry to see to; the answer is then the draft."""
    try:
        async with db.transaction() as session:
            draft = await _locked(session, draft_id, await _scope(session, who))
            await _dispatch(session, draft, who, registry=draft["signed_by"] == who.user)
    except Problem as refused:
        log.info("draft %s stays signed for the registry: %s", draft_id, refused.detail)
    return await get_draft(db, draft_id, who)


async def _dispatch(session, draft: dict, who: Principal, *, registry: bool) -> dict:
    outcome = _decide("dispatch", draft, who, registry=registry)
    letters = LetterRepository(session)
    if outcome.repeat:
        return await letters.get_readable(draft["letter_id"], draft["org_id"])
    letter = await letters.for_update(draft["letter_id"])
    if letter["status"] != rules.SIGNED:
        raise Problem(
            409,
            f"ส่งไม่ได้ เพราะหนังสือนี้อยู่ในสถานะ {letter['status']} (cannot dispatch a {letter['status']} letter)",
        )
    signed = _letter_of(draft["fields"])
    await check_directory(session, signed, draft["org_id"])
    now = thai.now()
    sent = await letters.mark_sent(draft["letter_id"], now)
    deliveries = await deliver(session, sent, signed.recipient_org_ids, who)
    await DraftRepository(session).update(
        draft["id"], status=rules.DISPATCHED, current_username=None, last_step="dispatched", updated_at=now
    )
    await _record(session, draft, "dispatched", None, who, now)  # its event is the letter's `letter.sent`
    return {**sent, "deliveries": deliveries}


# ── Reading ────────────────────────────────────────────────────────────────────────────────────────────


async def get_draft(db: Database, draft_id: uuid.UUID, who: Principal, signs_for=()) -> dict:
    """The draft with its current fields, versions and history, if the reader may see it; 404 otherwise."""
    async with db.read() as session:
        repo = DraftRepository(session)
        draft = await repo.get(draft_id, await _scope(session, who, signs_for))
        if draft is None:
            raise not_found(WHAT)
        return {**draft, "versions": await repo.versions(draft_id), "history": await repo.history(draft_id)}


async def get_version(db: Database, draft_id: uuid.UUID, version: int, who: Principal, signs_for=()) -> dict:
    async with db.read() as session:
        repo = DraftRepository(session)
        if await repo.get(draft_id, await _scope(session, who, signs_for)) is None:
            raise not_found(WHAT)
        found = await repo.version(draft_id, version)
    if found is None:
        raise not_found("ฉบับแก้ไขนี้ของร่าง")
    return found


async def drafts_in_box(db: Database, who: Principal, box: str, signs_for, after, limit: int) -> list[dict]:
    async with db.read() as session:
        scope = await _scope(session, who, signs_for)
        return await DraftRepository(session).box(scope, box, after, limit)
