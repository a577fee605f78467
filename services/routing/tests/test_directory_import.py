"""Importing the directory on a real (SQLite) database: all or nothing, the dry run, the events staged, the
refusal to retire a unit holding unregistered letters, names kept across a rename, retired units."""

import json
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from services.routing import service
from services.routing.adapters import tables
from services.routing.domain.directory import Unit
from services.routing.tests.test_service import CGD, OPS, RD, deliver, letter_sent
from shared import thai
from shared.contracts import Envelope
from shared.problems import Problem
from shared.seed import org_id


async def outbox(runtime, prefix="directory.") -> list[Envelope]:
    async with runtime.db.read() as session:
        rows = (await session.execute(select(tables.outbox.c.body).order_by(tables.outbox.c.seq))).scalars()
        return [e for e in (Envelope.decode(body.encode()) for body in rows) if e.type.startswith(prefix)]


async def forget_outbox(runtime) -> None:
    async with runtime.db.transaction() as session:
        await session.execute(delete(tables.outbox))


async def directory(runtime) -> list[Unit]:
    return await service.export_directory(runtime.db)


def by_key(units: list[Unit]) -> dict[str, Unit]:
    return {u.key: u for u in units}


async def test_the_sample_is_announced_once_and_loaded_again_changes_nothing(routing):
    runtime, _ = routing
    units = await directory(runtime)
    announced = await outbox(runtime)  # the first start added every unit of the sample, as "system"
    assert len(units) == 33 and {(e.type, e.actor) for e in announced} == {("directory.unit.added.v1", "system")}
    assert sorted(e.data["unit"]["key"] for e in announced) == sorted(u.key for u in units)
    await forget_outbox(runtime)
    assert (await service.seed_directory(runtime.db))["added"] == []
    exported = await directory(runtime)
    answer = await service.import_directory(runtime.db, exported, dry_run=False, actor="admin")
    assert answer == {"applied": True, "added": [], "changed": [], "retired": [], "changed_fields": {}}
    assert await outbox(runtime) == [] and await directory(runtime) == exported


async def test_a_dry_run_shows_the_diff_and_changes_nothing(routing):
    runtime, _ = routing
    await forget_outbox(runtime)
    before = await directory(runtime)
    units = by_key(before)
    units["cgd.budget"] = replace(units["cgd.budget"], name="กองบริหารเงินงบประมาณ", code="กค 0409")
    del units["fpo.macro"]
    units["cgd.budget.new"] = Unit("cgd.budget.new", "กลุ่มงานใหม่", "กค 0402.3", "section", parent_key="cgd.budget")
    answer = await service.import_directory(runtime.db, list(units.values()), dry_run=True, actor="admin")
    assert answer["applied"] is False
    assert answer["added"] == ["cgd.budget.new"] and answer["retired"] == ["fpo.macro"]
    assert answer["changed_fields"] == {"cgd.budget": ["name", "code"]}
    assert await directory(runtime) == before and await outbox(runtime) == []


async def test_applying_stages_one_event_per_unit_with_what_changed(routing):
    runtime, _ = routing
    await forget_outbox(runtime)
    units = by_key(await directory(runtime))
    units["cgd.budget"] = replace(units["cgd.budget"], name="กองบริหารเงินงบประมาณ", own_registers=False)
    del units["fpo.macro"]
    units["cgd.budget.new"] = Unit("cgd.budget.new", "กลุ่มงานใหม่", "กค 0402.3", "section", parent_key="cgd.budget")
    await service.import_directory(runtime.db, list(units.values()), dry_run=False, actor="admin")
    events = {e.type: e for e in await outbox(runtime)}
    assert set(events) == {"directory.unit.added.v1", "directory.unit.changed.v1", "directory.unit.retired.v1"}
    changed = events["directory.unit.changed.v1"]
    assert changed.actor == "admin" and changed.subject == str(org_id("cgd.budget"))
    assert changed.data["changed_fields"] == ["name", "own_registers"]
    assert changed.data["unit"]["name"] == "กองบริหารเงินงบประมาณ"
    added = events["directory.unit.added.v1"].data
    assert added["org_id"] == str(org_id("cgd.budget.new")) and added["parent_org_id"] == str(org_id("cgd.budget"))
    retired = events["directory.unit.retired.v1"].data
    assert retired["unit"]["valid_to"] == (thai.today() - timedelta(days=1)).isoformat()


UNKNOWN = "ไม่พบหน่วยงานผู้รับในทะเบียนหน่วยงาน (unknown recipient_org_ids)"


async def forward_refused(routing, targets) -> list[str]:
    """Forwarding a letter CGD registered to these units: what routing's 422 says of them."""
    runtime, _ = routing
    (delivery,) = await deliver(routing, letter_sent(recipients=(CGD,)))
    await service.receive(runtime.db, delivery["id"], CGD)
    with pytest.raises(Problem) as refused:
        await service.forward(runtime.db, delivery["id"], targets, "", CGD)
    assert (refused.value.status, refused.value.detail) == (422, UNKNOWN)
    # Nothing was forwarded, not even to the units in force: the letter stays registered with CGD alone.
    rows = await service.deliveries_of_letters(runtime.db, [delivery["letter_id"]], OPS)
    assert [(r["recipient_org_id"], r["status"]) for r in rows] == [(CGD.org_id, "received")]
    return [error["message"] for error in refused.value.errors]


async def test_forwarding_to_a_unit_not_in_the_directory_is_refused_naming_it(routing):
    stranger = uuid.uuid4()
    assert await forward_refused(routing, [RD.org_id, stranger]) == [f"unknown: {stranger}"]


async def test_a_retired_unit_is_not_listed_nor_a_recipient_but_still_readable(routing):
    runtime, _ = routing
    units = [u for u in await directory(runtime) if u.key != "fpo.macro"]
    await service.import_directory(runtime.db, units, dry_run=False, actor="admin")
    retired = org_id("fpo.macro")
    assert retired not in {o["id"] for o in await service.list_orgs(runtime.db)}
    assert await forward_refused(routing, [retired, RD.org_id]) == [f"unknown: {retired}"]
    assert (await service.get_org(runtime.db, retired))["name"] == "สำนักนโยบายเศรษฐกิจมหภาค"
    # Exported with its last day, and imported so, it stays as it is.
    again = await service.import_directory(runtime.db, await directory(runtime), dry_run=False, actor="admin")
    assert again["retired"] == [] and again["changed"] == []


async def test_a_unit_holding_an_unregistered_letter_cannot_be_retired(routing):
    runtime, _ = routing
    await deliver(routing, letter_sent(recipients=(CGD,)))
    await forget_outbox(runtime)
    before = await directory(runtime)
    keep = [u for u in before if not u.key.startswith("cgd")]
    new = Unit("rd.new", "กองใหม่", "กค 0709", "division", parent_key="rd")
    with pytest.raises(Problem) as refused:
        await service.import_directory(runtime.db, [*keep, new], dry_run=False, actor="admin")
    assert refused.value.status == 422
    (error,) = refused.value.errors
    assert error["field"] == "valid_to" and "cgd" in error["message"] and "not yet registered" in error["message"]
    assert await directory(runtime) == before and await outbox(runtime) == []  # not even rd.new


async def test_a_rename_keeps_the_name_an_old_letter_was_sent_under(routing):
    runtime, _ = routing
    sent_at = thai.now()
    units = by_key(await directory(runtime))
    units["rd"] = replace(units["rd"], name="กรมภาษีอากร", code="กค 0800x")
    units["sepo"] = replace(units["sepo"], code="กค 0810")
    await service.import_directory(runtime.db, list(units.values()), dry_run=False, actor="admin")
    renamed_at = thai.now()
    units["rd"] = replace(units["rd"], name="กรมสรรพากรใหม่")
    await service.import_directory(runtime.db, list(units.values()), dry_run=False, actor="admin")
    rd = org_id("rd")
    then = await service.get_org(runtime.db, rd, sent_at)
    assert (then["name"], then["code"]) == ("กรมสรรพากร", "กค 0700")
    between = await service.get_org(runtime.db, rd, renamed_at)
    assert (between["name"], between["code"]) == ("กรมภาษีอากร", "กค 0800x")
    now = await service.get_org(runtime.db, rd)
    assert (now["name"], now["code"]) == ("กรมสรรพากรใหม่", "กค 0800x")


async def test_an_invalid_directory_changes_nothing(routing):
    runtime, _ = routing
    before = await directory(runtime)
    looped = [replace(u, parent_key="cgd.budget") if u.key == "cgd" else u for u in before]
    with pytest.raises(Problem) as refused:
        await service.import_directory(runtime.db, looped, dry_run=False, actor="admin")
    assert refused.value.status == 422 and {e["field"] for e in refused.value.errors} == {"parent_key"}
    assert await directory(runtime) == before
    assert json.dumps(refused.value.body(), ensure_ascii=False)  # serialisable as a problem answer
