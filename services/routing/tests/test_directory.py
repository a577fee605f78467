import uuid

from services.routing.domain.directory import ministry_of, outside_ministry

MOF, OPS, CGD, MOI, DOPA = (uuid.uuid4() for _ in range(5))
ORGS = {
    MOF: {"id": MOF, "kind": "ministry", "parent_id": None},
    OPS: {"id": OPS, "kind": "ops", "parent_id": MOF},
    CGD: {"id": CGD, "kind": "department", "parent_id": MOF},
    MOI: {"id": MOI, "kind": "ministry", "parent_id": None},
    DOPA: {"id": DOPA, "kind": "department", "parent_id": MOI},
}


def test_a_unit_belongs_to_the_ministry_above_it():
    assert ministry_of(CGD, ORGS) == MOF and ministry_of(MOF, ORGS) == MOF and ministry_of(uuid.uuid4(), ORGS) is None


def test_an_internal_memo_may_not_leave_the_ministry():
    assert outside_ministry(OPS, [CGD], ORGS) == []
    assert outside_ministry(OPS, [CGD, DOPA], ORGS) == [DOPA]


def test_a_cycle_in_the_directory_does_not_hang():
    a, b = uuid.uuid4(), uuid.uuid4()
    looped = {a: {"id": a, "kind": "division", "parent_id": b}, b: {"id": b, "kind": "division", "parent_id": a}}
    assert ministry_of(a, looped) is None
