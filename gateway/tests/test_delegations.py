"""The rules of a delegation of signing authority, without a running system: when it counts, what the
signature block prints, and what a new one must satisfy."""

import uuid
from datetime import UTC, date, datetime

import pytest

from gateway.people.delegations import Delegations, NewDelegation, check, in_force, on_behalf_text
from shared.problems import Problem

CGD, BUDGET = uuid.uuid4(), uuid.uuid4()
PEOPLE = {
    "cgd.dg": {"username": "cgd.dg", "org_id": CGD, "roles": ["executive"], "active": True},
    "cgd.deputy": {"username": "cgd.deputy", "org_id": CGD, "roles": ["executive"], "active": True},
    "cgd.officer": {"username": "cgd.officer", "org_id": BUDGET, "roles": ["staff"], "active": True},
    "cgd.gone": {"username": "cgd.gone", "org_id": CGD, "roles": ["staff"], "active": False},
}
TODAY = date(2026, 12, 2)


def new(**changes) -> NewDelegation:
    values = dict(
        from_username="cgd.dg",
        to_username="cgd.deputy",
        org_id=CGD,
        kind="delegated",
        valid_from=TODAY,
        valid_to=date(2026, 12, 31),
    )
    return NewDelegation(**(values | changes))


def test_a_delegation_counts_from_its_first_to_its_last_day_unless_revoked():
    row = {"valid_from": date(2026, 12, 1), "valid_to": date(2026, 12, 3), "revoked_at": None}
    assert [in_force(row, date(2026, 12, day)) for day in (1, 3, 4)] == [True, True, False]
    assert not in_force(row, date(2026, 11, 30))
    assert not in_force({**row, "revoked_at": datetime(2026, 12, 2, tzinfo=UTC)}, date(2026, 12, 2))


def test_the_day_is_bangkoks():
    # 17:30 UTC on 1 December is 00:30 on 2 December in Bangkok.
    delegations = Delegations(db=None, clock=lambda: datetime(2026, 12, 1, 17, 30, tzinfo=UTC))
    assert delegations.today() == date(2026, 12, 2)


def test_the_signature_block_names_the_kind_and_the_delegators_position():
    assert on_behalf_text("delegated", "อธิบดีกรมบัญชีกลาง") == "ปฏิบัติราชการแทน อธิบดีกรมบัญชีกลาง"
    assert on_behalf_text("acting", "อธิบดีกรมบัญชีกลาง") == "รักษาราชการแทน อธิบดีกรมบัญชีกลาง"


def test_a_sound_delegation_passes():
    check(new(), PEOPLE, TODAY)
    check(new(valid_to=TODAY), PEOPLE, TODAY)  # for one day: today


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"from_username": "nobody"}, "from_username"),
        ({"to_username": "nobody"}, "to_username"),
        ({"to_username": "cgd.gone"}, "to_username"),
        ({"to_username": "cgd.dg"}, "to_username"),
        ({"from_username": "cgd.officer", "org_id": BUDGET}, "from_username"),
        ({"org_id": BUDGET}, "org_key"),
        ({"valid_from": date(2026, 12, 10), "valid_to": date(2026, 12, 9)}, "valid_to"),
        ({"valid_from": date(2026, 11, 1), "valid_to": date(2026, 12, 1)}, "valid_to"),
    ],
)
def test_a_bad_delegation_is_refused_naming_the_field(changes, field):
    with pytest.raises(Problem) as refused:
        check(new(**changes), PEOPLE, TODAY)
    assert refused.value.status == 422
    assert [error["field"] for error in refused.value.errors] == [field]
