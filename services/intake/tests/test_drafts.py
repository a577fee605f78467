"""Drafts at intake on a real (SQLite) database: the whole proposal line to dispatch with the events it stages,
refusals that change nothing, numbers taken only at signing, signing resumed, dispatching twice, who sees what,
and a signed letter among the letters that were sent before."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.intake import drafting, service
from services.intake.adapters import tables
from services.intake.bootstrap import build
from services.intake.domain.letters import NewLetter
from services.intake.tests.directory import announcement, hear
from shared.bus.memory import MemoryBus
from shared.contracts import Envelope
from shared.db import Database
from shared.principal import Principal
from shared.problems import Problem
from shared.schemas import DraftRequest, SignedRequest, SignRequest
from shared.settings import Settings
from shared.thai import BANGKOK, buddhist_year, now

MOF, CGD, BUDGET, RD = (uuid.uuid4() for _ in range(4))


def person(user: str, org: uuid.UUID, code: str, *roles: str, clearance: str = "secret") -> Principal:
    return Principal(user=user, org_id=org, org_code=code, roles=roles, clearance=clearance)


# กองงบประมาณ (a division of กรมบัญชีกลาง that keeps its own registers) and the department above it.
OFFICER = person("cgd.officer", BUDGET, "กค 0402", "staff")
HEAD = person("cgd.head", BUDGET, "กค 0402", "executive")
DIRECTOR = person("cgd.director", BUDGET, "กค 0402", "executive")
DG = person("cgd.dg", CGD, "กค 0400", "executive")
DEPUTY = person("cgd.deputy", CGD, "กค 0400", "executive")
CGD_CLERK = person("cgd.clerk", CGD, "กค 0400", "clerk")
BUDGET_STAFF = person("cgd.budget.staff", BUDGET, "กค 0402", "staff", clearance="normal")
RD_CLERK = person("rd.clerk", RD, "กค 0700", "clerk")
PDF, PDF_SHA = uuid.uuid4(), "ab" * 32


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request, tmp_path):
    """Intake's database, migrated, on SQLite and on PostgreSQL (row locks, JSON and the scoped queries)."""
    database = None
    if request.param == "postgresql":
        database = Database(request.getfixturevalue("postgres_url"), schema=f"intake_{uuid.uuid4().hex[:8]}")
    runtime = build(Settings(demo=True, data_dir=tmp_path), MemoryBus(), database)
    await runtime.start()
    await hear(
        runtime.db,
        announcement(MOF, "ministry"),
        announcement(CGD, "department", MOF),
        announcement(BUDGET, "division", CGD),
        announcement(RD, "department", MOF),
    )
    yield runtime.db
    await runtime.stop()


def line_person(who: Principal, position: str) -> dict:
    return {"username": who.user, "display_name": who.user, "position": position}


def draft_request(subject="ขอส่งรายงานการเบิกจ่ายงบประมาณ", reviewers=(HEAD, DIRECTOR), signer=DG, **change):
    fields = {
        "type": "external",
        "subject": subject,
        "body": "ตามที่กรมสรรพากรได้ขอข้อมูลการเบิกจ่าย กรมบัญชีกลางขอส่งรายงานมาเพื่อโปรดทราบ",
        "recipient_org_ids": [str(RD)],
        "salutation": "อธิบดีกรมสรรพากร",
        "org_name": "กองงบประมาณ กรมบัญชีกลาง",
        "reviewers": [line_person(r, "ผู้ตรวจ") for r in reviewers],
        "signer": line_person(signer, "อธิบดีกรมบัญชีกลาง"),
        **change,
    }
    return DraftRequest.model_validate(fields)


async def outbox(db) -> list[Envelope]:
    async with db.read() as session:
        bodies = (await session.execute(select(tables.outbox.c.body).order_by(tables.outbox.c.seq))).scalars()
        return [Envelope.model_validate_json(b) for b in bodies]


async def snapshot(db, draft_id) -> tuple:
    """Everything a step could change: the draft's row, its versions and history, the outbox, the counters."""
    async with db.read() as session:
        row = (await session.execute(select(tables.drafts).where(tables.drafts.c.id == draft_id))).one()
        counts = [
            (await session.execute(select(func.count()).select_from(t))).scalar_one()
            for t in (tables.draft_versions, tables.draft_steps, tables.outbox, tables.letters, tables.recipients)
        ]
        numbers = (await session.execute(select(tables.counters))).all()
    return tuple(row), counts, numbers


async def refused(status: int, call) -> Problem:
    with pytest.raises(Problem) as problem:
        await call
    assert problem.value.status == status, problem.value.detail
    return problem.value


async def walk_to_signature(db) -> dict:
    draft = await drafting.create_draft(db, draft_request(), OFFICER, None)
    for action, who in (("propose", OFFICER), ("endorse", HEAD), ("endorse", DIRECTOR)):
        draft = await drafting.move(db, draft["id"], action, who)
    assert draft["status"] == "awaiting_signature"
    return draft


# ── The whole line ─────────────────────────────────────────────────────────────────────────────────────


async def test_the_whole_line_from_draft_to_dispatch_with_its_events(db):
    draft = await drafting.create_draft(db, draft_request(), OFFICER, None)
    assert (draft["status"], draft["version"], draft["current_username"]) == ("draft", 1, OFFICER.user)
    assert draft["doc_no"] is None  # a draft takes no number
    draft_id = draft["id"]
    steps = [
        ("propose", OFFICER, None, "in_review", HEAD.user),
        ("endorse", HEAD, None, "in_review", DIRECTOR.user),
        ("return", DIRECTOR, "ขอให้แก้ไขตัวเลขในย่อหน้าที่สอง", "returned", OFFICER.user),
    ]
    for action, who, reason, status, current in steps:
        draft = await drafting.move(db, draft_id, action, who, reason)
        assert (draft["status"], draft["current_username"]) == (status, current)
    edited = draft_request(body="ฉบับแก้ไข: ตัวเลขในย่อหน้าที่สองถูกต้องแล้ว")
    draft = await drafting.edit_draft(db, draft_id, edited, OFFICER)
    assert (draft["status"], draft["version"], draft["fields"]["body"]) == ("returned", 2, edited.body)
    for action, who in (("propose", OFFICER), ("endorse", HEAD), ("endorse", DIRECTOR)):
        draft = await drafting.move(db, draft_id, action, who)
    assert (draft["status"], draft["current_username"]) == ("awaiting_signature", DG.user)

    # The deputy signs for the director-general under a delegation the gateway has checked.
    delegation = uuid.uuid4()
    on_behalf = SignRequest(on_behalf_of=DG.user, delegation_kind="delegated", delegation_id=delegation)
    draft = await drafting.sign(db, draft_id, on_behalf, DEPUTY)
    today = now().astimezone(BANGKOK).date()
    assert (draft["status"], draft["doc_no"], draft["doc_date"]) == ("signing", "กค 0402/1", today)
    assert (draft["signed_by"], draft["on_behalf_of"], draft["delegation_kind"]) == (DEPUTY.user, DG.user, "delegated")
    draft = await drafting.record_signed(db, draft_id, SignedRequest(attachment_id=PDF, sha256=PDF_SHA), DEPUTY)
    assert (draft["status"], draft["letter_status"], draft["signed_pdf_id"]) == ("signed", "signed", PDF)

    letter = await drafting.dispatch(db, draft_id, CGD_CLERK)
    assert (letter["id"], letter["doc_no"], letter["status"]) == (draft["letter_id"], "กค 0402/1", "sent")
    assert (letter["sender_org_id"], letter["sent_by"], letter["doc_date"]) == (BUDGET, DEPUTY.user, today)
    assert [d["recipient_org_id"] for d in letter["deliveries"]] == [RD]
    assert letter["attachment_ids"] == [str(PDF)] and letter["body"] == edited.body

    events = await outbox(db)
    assert [(e.type.removesuffix(".v1"), e.actor, e.data.get("version")) for e in events] == [
        ("draft.created", OFFICER.user, 1),
        ("draft.proposed", OFFICER.user, 1),
        ("draft.endorsed", HEAD.user, 1),
        ("draft.returned", DIRECTOR.user, 1),
        ("draft.edited", OFFICER.user, 2),
        ("draft.proposed", OFFICER.user, 2),
        ("draft.endorsed", HEAD.user, 2),
        ("draft.endorsed", DIRECTOR.user, 2),
        ("draft.signed", DEPUTY.user, 2),
        ("letter.sent", CGD_CLERK.user, None),
    ]
    assert all(e.subject == str(draft_id) for e in events[:-1])
    # Each step of the line says whose turn follows and in which status: the signer's turn is told apart.
    assert [(e.data["current"], e.data["status"]) for e in events[:8]] == [
        (OFFICER.user, "draft"),
        (HEAD.user, "in_review"),
        (DIRECTOR.user, "in_review"),
        (OFFICER.user, "returned"),
        (OFFICER.user, "returned"),
        (HEAD.user, "in_review"),
        (DIRECTOR.user, "in_review"),
        (DG.user, "awaiting_signature"),
    ]
    assert events[3].data["reason"] == "ขอให้แก้ไขตัวเลขในย่อหน้าที่สอง"
    signed = events[8].data
    assert (signed["doc_no"], signed["signer"], signed["on_behalf_of"], signed["delegation_kind"]) == (
        "กค 0402/1",
        DEPUTY.user,
        DG.user,
        "delegated",
    )
    assert (signed["pdf_attachment_id"], signed["pdf_sha256"]) == (str(PDF), PDF_SHA)
    sent = events[9].data
    assert (sent["letter_id"], sent["sender_org_id"]) == (str(letter["id"]), str(BUDGET))
    assert sent["attachment_ids"] == [str(PDF)]

    final = await drafting.get_draft(db, draft_id, OFFICER)
    assert final["status"] == "dispatched" and final["letter_status"] == "sent"
    assert [v["version"] for v in final["versions"]] == [1, 2]
    assert [(h["type"], h["actor"]) for h in final["history"]] == [
        ("created", OFFICER.user),
        ("proposed", OFFICER.user),
        ("endorsed", HEAD.user),
        ("returned", DIRECTOR.user),
        ("edited", OFFICER.user),
        ("proposed", OFFICER.user),
        ("endorsed", HEAD.user),
        ("endorsed", DIRECTOR.user),
        ("signed", DEPUTY.user),
        ("dispatched", CGD_CLERK.user),
    ]
    first = await drafting.get_version(db, draft_id, 1, HEAD)
    assert first["fields"]["body"] == draft_request().body and first["created_by"] == OFFICER.user
    # The recipient reads it now, with the signed PDF among its attachments.
    assert (await service.get_letter(db, letter["id"], RD_CLERK))["attachment_ids"] == [str(PDF)]


async def test_a_reviewer_edits_on_their_turn_and_the_author_can_no_longer_recall(db):
    draft = await drafting.create_draft(db, draft_request(), OFFICER, None)
    await drafting.move(db, draft["id"], "propose", OFFICER)
    changed_line = draft_request(reviewers=(DIRECTOR,), body="แก้ถ้อยคำ")
    problem = await refused(422, drafting.edit_draft(db, draft["id"], changed_line, HEAD))
    assert "only the author changes the line" in problem.detail
    edited = await drafting.edit_draft(db, draft["id"], draft_request(body="แก้ถ้อยคำ"), HEAD)
    assert (edited["status"], edited["version"], edited["current_username"]) == ("in_review", 2, HEAD.user)
    problem = await refused(409, drafting.move(db, draft["id"], "recall", OFFICER))
    assert "already acted" in problem.detail
    assert (await drafting.move(db, draft["id"], "endorse", HEAD))["current_username"] == DIRECTOR.user


async def test_the_author_recalls_before_anyone_acts_and_may_change_the_line(db):
    draft = await drafting.create_draft(db, draft_request(), OFFICER, None)
    await drafting.move(db, draft["id"], "propose", OFFICER)
    recalled = await drafting.move(db, draft["id"], "recall", OFFICER)
    assert (recalled["status"], recalled["current_username"]) == ("draft", OFFICER.user)
    shorter = await drafting.edit_draft(db, draft["id"], draft_request(reviewers=(DIRECTOR,)), OFFICER)
    assert [r["username"] for r in shorter["reviewers"]] == [DIRECTOR.user]
    proposed = await drafting.move(db, draft["id"], "propose", OFFICER)
    assert proposed["current_username"] == DIRECTOR.user
    # The head, no longer on the line, no longer sees it (nor does anyone outside the unit).
    await refused(404, drafting.get_draft(db, draft["id"], HEAD.model_copy(update={"org_id": CGD})))
    assert [h["type"] for h in proposed["history"]] == ["created", "proposed", "recalled", "edited", "proposed"]


# ── Refusals change nothing ────────────────────────────────────────────────────────────────────────────


async def test_out_of_turn_and_wrong_person_are_refused_and_change_nothing(db):
    draft = await drafting.create_draft(db, draft_request(), OFFICER, None)
    draft_id = draft["id"]
    await drafting.move(db, draft_id, "propose", OFFICER)
    await drafting.move(db, draft_id, "endorse", HEAD)
    before = await snapshot(db, draft_id)
    conflicts = [
        drafting.move(db, draft_id, "endorse", HEAD),  # the head again, after endorsing
        drafting.move(db, draft_id, "return", HEAD, "ไม่เห็นด้วย"),
        drafting.move(db, draft_id, "propose", OFFICER),  # already proposed
        drafting.move(db, draft_id, "recall", OFFICER),  # the head has acted
        drafting.edit_draft(db, draft_id, draft_request(body="ของผู้ร่าง"), OFFICER),
        drafting.sign(db, draft_id, SignRequest(), DG),  # not yet its turn
        drafting.record_signed(db, draft_id, SignedRequest(attachment_id=PDF, sha256=PDF_SHA), DG),
        drafting.dispatch(db, draft_id, OFFICER),
    ]
    for call in conflicts:
        problem = await refused(409, call)
        assert "อยู่ระหว่างเสนอ" in problem.detail and "in_review" in problem.detail
    for call in (
        drafting.move(db, draft_id, "endorse", RD_CLERK),  # outside the unit and the line
        drafting.dispatch(db, draft_id, CGD_CLERK),  # a registry sees only signed drafts
        drafting.get_draft(db, draft_id, DEPUTY),
        # A delegate of the signer sees a draft only once it waits for the signature.
        drafting.sign(db, draft_id, SignRequest(on_behalf_of=DG.user, delegation_kind="acting"), DEPUTY),
    ):
        await refused(404, call)
    assert await snapshot(db, draft_id) == before


async def test_bad_fields_and_lines_are_refused_and_store_nothing(db):
    cases = [
        (draft_request(secrecy="top_secret"), "secrecy"),
        (draft_request(recipient_org_ids=[str(uuid.uuid4())]), "recipient_org_ids"),
        (draft_request(recipient_org_ids=[str(BUDGET)]), "recipient_org_ids"),  # its own unit
        (draft_request(deliver_by=datetime.now(UTC) - timedelta(hours=1)), "deliver_by"),
        (draft_request(reviewers=(HEAD, HEAD)), "reviewers"),
        (draft_request(reviewers=(HEAD, OFFICER)), "reviewers"),
        (draft_request(reviewers=(HEAD, DG)), "reviewers"),
        (draft_request(reference_letter_ids=[str(uuid.uuid4())]), None),
    ]
    for request, field in cases:
        problem = await refused(422, drafting.create_draft(db, request, OFFICER, None))
        assert field is None or problem.errors[0]["field"] == field, problem.errors
    secret = draft_request(secrecy="secret")
    problem = await refused(422, drafting.create_draft(db, secret, BUDGET_STAFF, None))
    assert problem.detail == "ชั้นความลับของร่างสูงกว่าสิทธิ์ของท่าน (the draft's secrecy is above your clearance)"
    assert await outbox(db) == []
    assert await drafting.drafts_in_box(db, OFFICER, "mine", (), None, 50) == []


async def test_the_same_idempotency_key_answers_the_first_draft(db):
    first = await drafting.create_draft(db, draft_request(), OFFICER, "draft-1")
    again = await drafting.create_draft(db, draft_request(), OFFICER, "draft-1")
    assert again["id"] == first["id"] and len(await outbox(db)) == 1
    await refused(409, drafting.create_draft(db, draft_request(subject="อื่น"), OFFICER, "draft-1"))


# ── Numbers, signing, dispatch ─────────────────────────────────────────────────────────────────────────


def plain_letter() -> NewLetter:
    return NewLetter("external", "หนังสือที่ส่งทันที", "", (RD,), False, "normal", "normal")


async def test_numbers_are_taken_only_at_signing_and_stay_gap_free(db):
    first, second = await walk_to_signature(db), await walk_to_signature(db)
    assert first["doc_no"] is None and second["doc_no"] is None  # a draft takes no number
    sent = await service.send_letter(db, plain_letter(), OFFICER, None)
    assert sent["doc_no"] == "กค 0402/1"
    # A refused signature takes no number: a deadline passed while it was up the line.
    late = await drafting.create_draft(
        db, draft_request(reviewers=(), deliver_by=datetime.now(UTC) + timedelta(seconds=1)), OFFICER, None
    )
    await drafting.move(db, late["id"], "propose", OFFICER)
    async with db.transaction() as session:  # as if the deadline had passed
        past = {"deliver_by": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}
        versions = tables.draft_versions
        its = versions.c.draft_id == late["id"]
        fields = (await session.execute(select(versions.c.fields).where(its))).scalar_one()
        await session.execute(versions.update().where(its).values(fields=fields | past))
    await refused(422, drafting.sign(db, late["id"], SignRequest(), DG))
    assert (await drafting.sign(db, second["id"], SignRequest(), DG))["doc_no"] == "กค 0402/2"
    assert (await drafting.sign(db, first["id"], SignRequest(), DG))["doc_no"] == "กค 0402/3"
    assert (await service.send_letter(db, plain_letter(), OFFICER, None))["doc_no"] == "กค 0402/4"


async def test_a_circular_takes_its_number_in_the_circular_series(db):
    draft = await drafting.create_draft(db, draft_request(reviewers=(), circular=True), OFFICER, None)
    await drafting.move(db, draft["id"], "propose", OFFICER)
    assert (await drafting.sign(db, draft["id"], SignRequest(), DG))["doc_no"] == "กค 0402/ว 1"


async def test_signing_is_resumed_with_the_same_number_and_recorded_once(db):
    draft = await walk_to_signature(db)
    first = await drafting.sign(db, draft["id"], SignRequest(), DG)
    again = await drafting.sign(db, draft["id"], SignRequest(), DG)  # storage failed; the gateway tries again
    assert again["doc_no"] == first["doc_no"] == "กค 0402/1" and again["status"] == "signing"
    # Nobody else can take over a signature under way.
    acting = SignRequest(on_behalf_of=DG.user, delegation_kind="acting")
    await refused(409, drafting.sign(db, draft["id"], acting, DEPUTY))
    pdf = SignedRequest(attachment_id=PDF, sha256=PDF_SHA)
    signed = await drafting.record_signed(db, draft["id"], pdf, DG)
    assert (await drafting.record_signed(db, draft["id"], pdf, DG))["letter_id"] == signed["letter_id"]
    other_pdf = SignedRequest(attachment_id=uuid.uuid4(), sha256=PDF_SHA)
    problem = await refused(409, drafting.record_signed(db, draft["id"], other_pdf, DG))
    assert "signed already" in problem.detail
    await refused(409, drafting.sign(db, draft["id"], SignRequest(), DG))  # a second signature on a signed letter
    await refused(409, drafting.edit_draft(db, draft["id"], draft_request(), OFFICER))  # editing after signing
    assert [e.type for e in await outbox(db)].count("draft.signed.v1") == 1
    assert (await service.send_letter(db, plain_letter(), OFFICER, None))["doc_no"] == "กค 0402/2"


async def signed_draft(db) -> dict:
    draft = await walk_to_signature(db)
    await drafting.sign(db, draft["id"], SignRequest(), DG)
    return await drafting.record_signed(db, draft["id"], SignedRequest(attachment_id=PDF, sha256=PDF_SHA), DG)


async def test_dispatching_twice_sends_once(db):
    draft = await signed_draft(db)
    first = await drafting.dispatch(db, draft["id"], CGD_CLERK)
    again = await drafting.dispatch(db, draft["id"], CGD_CLERK)
    assert again["id"] == first["id"] and again["deliveries"] == first["deliveries"]
    assert [e.type for e in await outbox(db)].count("letter.sent.v1") == 1
    async with db.read() as session:
        assert (await session.execute(select(func.count()).select_from(tables.recipients))).scalar_one() == 1


async def test_dispatch_checks_the_recipients_again(db):
    draft = await signed_draft(db)
    yesterday = now().astimezone(BANGKOK).date() - timedelta(days=1)
    await hear(db, announcement(RD, "department", MOF, valid_to=yesterday, at=datetime.now(UTC)))
    problem = await refused(422, drafting.dispatch(db, draft["id"], CGD_CLERK))
    assert problem.errors == [{"field": "recipient_org_ids", "message": f"unknown: {RD}"}]
    assert (await drafting.get_draft(db, draft["id"], CGD_CLERK))["status"] == "signed"


async def test_who_dispatches(db):
    draft = await signed_draft(db)
    # Not the recipient's clerk; not a registry elsewhere; the unit itself or the department's registry may.
    await refused(404, drafting.dispatch(db, draft["id"], RD_CLERK))
    other = person("td.clerk", uuid.uuid4(), "กค 0300", "clerk")
    await refused(404, drafting.dispatch(db, draft["id"], other))
    assert [d["id"] for d in await drafting.drafts_in_box(db, CGD_CLERK, "to_dispatch", (), None, 50)] == [draft["id"]]
    assert await drafting.drafts_in_box(db, RD_CLERK, "to_dispatch", (), None, 50) == []
    budget_clerk = person("budget.clerk", BUDGET, "กค 0402", "clerk")
    assert (await drafting.dispatch(db, draft["id"], budget_clerk))["status"] == "sent"
    assert await drafting.drafts_in_box(db, CGD_CLERK, "to_dispatch", (), None, 50) == []


# ── A signed letter among the letters ──────────────────────────────────────────────────────────────────


async def test_a_signed_letter_is_in_the_send_register_but_in_no_one_s_hands_yet(db):
    draft = await signed_draft(db)
    rows = await service.send_register(db, OFFICER, BUDGET, buddhist_year(), None, 50)
    assert [(r["doc_no"], r["status"], r["recipient_org_ids"]) for r in rows] == [("กค 0402/1", "signed", [])]
    mine = await service.sent_letters(db, OFFICER, None, 50)
    assert [(m["doc_no"], m["status"], m["deliveries"]) for m in mine] == [("กค 0402/1", "signed", [])]
    await refused(404, service.get_letter(db, draft["letter_id"], RD_CLERK))  # not before dispatch
    # Cancelled before dispatch: it keeps its number, and it can no longer be dispatched.
    cancelled = await service.cancel_letter(db, draft["letter_id"], "ลงนามผิดฉบับ", OFFICER)
    assert cancelled["status"] == "cancelled"
    problem = await refused(409, drafting.dispatch(db, draft["id"], CGD_CLERK))
    assert "cancelled" in problem.detail
    assert await drafting.drafts_in_box(db, CGD_CLERK, "to_dispatch", (), None, 50) == []
    assert [e.type for e in await outbox(db)].count("letter.sent.v1") == 0


# ── Who sees what; the boxes ───────────────────────────────────────────────────────────────────────────


async def test_boxes(db):
    draft = await walk_to_signature(db)
    waiting = await drafting.create_draft(db, draft_request(subject="รอผู้ตรวจ"), OFFICER, None)
    await drafting.move(db, waiting["id"], "propose", OFFICER)

    async def box(who, name, signs_for=()):
        return [d["id"] for d in await drafting.drafts_in_box(db, who, name, signs_for, None, 50)]

    assert await box(OFFICER, "mine") == [waiting["id"], draft["id"]]  # the latest change first
    assert await box(HEAD, "to_review") == [waiting["id"]]
    assert await box(DIRECTOR, "to_review") == []
    assert await box(DG, "to_sign") == [draft["id"]]
    assert await box(DEPUTY, "to_sign") == []
    assert await box(DEPUTY, "to_sign", (DG.user,)) == [draft["id"]]  # holding a delegation from the signer
    # The deputy reads it for the signer too, but only while it waits for a signature.
    assert (await drafting.get_draft(db, draft["id"], DEPUTY, (DG.user,)))["id"] == draft["id"]
    await refused(404, drafting.get_draft(db, waiting["id"], DEPUTY, (DG.user,)))
    page = await drafting.drafts_in_box(db, OFFICER, "mine", (), None, 1)
    rest = await drafting.drafts_in_box(db, OFFICER, "mine", (), (page[0]["updated_at"], page[0]["id"]), 50)
    assert [d["id"] for d in page + rest] == [waiting["id"], draft["id"]]


async def test_a_classified_draft_only_for_those_cleared(db):
    draft = await drafting.create_draft(db, draft_request(secrecy="secret"), OFFICER, None)
    assert (await drafting.get_draft(db, draft["id"], HEAD))["secrecy"] == "secret"
    await refused(404, drafting.get_draft(db, draft["id"], BUDGET_STAFF))  # same unit, not cleared
    assert await drafting.drafts_in_box(db, BUDGET_STAFF, "mine", (), None, 50) == []
    assert (await drafting.get_draft(db, draft["id"], BUDGET_STAFF.model_copy(update={"clearance": "secret"})))["id"]
