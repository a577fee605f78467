"""The checker on synthetic histories: it passes a clean run and names each kind of anomaly."""

from __future__ import annotations

from tests.faults.checker import DUPLICATED, LOST, OK, UNEXPECTED, FinalState, History, check

CGD, RD = "org-cgd", "org-rd"


def clean() -> tuple[History, FinalState]:
    """Letter L1 to cgd and rd; cgd registered it as number 1."""
    history = History()
    history.accepted(
        "key-1",
        {"id": "L1", "deliveries": [{"recipient_org_id": CGD, "id": "D1"}, {"recipient_org_id": RD, "id": "D2"}]},
    )
    history.received("D1", 1)
    state = FinalState(
        sender_view={
            "L1": {
                "D1": {"recipient_org_id": CGD, "status": "received", "receive_no": 1},
                "D2": {"recipient_org_id": RD, "status": "delivered", "receive_no": None},
            }
        },
        inbox=[
            {"org_id": CGD, "letter_id": "L1", "delivery_id": "D1", "status": "received", "receive_no": 1},
            {"org_id": RD, "letter_id": "L1", "delivery_id": "D2", "status": "delivered", "receive_no": None},
        ],
        registers=[{"org_id": CGD, "register_no": 1, "letter_id": "L1", "delivery_id": "D1"}],
        audit=[
            {"event_id": "e1", "type": "letter.sent", "letter_id": "L1"},
            {"event_id": "e2", "type": "delivery.delivered", "letter_id": "L1", "delivery_id": "D1"},
            {"event_id": "e3", "type": "delivery.delivered", "letter_id": "L1", "delivery_id": "D2"},
            {"event_id": "e4", "type": "delivery.received", "letter_id": "L1", "delivery_id": "D1", "receive_no": 1},
        ],
    )
    return history, state


def test_a_clean_run_is_all_ok():
    report = check(*clean())
    assert report.total(LOST) == report.total(DUPLICATED) == report.total(UNEXPECTED) == 0, str(report)
    assert report.counts["delivery"][OK] == 2 and report.counts["receive"][OK] == 1
    assert report.counts["letter"][OK] == 1


def test_a_delivery_missing_from_an_inbox_is_lost():
    history, state = clean()
    state.inbox = [i for i in state.inbox if i["org_id"] != RD]
    assert check(history, state).counts["delivery"][LOST] == 1


def test_a_delivery_the_sender_still_sees_pending_is_lost():
    history, state = clean()
    state.sender_view["L1"]["D2"]["status"] = "pending"
    assert check(history, state).counts["delivery"][LOST] == 1


def test_a_letter_in_an_inbox_twice_is_duplicated():
    history, state = clean()
    state.inbox.append({**state.inbox[1], "delivery_id": "D9"})
    assert check(history, state).counts["delivery"][DUPLICATED] == 1


def test_two_delivered_leaves_for_one_delivery_are_duplicated():
    history, state = clean()
    state.audit.append({"event_id": "e9", "type": "delivery.delivered", "letter_id": "L1", "delivery_id": "D2"})
    assert check(history, state).counts["delivery"][DUPLICATED] == 1


def test_the_same_event_twice_in_the_audit_log_is_duplicated():
    history, state = clean()
    state.audit.append(dict(state.audit[0]))
    report = check(history, state)
    assert report.counts["audit leaf"][DUPLICATED] == 1 and report.counts["letter"][DUPLICATED] == 1


def test_a_letter_without_its_sent_leaf_is_lost():
    history, state = clean()
    state.audit = state.audit[1:]
    assert check(history, state).counts["letter"][LOST] == 1


def test_one_key_answered_with_two_letters_is_a_duplicated_send():
    history, state = clean()
    history.keys["key-1"].add("L2")
    assert check(history, state).counts["send"][DUPLICATED] == 1


def test_a_letter_nobody_sent_is_unexpected():
    history, state = clean()
    state.sender_view["L7"] = {}
    state.inbox.append({"org_id": RD, "letter_id": "L7", "delivery_id": "D7", "status": "delivered"})
    report = check(history, state)
    assert report.counts["letter"][UNEXPECTED] == 1 and report.counts["delivery"][UNEXPECTED] == 1


def test_a_receive_answered_with_two_numbers_is_duplicated():
    history, state = clean()
    history.received("D1", 2)
    assert check(history, state).counts["receive"][DUPLICATED] == 1


def test_a_receive_without_its_register_row_is_lost():
    history, state = clean()
    state.registers = []
    assert check(history, state).counts["receive"][LOST] == 1


def test_a_receive_shown_with_another_number_is_lost():
    history, state = clean()
    state.sender_view["L1"]["D1"]["receive_no"] = 2
    assert check(history, state).counts["receive"][LOST] == 1


def test_a_register_row_no_client_asked_for_is_unexpected():
    history, state = clean()
    state.registers.append({"org_id": RD, "register_no": 1, "letter_id": "L1", "delivery_id": "D2"})
    assert check(history, state).counts["receive"][UNEXPECTED] == 1


def test_a_skipped_or_repeated_receive_number_is_flagged():
    history, state = clean()
    state.registers.append({"org_id": CGD, "register_no": 3, "letter_id": "L1", "delivery_id": "D1"})
    report = check(history, state)
    assert report.counts["receive number"][LOST] == 1  # number 2 skipped
    state.registers[-1]["register_no"] = 1
    report = check(history, state)
    assert report.counts["receive number"][DUPLICATED] == 1
