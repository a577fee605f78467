"""Intake's use cases on a real (SQLite) database with the memory bus."""

import uuid

import pytest
from sqlalchemy import select

from services.intake import service
from services.intake.adapters import tables
from services.intake.bootstrap import build
from services.intake.domain.letters import NewLetter
from services.intake.tests.directory import ministry
from shared.bus.memory import MemoryBus
from shared.principal import Principal
from shared.problems import Problem
from shared.settings import Settings

OPS = Principal(user="ops.clerk", org_id=uuid.uuid4(), org_code="กค 0200", roles=("clerk",))
CGD = Principal(user="cgd.clerk", org_id=uuid.uuid4(), org_code="กค 0400", roles=("clerk",))
RD = Principal(user="rd.clerk", org_id=uuid.uuid4(), org_code="กค 0700", roles=("clerk",))


@pytest.fixture
async def db(tmp_path):
    runtime = build(Settings(demo=True, data_dir=tmp_path), MemoryBus())
    await runtime.start()
    await ministry(runtime.db, uuid.uuid4(), OPS.org_id, CGD.org_id, RD.org_id)
    yield runtime.db
    await runtime.stop()


def letter(**change) -> NewLetter:
    base = dict(
        letter_type="external",
        subject="ขอเชิญประชุม",
        body="",
        recipient_org_ids=(CGD.org_id,),
        circular=False,
        urgency="urgent",
        secrecy="normal",
    )
    return NewLetter(**{**base, **change})


async def test_sending_numbers_the_letter_and_stages_letter_sent(db):
    sent = await service.send_letter(db, letter(recipient_org_ids=(CGD.org_id, RD.org_id, CGD.org_id)), OPS, None)
    assert sent["doc_no"] == "กค 0200/1" and sent["status"] == "sent"
    assert [d["recipient_org_id"] for d in sent["deliveries"]] == [CGD.org_id, RD.org_id]
    async with db.read() as session:
        rows = (await session.execute(select(tables.outbox))).all()
    assert [r.type for r in rows] == ["letter.sent.v1"]


async def test_a_recipient_sees_the_letter_and_only_its_own_delivery(db):
    sent = await service.send_letter(db, letter(recipient_org_ids=(CGD.org_id, RD.org_id)), OPS, None)
    seen = await service.get_letter(db, sent["id"], CGD)
    assert [d["recipient_org_id"] for d in seen["deliveries"]] == [CGD.org_id]
    outsider = Principal(user="x", org_id=uuid.uuid4(), roles=("clerk",))
    with pytest.raises(Problem) as missing:
        await service.get_letter(db, sent["id"], outsider)
    assert missing.value.status == 404


async def test_references_must_be_letters_the_sender_can_see(db):
    first = await service.send_letter(db, letter(), OPS, None)
    await service.send_letter(db, letter(reference_letter_ids=(first["id"],)), OPS, None)
    with pytest.raises(Problem) as refused:
        await service.send_letter(db, letter(reference_letter_ids=(first["id"],)), RD, None)
    assert refused.value.status == 422


async def test_the_same_idempotency_key_returns_the_first_letter(db):
    first = await service.send_letter(db, letter(), OPS, "key-1")
    again = await service.send_letter(db, letter(), OPS, "key-1")
    other_org = await service.send_letter(db, letter(recipient_org_ids=(OPS.org_id,)), CGD, "key-1")
    assert again["id"] == first["id"] and other_org["id"] != first["id"]
    with pytest.raises(Problem) as conflict:
        await service.send_letter(db, letter(subject="อื่น"), OPS, "key-1")
    assert conflict.value.status == 409
