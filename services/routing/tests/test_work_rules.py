"""The rules of the work on a registered letter: every action from every state, orders, the deadline clock,
the agency a head assigns within, and the follow-up's numbers. No I/O."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.routing.domain.deliveries import STATUSES, WORK, WORK_STATES, WorkConflict, next_work, work_state
from services.routing.domain.work import (
    Tally,
    agency_of,
    check_order,
    in_agency,
    may_act,
    overdue,
    resumed_due,
)

NOW = datetime(2026, 12, 10, 3, 0, tzinfo=UTC)

# The whole table, written out: from each state, what each action leads to (None: refused with 409).
NOT_REGISTERED = {action: None for action in WORK}
EXPECTED = {
    **{status: NOT_REGISTERED for status in STATUSES if status not in ("received", "closed")},
    "received": {
        "propose": "proposed",
        "order": "ordered",
        "suspend": None,
        "resume": None,
        "close": None,
        "reopen": None,
        "acknowledge": None,
    },
    "proposed": {
        "propose": "proposed",
        "order": "ordered",
        "suspend": None,
        "resume": None,
        "close": None,
        "reopen": None,
        "acknowledge": None,
    },
    "ordered": {
        "propose": None,
        "order": "ordered",
        "suspend": "suspended",
        "resume": None,
        "close": "closed",
        "reopen": None,
        "acknowledge": "ordered",
    },
    "suspended": {
        "propose": None,
        "order": None,
        "suspend": None,
        "resume": "ordered",
        "close": "closed",
        "reopen": None,
        "acknowledge": "suspended",
    },
    "closed": {
        "propose": None,
        "order": None,
        "suspend": None,
        "resume": None,
        "close": None,
        "reopen": "ordered",
        "acknowledge": "closed",
    },
}


def _stored(state: str) -> tuple[str, str | None]:
    """The (status, stage) a delivery at this work state has."""
    if state in ("proposed", "ordered", "suspended"):
        return "received", state
    return state, ("ordered" if state == "closed" else None)


def test_the_table_names_every_state_and_action():
    assert set(EXPECTED) == set(WORK_STATES)
    assert all(set(row) == set(WORK) for row in EXPECTED.values())


@pytest.mark.parametrize("state", WORK_STATES)
@pytest.mark.parametrize("action", list(WORK))
def test_every_action_from_every_state(action, state):
    status, stage = _stored(state)
    assert work_state(status, stage) == state
    expected = EXPECTED[state][action]
    if expected is None:
        with pytest.raises(WorkConflict) as conflict:
            next_work(action, status, stage)
        assert conflict.value.state == state and state in str(conflict.value)
        assert WORK[action].thai in str(conflict.value)  # the refusal says, in Thai first, what was refused
    else:
        assert work_state(*next_work(action, status, stage)) == expected


def test_a_closed_delivery_is_closed_whatever_its_stage_was():
    assert next_work("close", "received", "suspended") == ("closed", "suspended")
    assert next_work("reopen", "closed", "ordered") == ("received", "ordered")


def test_an_order_needs_a_known_decision_and_a_future_deadline():
    assert check_order("act", "", NOW + timedelta(days=1), NOW, [], ["cgd.officer"], []) == []
    assert check_order("act", "", None, NOW, [], [], []) == []
    fields = lambda *args: [r.field for r in check_order(*args)]  # noqa: E731
    assert fields("act", "", NOW, NOW, [], ["a"], []) == ["deadline"]  # now is not the future
    assert fields("act", "", NOW - timedelta(minutes=1), NOW, [], ["a"], []) == ["deadline"]
    assert fields("maybe", "", None, NOW, [], [], []) == ["decision"]
    assert fields("other", "  ", None, NOW, [], [], []) == ["decision_text"]
    assert check_order("other", "ให้ประสานกองกฎหมาย", None, NOW, [], [], []) == []
    assert fields("act", "", None, NOW, [], [f"p{i}" for i in range(51)], []) == ["assignee_usernames"]


DIRECTORY = {
    "mof": {"id": uuid.uuid4(), "kind": "ministry"},
    "cgd": {"id": uuid.uuid4(), "kind": "department"},
    "cgd.budget": {"id": uuid.uuid4(), "kind": "division"},
    "cgd.budget.control": {"id": uuid.uuid4(), "kind": "section"},
    "rd": {"id": uuid.uuid4(), "kind": "department"},
}


def chain(*keys: str) -> list[dict]:
    return [DIRECTORY[key] for key in keys]


def test_a_head_assigns_within_his_department():
    cgd = agency_of(chain("cgd", "mof"))
    assert agency_of(chain("cgd.budget", "cgd", "mof")) == cgd  # a division head's agency is his department
    assert in_agency(chain("cgd.budget.control", "cgd.budget", "cgd", "mof"), cgd)
    assert not in_agency(chain("rd", "mof"), cgd)
    assert agency_of(chain("mof")) == DIRECTORY["mof"]["id"]  # a ministry's own units: the ministry


def test_only_an_assignee_or_the_head_who_ordered_may_act():
    given = {"ordered_by": "cgd.head"}
    assert may_act("cgd.officer", given, ["cgd.officer"]) and may_act("cgd.head", given, [])
    assert not may_act("cgd.director", given, ["cgd.officer"])
    assert not may_act("cgd.head", None, [])  # nothing ordered: nobody acts yet


def test_the_due_moment_moves_by_the_pause_and_a_suspended_matter_is_never_overdue():
    due = NOW + timedelta(days=2)
    assert resumed_due(due, NOW, NOW + timedelta(days=3)) == due + timedelta(days=3)
    assert resumed_due(None, NOW, NOW + timedelta(days=3)) is None
    late = NOW + timedelta(days=5)
    assert overdue(due, "ordered", "received", late)
    assert not overdue(due, "suspended", "received", late)
    assert not overdue(due, "ordered", "closed", late)
    assert not overdue(due, "ordered", "received", NOW)


def test_the_tally_counts_open_overdue_closed_this_month_and_the_median():
    month = datetime(2026, 12, 1, tzinfo=UTC)
    tally = Tally()
    tally.add("received", "ordered", NOW - timedelta(hours=1), NOW - timedelta(days=1), None, NOW, month)
    tally.add("received", "suspended", NOW - timedelta(hours=1), NOW - timedelta(days=1), None, NOW, month)
    tally.add("delivered", None, None, NOW, None, NOW, month)
    for hours in (2, 4, 30):
        tally.add("closed", "ordered", None, NOW - timedelta(hours=hours), NOW, NOW, month)
    tally.add("closed", "ordered", None, month - timedelta(days=9), month - timedelta(days=1), NOW, month)  # last month
    assert tally.as_dict() == {"open": 3, "overdue": 1, "closed_this_month": 3, "median_hours_to_close": 4.0}
    assert Tally().as_dict()["median_hours_to_close"] is None
