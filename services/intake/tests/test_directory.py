"""Intake's copy of the directory, fed by routing's announcements (added, changed, retired; late, twice), and
the letters it refuses with it: to a unit unknown or not in force, an internal memo leaving the ministry."""

import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from services.intake import service
from services.intake.bootstrap import build
from services.intake.domain.directory import KnownUnit, check_recipients, ministry_of, outside_ministry
from services.intake.domain.letters import LetterRefused, NewLetter
from services.intake.tests.directory import announcement, hear, ministry
from shared import thai
from shared.bus.memory import MemoryBus
from shared.contracts import DirectoryUnitChanged, DirectoryUnitRetired
from shared.db import Database
from shared.principal import Principal
from shared.problems import Problem
from shared.seed import sample_org_ids
from shared.settings import Settings

MOF, OPS, CGD, RD, MOI, DOPA = (uuid.uuid4() for _ in range(6))
SENDER = Principal(user="ops.clerk", org_id=OPS, org_code="กค 0200", roles=("clerk",))
UNKNOWN_DETAIL = "ไม่พบหน่วยงานผู้รับในทะเบียนหน่วยงาน (unknown recipient_org_ids)"
MEMO_DETAIL = (
    "หนังสือภายใน (บันทึกข้อความ) ใช้ติดต่อภายในกระทรวงเดียวกันเท่านั้น ให้ใช้หนังสือภายนอก "
    "(an internal memo stays within one ministry; use an external letter)"
)
TODAY = date(2026, 12, 3)
NOON = datetime(2026, 12, 3, 5, tzinfo=UTC)


# ── The rules (no I/O) ───────────────────────────────────────────────────────────────────────────────────


def unit(org, kind="department", parent=None, valid_from=None, valid_to=None) -> KnownUnit:
    return KnownUnit(org, parent, kind, valid_from, valid_to, NOON)


UNITS = {
    MOF: unit(MOF, "ministry"),
    OPS: unit(OPS, "ops", MOF),
    CGD: unit(CGD, "department", MOF),
    MOI: unit(MOI, "ministry"),
    DOPA: unit(DOPA, "department", MOI),
}


def test_a_unit_belongs_to_the_ministry_above_it():
    assert (
        ministry_of(CGD, UNITS) == MOF and ministry_of(MOF, UNITS) == MOF and ministry_of(uuid.uuid4(), UNITS) is None
    )


def test_an_internal_memo_may_not_leave_the_ministry():
    assert outside_ministry(OPS, [CGD], UNITS) == []
    assert outside_ministry(OPS, [CGD, DOPA], UNITS) == [DOPA]


def test_a_cycle_in_the_directory_does_not_hang():
    a, b = uuid.uuid4(), uuid.uuid4()
    assert ministry_of(a, {a: unit(a, "division", b), b: unit(b, "division", a)}) is None


def test_a_unit_is_in_force_from_its_first_day_through_its_last():
    assert unit(CGD).in_force(TODAY)
    assert unit(CGD, valid_from=TODAY, valid_to=TODAY).in_force(TODAY)
    assert not unit(CGD, valid_from=TODAY + timedelta(days=1)).in_force(TODAY)  # not yet
    assert not unit(CGD, valid_to=TODAY - timedelta(days=1)).in_force(TODAY)  # retired


def test_a_retired_parent_leads_to_no_ministry():
    units = {**UNITS, MOF: unit(MOF, "ministry", valid_to=TODAY - timedelta(days=1))}
    with pytest.raises(LetterRefused) as refused:
        check_recipients("internal", OPS, [CGD], units, TODAY)
    assert refused.value.field == "type"
    check_recipients("external", OPS, [CGD], units, TODAY)  # an external letter asks nothing of the ministry


# ── On a real database ───────────────────────────────────────────────────────────────────────────────────


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request, tmp_path):
    """Intake's database, migrated, on SQLite and on PostgreSQL (where concurrent consumers would meet)."""
    if request.param == "sqlite":
        database = None
    else:
        url = request.getfixturevalue("postgres_url")
        database = Database(url, schema=f"intake_{uuid.uuid4().hex[:8]}")
    runtime = build(Settings(demo=True, data_dir=tmp_path), MemoryBus(), database)
    await runtime.start()
    await ministry(runtime.db, MOF, OPS, CGD, RD)
    await ministry(runtime.db, MOI, DOPA)
    yield runtime.db
    await runtime.stop()


def letter(*recipients: uuid.UUID, letter_type="external") -> NewLetter:
    return NewLetter(letter_type, "ขอเชิญประชุม", "", tuple(recipients), False, "normal", "normal")


async def refusal(db, sent: NewLetter, key: str | None = None) -> Problem:
    with pytest.raises(Problem) as refused:
        await service.send_letter(db, sent, SENDER, key)
    assert refused.value.status == 422
    return refused.value


async def test_a_letter_to_a_unit_never_announced_is_refused_naming_it_and_uses_no_number(db):
    stranger = uuid.uuid4()
    refused = await refusal(db, letter(CGD, stranger))
    assert refused.detail == UNKNOWN_DETAIL
    assert refused.errors == [{"field": "recipient_org_ids", "message": f"unknown: {stranger}"}]
    assert (await service.send_letter(db, letter(CGD), SENDER, None))["doc_no"] == "กค 0200/1"


async def test_an_added_unit_receives_letters(db):
    new = uuid.uuid4()
    await refusal(db, letter(new))
    await hear(db, announcement(new, "division", CGD))
    assert (await service.send_letter(db, letter(new), SENDER, None))["deliveries"][0]["recipient_org_id"] == new


async def test_a_retired_unit_receives_nothing_new_but_a_replayed_send_still_answers(db):
    first = await service.send_letter(db, letter(RD), SENDER, "key-1")
    yesterday = thai.today() - timedelta(days=1)
    await hear(db, announcement(RD, "department", MOF, cls=DirectoryUnitRetired, valid_to=yesterday))
    refused = await refusal(db, letter(RD))
    assert refused.errors == [{"field": "recipient_org_ids", "message": f"unknown: {RD}"}]
    # The same request again, with its key: the letter accepted before the retirement.
    assert (await service.send_letter(db, letter(RD), SENDER, "key-1"))["id"] == first["id"]


async def test_a_unit_not_yet_in_force_receives_nothing_yet(db):
    soon = uuid.uuid4()
    await hear(db, announcement(soon, "division", CGD, valid_from=thai.today() + timedelta(days=1)))
    assert (await refusal(db, letter(soon))).detail == UNKNOWN_DETAIL
    await hear(db, announcement(soon, "division", CGD, cls=DirectoryUnitChanged, changed_fields=["valid_from"]))
    assert (await service.send_letter(db, letter(soon), SENDER, None))["doc_no"].startswith("กค 0200/")


async def test_an_internal_memo_stays_within_the_ministry_as_the_directory_says_now(db):
    assert (await service.send_letter(db, letter(CGD, letter_type="internal"), SENDER, None))["doc_no"]
    refused = await refusal(db, letter(CGD, DOPA, letter_type="internal"))
    assert (refused.detail, refused.errors) == (
        MEMO_DETAIL,
        [{"field": "type", "message": "internal memo outside the ministry"}],
    )
    assert (await service.send_letter(db, letter(DOPA), SENDER, None))["doc_no"]  # an external letter may go
    # CGD moves to the other ministry: a memo to it now leaves the sender's.
    await hear(db, announcement(CGD, "department", MOI, cls=DirectoryUnitChanged, changed_fields=["parent_key"]))
    assert (await refusal(db, letter(CGD, letter_type="internal"))).detail == MEMO_DETAIL
    # A memo to a unit nobody announced is refused as leaving the ministry, as routing answered before.
    assert (await refusal(db, letter(uuid.uuid4(), letter_type="internal"))).detail == MEMO_DETAIL


async def test_a_division_under_a_department_is_within_the_ministry(db):
    division, section = uuid.uuid4(), uuid.uuid4()
    await hear(db, announcement(division, "division", CGD), announcement(section, "section", division))
    assert (await service.send_letter(db, letter(section, letter_type="internal"), SENDER, None))["doc_no"]


async def test_parents_announced_in_a_cycle_lead_to_no_ministry_and_do_not_hang(db):
    a, b = uuid.uuid4(), uuid.uuid4()
    await hear(db, announcement(a, "division", b), announcement(b, "division", a))
    assert (await refusal(db, letter(a, letter_type="internal"))).detail == MEMO_DETAIL
    assert (await service.send_letter(db, letter(a), SENDER, None))["doc_no"]  # known and in force


async def test_an_older_announcement_arriving_late_changes_nothing(db):
    late = uuid.uuid4()
    added = announcement(late, "division", CGD, at=NOON)
    retired = announcement(late, "division", CGD, cls=DirectoryUnitRetired, valid_to=date(2026, 1, 1),
                           at=NOON + timedelta(minutes=5))  # fmt: skip
    await hear(db, retired, added)  # the retirement overtook the addition on the way
    assert (await refusal(db, letter(late))).detail == UNKNOWN_DETAIL
    # And a change after both still applies: routing brought the unit back.
    back = announcement(late, "division", CGD, cls=DirectoryUnitChanged, changed_fields=["valid_to"],
                        at=NOON + timedelta(minutes=9))  # fmt: skip
    await hear(db, back)
    assert (await service.send_letter(db, letter(late), SENDER, None))["doc_no"]


async def test_an_announcement_delivered_twice_is_kept_once(db):
    twice = uuid.uuid4()
    added = announcement(twice, "division", CGD, at=NOON)
    retired = announcement(twice, "division", CGD, cls=DirectoryUnitRetired, valid_to=date(2026, 1, 1),
                           at=NOON + timedelta(minutes=5))  # fmt: skip
    await hear(db, added, retired, added, retired)  # redelivered after the broker lost the acks
    assert (await refusal(db, letter(twice))).detail == UNKNOWN_DETAIL
    assert (await service.knows_units(db, [twice])) is True


async def test_in_demo_mode_intake_is_ready_once_it_knows_the_sample_directory(tmp_path):
    runtime = build(Settings(demo=True, data_dir=tmp_path), MemoryBus())
    await runtime.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=runtime.app), base_url="http://intake") as api:
            sample = sample_org_ids()
            await hear(runtime.db, *(announcement(org) for org in sample[:-1]))
            answer = await api.get("/readyz")
            assert (answer.status_code, answer.json()["checks"]["directory"]) == (503, False)
            await hear(runtime.db, announcement(sample[-1]))
            answer = await api.get("/readyz")
            assert (answer.status_code, answer.json()["checks"]["directory"]) == (200, True)
    finally:
        await runtime.stop()
