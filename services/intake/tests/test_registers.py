"""The send register as intake keeps it: scoped to the unit, both series, numbering set only forward."""

import asyncio
import uuid

import pytest

from services.intake import service
from services.intake.bootstrap import build
from services.intake.domain.letters import NewLetter
from services.intake.tests.directory import ministry
from shared.bus.memory import MemoryBus
from shared.principal import Principal
from shared.problems import Problem
from shared.registers import NextNumberRequest
from shared.settings import Settings
from shared.thai import buddhist_year

OPS = Principal(user="ops.clerk", org_id=uuid.uuid4(), org_code="กค 0200", roles=("clerk",), clearance="secret")
CGD = Principal(user="cgd.clerk", org_id=uuid.uuid4(), org_code="กค 0400", roles=("clerk",))
AUDITOR = Principal(user="auditor", org_id=uuid.uuid4(), roles=("auditor",))
ADMIN = Principal(user="admin", org_id=uuid.uuid4(), roles=("admin",))


@pytest.fixture
async def db(tmp_path):
    runtime = build(Settings(demo=True, data_dir=tmp_path), MemoryBus())
    await runtime.start()
    await ministry(runtime.db, uuid.uuid4(), OPS.org_id, CGD.org_id)
    yield runtime.db
    await runtime.stop()


async def send(db, subject="ขอเชิญประชุม", circular=False, secrecy="normal") -> dict:
    letter = NewLetter(
        letter_type="external",
        subject=subject,
        body="",
        recipient_org_ids=(CGD.org_id,),
        circular=circular,
        urgency="normal",
        secrecy=secrecy,
    )
    return await service.send_letter(db, letter, OPS, None)


async def test_rows_of_both_series_by_number_then_pages(db):
    await send(db)
    await send(db, circular=True)
    await send(db)
    year = buddhist_year()
    rows = await service.send_register(db, OPS, OPS.org_id, year, None, 50)
    assert [(r["register_no"], r["doc_no"]) for r in rows] == [(1, "กค 0200/1"), (1, "กค 0200/ว 1"), (2, "กค 0200/2")]
    assert rows[0]["recipient_org_ids"] == [CGD.org_id]
    rest = await service.send_register(db, OPS, OPS.org_id, year, (1, "send_circular"), 50)
    assert [r["doc_no"] for r in rest] == ["กค 0200/2"]
    assert await service.send_register(db, OPS, OPS.org_id, year - 1, None, 50) == []


async def test_only_the_unit_and_auditors_read_it(db):
    await send(db, subject="เรื่องลับ", secrecy="secret")
    year = buddhist_year()
    with pytest.raises(Problem) as outside:
        await service.send_register(db, CGD, OPS.org_id, year, None, 50)
    assert outside.value.status == 404
    assert await service.send_register(db, CGD, CGD.org_id, year, None, 50) == []
    [seen] = await service.send_register(db, AUDITOR, OPS.org_id, year, None, 50)
    # The row and its number are there for the auditor; the subject only for readers cleared for ลับมาก.
    assert (seen["doc_no"], seen["subject"]) == ("กค 0200/1", "[หนังสือลับมาก]")
    assert (await service.send_register(db, OPS, OPS.org_id, year, None, 50))[0]["subject"] == "เรื่องลับ"


async def test_only_an_admin_sets_the_next_number_and_only_forward(db):
    await send(db)
    request = NextNumberRequest(year=buddhist_year(), next_number=30, org_id=OPS.org_id)
    with pytest.raises(Problem) as denied:
        await service.set_send_next_number(db, OPS, request)
    assert denied.value.status == 403
    assert (await service.set_send_next_number(db, ADMIN, request))["next_number"] == 30
    assert (await send(db))["doc_no"] == "กค 0200/30"
    with pytest.raises(Problem) as lower:
        await service.set_send_next_number(db, ADMIN, request)
    assert lower.value.status == 409 and "30" in lower.value.detail
    with pytest.raises(Problem) as past:
        await service.set_send_next_number(db, ADMIN, request.model_copy(update={"year": buddhist_year() - 1}))
    assert past.value.status == 422
    circular = request.model_copy(update={"series": "circular", "next_number": 5})
    await service.set_send_next_number(db, ADMIN, circular)
    assert (await send(db, circular=True))["doc_no"] == "กค 0200/ว 5"


async def test_setting_a_number_is_an_audited_event(db):
    from sqlalchemy import select

    from services.intake.adapters import tables
    from shared.contracts import Envelope

    request = NextNumberRequest(year=buddhist_year(), next_number=12, org_id=OPS.org_id)
    await service.set_send_next_number(db, ADMIN, request)
    async with db.read() as session:
        bodies = (await session.execute(select(tables.outbox.c.body))).scalars().all()
    events = [Envelope.model_validate_json(b) for b in bodies]
    assert [(e.type, e.actor, e.data["next_number"], e.data["register_name"]) for e in events] == [
        ("register.number-set.v1", "admin", 12, "send")
    ]


async def test_a_unit_without_registers_is_numbered_in_its_registry_one_gap_free_series(db):
    """กองกลาง keeps no registers: its letters take กรมบัญชีกลาง's next send number and carry its code, in one
    series with the department's own, gap-free when both send at once; each row names its sending unit."""
    secretariat = Principal(
        user="cgd.sec",
        org_id=uuid.uuid4(),
        org_code="กค 0401",
        registry_org_id=CGD.org_id,
        registry_code="กค 0400",
        roles=("clerk",),
    )

    def to_ops(subject: str) -> NewLetter:
        return NewLetter("external", subject, "", (OPS.org_id,), False, "normal", "normal")

    senders = [secretariat, CGD] * 5
    sent = await asyncio.gather(
        *(service.send_letter(db, to_ops(f"ที่ {i}"), who, None) for i, who in enumerate(senders))
    )
    assert sorted(letter["register_no"] for letter in sent) == list(range(1, 11))
    assert all(letter["doc_no"] == f"กค 0400/{letter['register_no']}" for letter in sent)
    year = buddhist_year()
    rows = await service.send_register(db, CGD, CGD.org_id, year, None, 50)
    assert [r["register_no"] for r in rows] == list(range(1, 11))
    by_sender = {r["doc_no"]: r["sender_org_id"] for r in rows}
    assert {by_sender[letter["doc_no"]] for letter in sent[::2]} == {secretariat.org_id}
    assert {r["register_org_id"] for r in rows} == {CGD.org_id}
    # The secretariat's clerk reads the register its letters are in; its own unit has no rows of its own.
    assert len(await service.send_register(db, secretariat, CGD.org_id, year, None, 50)) == 10
    assert await service.send_register(db, secretariat, secretariat.org_id, year, None, 50) == []
    # Its letters are still its own: listed as sent by it, read by it.
    mine = await service.sent_letters(db, secretariat, None, 50)
    assert len(mine) == 5 and {m["sender_org_id"] for m in mine} == {secretariat.org_id}
    # An admin moving the secretariat's numbering on moves the registry's.
    admin_there = ADMIN.model_copy(update={"registry_org_id": CGD.org_id, "registry_code": "กค 0400"})
    request = NextNumberRequest(year=year, next_number=20)
    assert (await service.set_send_next_number(db, admin_there, request))["org_id"] == CGD.org_id
    assert (await service.send_letter(db, to_ops("ต่อ"), secretariat, None))["doc_no"] == "กค 0400/20"
