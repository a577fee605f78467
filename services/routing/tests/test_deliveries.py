"""The delivery state machine."""

import pytest

from services.routing.domain.deliveries import (
    TRANSITIONS,
    DeliveryConflict,
    check_reason,
    next_status,
    receive_repeated,
)


@pytest.mark.parametrize(
    ("action", "source", "target"),
    [
        ("receive", "delivered", "received"),
        ("forward", "received", "forwarded"),
        ("return", "delivered", "returned"),
        ("return", "received", "returned"),
        ("reject", "delivered", "rejected"),
        ("report_invalid", "delivered", "invalid"),
        ("recall", "delivered", "recalled"),
        ("recall", "pending", "recalled"),
    ],
)
def test_allowed_transitions(action, source, target):
    assert next_status(action, source) == target


@pytest.mark.parametrize(
    ("action", "source"),
    [
        ("recall", "received"),  # the regulation: only from recipients that have not registered it
        ("reject", "received"),
        ("report_invalid", "received"),
        ("forward", "delivered"),  # forward only what was registered
        ("receive", "recalled"),
        ("receive", "rejected"),
        ("forward", "forwarded"),
    ],
)
def test_illegal_transitions_name_the_current_state(action, source):
    with pytest.raises(DeliveryConflict) as conflict:
        next_status(action, source)
    assert conflict.value.status == source and source in str(conflict.value)


def test_every_target_is_a_known_state_and_sides_are_named():
    from services.routing.domain.deliveries import STATUSES

    for transition in TRANSITIONS.values():
        assert transition.target in STATUSES and transition.sources <= set(STATUSES)
        assert transition.by in ("sender", "recipient")


def test_receiving_twice_is_a_repeat_not_a_conflict():
    assert receive_repeated(7) and not receive_repeated(None)


def test_reasons_are_required_and_bounded():
    assert check_reason("ส่งผิดหน่วยงาน") is None
    assert check_reason("   ") and check_reason("ก" * 1001)
