"""Routing's use cases on a real (SQLite) database with the memory bus."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from services.routing import service
from shared.contracts import DeliveryRef, LetterSent
from shared.principal import Principal
from shared.problems import Problem
from shared.seed import org_id
from tests.e2e.helpers import eventually

OPS = Principal(user="ops.clerk", org_id=org_id("ops"), org_code="กค 0200", roles=("clerk",))
CGD = Principal(user="cgd.clerk", org_id=org_id("cgd"), org_code="กค 0400", roles=("clerk",))
RD = Principal(user="rd.clerk", org_id=org_id("rd"), org_code="กค 0700", roles=("clerk",))


def letter_sent(urgency="normal", subject="ขอเชิญประชุม", recipients=(CGD, RD)) -> LetterSent:
    return LetterSent(
        letter_id=uuid.uuid4(),
        doc_no="กค 0200/1",
        sender_org_id=OPS.org_id,
        letter_type="external",
        subject=subject,
        urgency=urgency,
        secrecy="normal",
        circular=False,
        sent_at=datetime.now(UTC),
        attachment_ids=[],
        deliveries=[DeliveryRef(delivery_id=uuid.uuid4(), recipient_org_id=r.org_id) for r in recipients],
    )


async def deliver(routing, event: LetterSent, times: int = 1):
    runtime, bus = routing
    envelope = event.envelope(source="test", subject=str(event.letter_id), actor="ops.clerk", correlation_id=None)
    for _ in range(times):
        await bus.publish(envelope)

    async def arrived():
        rows = await service.deliveries_of_letters(runtime.db, [event.letter_id], OPS)
        return rows if len(rows) == len(event.deliveries) else None

    return await eventually(arrived)


async def test_the_directory_holds_the_ministry_of_finance(routing):
    runtime, _ = routing
    orgs = {o["key"]: o for o in await service.list_orgs(runtime.db)}
    assert orgs["cgd"]["code"] == "กค 0400" and orgs["cgd"]["name"] == "กรมบัญชีกลาง"
    assert orgs["ops"]["parent_id"] == orgs["mof"]["id"]
    assert orgs["cgd.budget"]["code"] == "กค 0402" and orgs["cgd.budget"]["parent_id"] == orgs["cgd"]["id"]
    assert orgs["cgd.budget.control"]["kind"] == "section" and not orgs["cgd.secretariat"]["own_registers"]
    departments = [o for o in orgs.values() if o["kind"] in ("ops", "department")]
    assert len(departments) == 9 and all(o["parent_id"] == orgs["mof"]["id"] for o in departments)


async def test_a_redelivered_letter_sent_creates_each_delivery_once(routing):
    event = letter_sent()
    rows = await deliver(routing, event, times=3)
    assert {r["status"] for r in rows} == {"delivered"} and len(rows) == 2


async def test_the_inbox_is_ordered_by_urgency_then_newest(routing):
    runtime, _ = routing
    for urgency in ("normal", "most_urgent", "urgent", "very_urgent"):
        await deliver(routing, letter_sent(urgency=urgency, recipients=(CGD,)))
    items = await service.inbox(runtime.db, CGD, None, None, None, 50)
    assert [i["urgency"] for i in items] == ["most_urgent", "very_urgent", "urgent", "normal"]
    assert await service.inbox(runtime.db, RD, None, None, None, 50) == []


async def test_receiving_numbers_in_the_recipients_register_once(routing):
    runtime, _ = routing
    first, second = letter_sent(), letter_sent()
    await deliver(routing, first)
    await deliver(routing, second)
    mine = [d for d in await service.deliveries_of_letters(runtime.db, [first.letter_id, second.letter_id], CGD)]
    numbers = await asyncio.gather(*(service.receive(runtime.db, d["id"], CGD) for d in mine * 2))
    assert sorted({n["receive_no"] for n in numbers}) == [1, 2]
    rd_delivery = next(d for d in first.deliveries if d.recipient_org_id == RD.org_id)
    assert (await service.receive(runtime.db, rd_delivery.delivery_id, RD))["receive_no"] == 1  # RD's own register


async def test_a_unit_without_registers_is_numbered_in_its_registry_and_listed_there(routing):
    """กองกลาง of กรมบัญชีกลาง keeps no registers: its ลงรับ takes กรมบัญชีกลาง's next receive number, and both
    letters are rows of กรมบัญชีกลาง's receive register, each naming the unit it was addressed to."""
    runtime, _ = routing
    secretariat = Principal(user="cgd.sec", org_id=org_id("cgd.secretariat"), org_code="กค 0401", roles=("clerk",))
    first, second = letter_sent(recipients=(CGD,)), letter_sent(recipients=(secretariat,))
    await deliver(routing, first)
    await deliver(routing, second)
    got = await service.receive(runtime.db, first.deliveries[0].delivery_id, CGD)
    theirs = await service.receive(runtime.db, second.deliveries[0].delivery_id, secretariat)
    assert (got["receive_no"], theirs["receive_no"]) == (1, 2)
    assert theirs["register_org_id"] == CGD.org_id
    year = theirs["receive_year"]
    rows = await service.receive_register(runtime.db, CGD, CGD.org_id, year, None, 50)
    assert [(r["register_no"], r["recipient_org_id"]) for r in rows] == [(1, CGD.org_id), (2, secretariat.org_id)]
    assert await service.receive_register(runtime.db, secretariat, secretariat.org_id, year, None, 50) == []
    # Its clerk reads the registry's register; another department's clerk does not.
    numbered_there = secretariat.model_copy(update={"registry_org_id": CGD.org_id, "registry_code": "กค 0400"})
    assert len(await service.receive_register(runtime.db, numbered_there, CGD.org_id, year, None, 50)) == 2
    with pytest.raises(Problem) as outside:
        await service.receive_register(runtime.db, RD, CGD.org_id, year, None, 50)
    assert outside.value.status == 404
    org = await service.get_org(runtime.db, secretariat.org_id)
    assert (org["registry_id"], org["registry_code"]) == (CGD.org_id, "กค 0400")
    listed = {o["key"]: o for o in await service.list_orgs(runtime.db)}
    assert listed["cgd.budget.control"]["registry_id"] == org_id("cgd.budget")
    assert listed["cgd.budget"]["registry_id"] == org_id("cgd.budget")


async def test_another_units_delivery_is_not_found(routing):
    runtime, _ = routing
    event = letter_sent(recipients=(CGD,))
    await deliver(routing, event)
    with pytest.raises(Problem) as missing:
        await service.receive(runtime.db, event.deliveries[0].delivery_id, RD)
    assert missing.value.status == 404
