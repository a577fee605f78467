"""The receive register as routing keeps it: what the unit registered, by receive number, scoped to it."""

import uuid
from datetime import UTC, datetime

import pytest

from services.routing import service
from services.routing.bootstrap import build
from shared.bus.memory import MemoryBus
from shared.contracts import DeliveryRef, LetterSent
from shared.principal import Principal
from shared.problems import Problem
from shared.registers import NextNumberRequest
from shared.seed import org_id
from shared.settings import Settings
from shared.thai import buddhist_year
from tests.e2e.helpers import eventually

OPS = Principal(user="ops.clerk", org_id=org_id("ops"), org_code="กค 0200", roles=("clerk",))
CGD = Principal(user="cgd.clerk", org_id=org_id("cgd"), org_code="กค 0400", roles=("clerk",))
RD = Principal(user="rd.clerk", org_id=org_id("rd"), org_code="กค 0700", roles=("clerk",))
AUDITOR = Principal(user="auditor", org_id=org_id("mof"), roles=("auditor",))
ADMIN = Principal(user="admin", org_id=org_id("mof"), roles=("admin",))


@pytest.fixture
async def runtime(tmp_path):
    bus = MemoryBus(retry_seconds=0.05)
    runtime = build(Settings(demo=True, data_dir=tmp_path), bus)
    await runtime.start()
    yield runtime
    await runtime.stop()
    await bus.close()


def letter_sent(subject="ขอเชิญประชุม", recipients=(CGD, RD)) -> LetterSent:
    return LetterSent(
        letter_id=uuid.uuid4(),
        doc_no="กค 0200/1",
        sender_org_id=OPS.org_id,
        letter_type="external",
        subject=subject,
        urgency="normal",
        secrecy="normal",
        circular=False,
        sent_at=datetime.now(UTC),
        attachment_ids=[],
        deliveries=[DeliveryRef(delivery_id=uuid.uuid4(), recipient_org_id=r.org_id) for r in recipients],
    )


async def deliver(runtime, event: LetterSent) -> None:
    """Through the bus and routing's consumer, as intake's `letter.sent` arrives."""
    envelope = event.envelope(source="test", subject=str(event.letter_id), actor="ops.clerk", correlation_id=None)
    await runtime.bus.publish(envelope)

    async def arrived():
        rows = await service.deliveries_of_letters(runtime.db, [event.letter_id], OPS)
        return len(rows) == len(event.deliveries)

    await eventually(arrived)


def delivery_to(event: LetterSent, unit: Principal) -> uuid.UUID:
    return next(d.delivery_id for d in event.deliveries if d.recipient_org_id == unit.org_id)


async def test_registered_deliveries_are_listed_by_receive_number(runtime):
    first, second, third = letter_sent(subject="หนึ่ง"), letter_sent(subject="สอง"), letter_sent(subject="สาม")
    for event in (first, second, third):
        await deliver(runtime, event)
    await service.receive(runtime.db, delivery_to(second, CGD), CGD)
    await service.receive(runtime.db, delivery_to(first, CGD), CGD)
    year = buddhist_year()
    rows = await service.receive_register(runtime.db, CGD, CGD.org_id, year, None, 50)
    assert [(r["register_no"], r["subject"]) for r in rows] == [(1, "สอง"), (2, "หนึ่ง")]  # third: not registered
    assert rows[0]["sender_org_id"] == OPS.org_id and rows[0]["received_by"] == "cgd.clerk"
    assert [r["subject"] for r in await service.receive_register(runtime.db, CGD, CGD.org_id, year, 1, 50)] == ["หนึ่ง"]
    assert await service.receive_register(runtime.db, RD, RD.org_id, year, None, 50) == []
    assert len(await service.receive_register(runtime.db, AUDITOR, CGD.org_id, year, None, 50)) == 2
    with pytest.raises(Problem) as outside:
        await service.receive_register(runtime.db, RD, CGD.org_id, year, None, 50)
    assert outside.value.status == 404


async def test_the_receive_register_continues_where_an_admin_set_it(runtime):
    event = letter_sent(recipients=(CGD,))
    await deliver(runtime, event)
    request = NextNumberRequest(year=buddhist_year(), next_number=9, org_id=CGD.org_id)
    with pytest.raises(Problem) as denied:
        await service.set_receive_next_number(runtime.db, CGD, request)
    assert denied.value.status == 403
    with pytest.raises(Problem) as series:
        await service.set_receive_next_number(runtime.db, ADMIN, request.model_copy(update={"series": "circular"}))
    assert series.value.status == 422
    await service.set_receive_next_number(runtime.db, ADMIN, request)
    assert (await service.receive(runtime.db, event.deliveries[0].delivery_id, CGD))["receive_no"] == 9
    with pytest.raises(Problem) as lower:
        await service.set_receive_next_number(runtime.db, ADMIN, request)
    assert lower.value.status == 409
