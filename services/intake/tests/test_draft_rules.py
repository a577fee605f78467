"""The rules of a draft's way to its signer (no I/O): every action from every status, whose turn it is, the
line, recalling, and how the line looks to the people on it."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.intake.domain.drafts import (
    ACTIONS,
    STATUS_TH,
    STATUSES,
    DraftConflict,
    DraftState,
    Line,
    check_fields,
    check_line,
    decide,
    line_states,
)
from services.intake.domain.letters import LetterRefused, NewLetter

AUTHOR, HEAD, DIRECTOR, DG, DEPUTY = "cgd.officer", "cgd.head", "cgd.director", "cgd.dg", "cgd.deputy"
LINE = Line(AUTHOR, (HEAD, DIRECTOR), DG)


def state(status: str, step: int = 0, last_step: str = "proposed", line: Line = LINE) -> DraftState:
    signed_by = DG if status in ("signing", "signed", "dispatched") else None
    return DraftState(status, step, line, last_step, signed_by)


# The person whose action it is in each status (the first reviewer while in review), written out here.
TURN = {
    "draft": AUTHOR,
    "returned": AUTHOR,
    "in_review": HEAD,
    "awaiting_signature": DG,
    "signing": DG,
    "signed": None,
    "dispatched": None,
}
ACTOR = {"propose": AUTHOR, "recall": AUTHOR, "endorse": HEAD, "sign": DG, "signed": DG, "dispatch": "cgd.clerk"}

# action × status → the status afterwards (None: refused with 409). Written out, not derived from the table.
EXPECTED = {
    "edit": {"draft": "draft", "returned": "returned", "in_review": "in_review",
             "awaiting_signature": "awaiting_signature"},
    "propose": {"draft": "in_review", "returned": "in_review"},
    "endorse": {"in_review": "in_review"},  # the second reviewer's turn
    "return": {"in_review": "returned", "awaiting_signature": "returned"},
    "recall": {"in_review": "draft", "awaiting_signature": "draft"},
    "sign": {"awaiting_signature": "signing", "signing": "signing"},
    "signed": {"signing": "signed", "signed": "signed"},
    "dispatch": {"signed": "dispatched", "dispatched": "dispatched"},
}  # fmt: skip


def test_the_table_covers_every_action_and_status():
    assert set(ACTIONS) == set(EXPECTED) and set(STATUSES) == set(TURN)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", list(EXPECTED))
def test_every_action_from_every_status(action, status):
    actor = TURN[status] if action in ("edit", "return") else ACTOR[action]
    expected = EXPECTED[action].get(status)
    if expected is None:
        with pytest.raises(DraftConflict) as refused:
            decide(action, state(status), actor or HEAD, registry=True)
        # The refusal names the current status, in Thai and in English.
        assert refused.value.status == status
        assert STATUS_TH[status] in refused.value.message and f"draft that is {status})" in refused.value.message
    else:
        assert decide(action, state(status), actor, registry=True).status == expected


def test_the_line_goes_reviewer_by_reviewer_then_to_the_signer():
    proposed = decide("propose", state("draft"), AUTHOR)
    assert (proposed.status, proposed.step, proposed.current) == ("in_review", 0, HEAD)
    first = decide("endorse", state("in_review", 0), HEAD)
    assert (first.status, first.step, first.current) == ("in_review", 1, DIRECTOR)
    second = decide("endorse", state("in_review", 1), DIRECTOR)
    assert (second.status, second.current) == ("awaiting_signature", DG)
    signing = decide("sign", state("awaiting_signature"), DG)
    assert (signing.status, signing.current, signing.repeat) == ("signing", DG, False)


def test_a_line_without_reviewers_goes_straight_to_the_signer():
    outcome = decide("propose", state("draft", line=Line(AUTHOR, (), DG)), AUTHOR)
    assert (outcome.status, outcome.current) == ("awaiting_signature", DG)


def test_proposing_again_after_a_return_starts_from_the_first_reviewer():
    returned = decide("return", state("in_review", 1), DIRECTOR)
    assert (returned.status, returned.step, returned.current) == ("returned", 0, AUTHOR)
    again = decide("propose", state("returned", last_step="edited"), AUTHOR)
    assert (again.status, again.step, again.current) == ("in_review", 0, HEAD)


@pytest.mark.parametrize(
    ("action", "status", "step", "actor"),
    [
        ("endorse", "in_review", 0, DIRECTOR),  # the second reviewer before the first
        ("endorse", "in_review", 0, AUTHOR),
        ("return", "in_review", 1, HEAD),  # the first reviewer after endorsing
        ("return", "awaiting_signature", 0, DIRECTOR),
        ("edit", "in_review", 0, AUTHOR),  # the author while it is up the line
        ("edit", "awaiting_signature", 0, HEAD),
        ("propose", "draft", 0, HEAD),
        ("recall", "in_review", 0, HEAD),  # only the author recalls
        ("sign", "awaiting_signature", 0, HEAD),
        ("sign", "signing", 0, DEPUTY),  # someone else cannot take over a signature under way
        ("signed", "signing", 0, HEAD),
        ("dispatch", "signed", 0, AUTHOR),  # not the registry
    ],
)
def test_out_of_turn_is_refused_naming_whose_turn_it_is(action, status, step, actor):
    with pytest.raises(DraftConflict) as refused:
        decide(action, state(status, step), actor)
    assert "not your turn" in refused.value.message and f"draft is {status}" in refused.value.message


def test_a_delegate_signs_for_the_signer_only():
    outcome = decide("sign", state("awaiting_signature"), DEPUTY, on_behalf_of=DG)
    assert (outcome.status, outcome.current) == ("signing", DEPUTY)
    with pytest.raises(DraftConflict):
        decide("sign", state("awaiting_signature"), DEPUTY, on_behalf_of=DIRECTOR)
    with pytest.raises(DraftConflict):
        decide("sign", state("awaiting_signature"), DEPUTY)


def test_signing_again_is_a_repeat_for_the_person_signing():
    assert decide("sign", state("signing"), DG).repeat
    assert decide("signed", state("signed"), DG).repeat
    assert not decide("signed", state("signing"), DG).repeat
    assert decide("dispatch", state("dispatched"), "cgd.clerk", registry=True).repeat


@pytest.mark.parametrize("last_step", ["endorsed", "edited", "returned"])
def test_the_author_recalls_only_until_the_next_person_acts(last_step):
    assert decide("recall", state("in_review", last_step="proposed"), AUTHOR).status == "draft"
    with pytest.raises(DraftConflict) as refused:
        decide("recall", state("in_review", 1, last_step=last_step), AUTHOR)
    assert "already acted" in refused.value.message


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (Line(AUTHOR, (HEAD, HEAD), DG), "each reviewer once"),
        (Line(AUTHOR, (HEAD, AUTHOR), DG), "the author cannot review"),
        (Line(AUTHOR, (HEAD, DG), DG), "the signer cannot also be a reviewer"),
        (Line(AUTHOR, tuple(f"r{i}" for i in range(11)), DG), "at most 10 reviewers"),
    ],
)
def test_a_line_that_cannot_work_is_refused(line, problem):
    with pytest.raises(LetterRefused) as refused:
        check_line(line)
    assert refused.value.field == "reviewers" and any(problem in e["message"] for e in refused.value.errors)


def test_a_good_line_passes_and_the_author_may_sign_their_own():
    check_line(Line(AUTHOR, tuple(f"r{i}" for i in range(10)), DG))
    check_line(Line(DG, (), DG))


def test_a_draft_classified_above_its_writer_is_refused():
    letter = NewLetter("external", "เรื่อง", "เนื้อความ", (uuid.uuid4(),), False, "normal", "secret")
    with pytest.raises(LetterRefused) as refused:
        check_fields(letter, uuid.uuid4(), "confidential", datetime.now(UTC))
    assert refused.value.message == "ชั้นความลับของร่างสูงกว่าสิทธิ์ของท่าน (the draft's secrecy is above your clearance)"
    check_fields(letter, uuid.uuid4(), "secret", datetime.now(UTC))
    late = NewLetter(**{**letter.__dict__, "deliver_by": datetime.now(UTC) - timedelta(minutes=1)})
    with pytest.raises(LetterRefused):
        check_fields(late, uuid.uuid4(), "secret", datetime.now(UTC))


def test_how_the_line_looks_at_each_point():
    assert line_states(state("draft", last_step="created"), None) == (["waiting", "waiting"], "waiting")
    assert line_states(state("in_review", 1), None) == (["endorsed", "current"], "waiting")
    assert line_states(state("returned"), DIRECTOR) == (["waiting", "returned"], "waiting")
    assert line_states(state("returned"), DG) == (["waiting", "waiting"], "returned")
    assert line_states(state("awaiting_signature"), None) == (["endorsed", "endorsed"], "current")
    assert line_states(state("dispatched"), None) == (["endorsed", "endorsed"], "signed")
