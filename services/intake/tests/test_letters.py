"""Rules of an outgoing letter."""

import uuid

import pytest

from services.intake.domain.letters import LetterRefused, NewLetter, check_sendable, doc_no, unique_recipients

OPS, CGD, RD = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def letter(**change) -> NewLetter:
    base = dict(
        letter_type="external",
        subject="เรื่อง",
        body="",
        recipient_org_ids=(CGD,),
        circular=False,
        urgency="normal",
        secrecy="normal",
    )
    return NewLetter(**{**base, **change})


def test_numbers_have_no_year_and_no_padding():
    assert doc_no("กค 0200", 1, circular=False) == "กค 0200/1"
    assert doc_no("กค 0402.2", 195, circular=True) == "กค 0402.2/ว 195"


def test_duplicate_recipients_collapse_in_order():
    assert unique_recipients([RD, CGD, RD]) == (RD, CGD)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"secrecy": "top_secret"}, "secrecy"),
        ({"recipient_org_ids": ()}, "recipient_org_ids"),
        ({"recipient_org_ids": (OPS,)}, "recipient_org_ids"),
        ({"subject": ""}, "subject"),
    ],
)
def test_unsendable_letters_name_what_to_fix(change, field):
    with pytest.raises(LetterRefused) as refused:
        check_sendable(letter(**change), OPS)
    assert refused.value.field == field


def test_a_complete_letter_is_sendable():
    check_sendable(letter(secrecy="secret", urgency="most_urgent"), OPS)
