"""The log's pure rules: canonical entries, RFC 6962 leaf hashes, and what each event puts in its leaf."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from services.audit.domain.entries import RECIPIENT, SENDER, Party, leaf_for
from services.audit.domain.log import canonical_json, leaf_hash, utc_text
from shared.contracts import (
    AttachmentStored,
    DeliveryDelivered,
    DeliveryReceived,
    DeliveryRef,
    DirectoryUnit,
    DirectoryUnitChanged,
    DirectoryUnitRetired,
    Envelope,
    LetterSent,
)

SUBJECT = "ขออนุมัติเดินทางไปราชการของนายสมชาย ใจดี"
SENDER_ORG, CGD, RD = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
BANGKOK = timezone(timedelta(hours=7))


def _letter_sent(**overrides) -> LetterSent:
    fields = {
        "letter_id": uuid.uuid4(),
        "doc_no": "กค 0200/15",
        "sender_org_id": SENDER_ORG,
        "letter_type": "external",
        "subject": SUBJECT,
        "urgency": "urgent",
        "secrecy": "confidential",
        "circular": False,
        "sent_at": datetime(2026, 3, 1, 9, 30, tzinfo=BANGKOK),
        "attachment_ids": [uuid.uuid4()],
        "deliveries": [
            DeliveryRef(delivery_id=uuid.uuid4(), recipient_org_id=CGD),
            DeliveryRef(delivery_id=uuid.uuid4(), recipient_org_id=RD),
        ],
    }
    return LetterSent(**(fields | overrides))


def _envelope(event, actor: str = "ops.clerk") -> Envelope:
    return event.envelope(source="test", subject="s", actor=actor, correlation_id=None)


def test_canonical_json_sorts_keys_without_whitespace_in_utf8():
    assert canonical_json({"b": 1, "a": {"d": [2, None], "c": "กค"}, "e": True}) == (
        '{"a":{"c":"กค","d":[2,null]},"b":1,"e":true}'.encode()
    )


def test_canonical_json_is_independent_of_key_order_and_repeatable():
    one = {"letter_id": "x", "deliveries": [{"b": 2, "a": 1}], "actor": "ops.clerk"}
    other = {"actor": "ops.clerk", "deliveries": [{"a": 1, "b": 2}], "letter_id": "x"}
    assert canonical_json(one) == canonical_json(other) == canonical_json(dict(one))


def test_canonical_json_keeps_list_order():
    assert canonical_json([1, 2]) != canonical_json([2, 1])


@pytest.mark.parametrize("value", [{"size": 1.5}, {1: "a"}, {"at": datetime.now(UTC)}, {"x": float("nan")}])
def test_canonical_json_refuses_values_without_one_text_form(value):
    with pytest.raises(TypeError):
        canonical_json(value)


def test_leaf_hash_is_sha256_of_zero_byte_and_entry():
    entry = canonical_json({"event_id": "e", "type": "letter.sent.v1"})
    assert leaf_hash(entry) == hashlib.sha256(b"\x00" + entry).digest()
    assert leaf_hash(entry) != hashlib.sha256(entry).digest()


def test_leaf_hash_of_empty_entry_is_the_rfc6962_known_answer():
    assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"


def test_utc_text_gives_one_form_per_instant():
    bangkok = datetime(2026, 3, 1, 9, 30, tzinfo=BANGKOK)
    assert utc_text(bangkok) == utc_text(bangkok.astimezone(UTC)) == "2026-03-01T02:30:00.000000Z"
    assert utc_text(datetime(2026, 3, 1, 2, 30)) == "2026-03-01T02:30:00.000000Z"


def test_letter_sent_leaf_holds_ids_types_times_and_no_subject():
    event = _letter_sent()
    envelope = _envelope(event)
    leaf = leaf_for(envelope)
    assert SUBJECT.encode() not in leaf.entry
    facts = json.loads(leaf.entry)
    assert "subject" not in facts
    assert facts["event_id"] == str(envelope.id)
    assert facts["type"] == "letter.sent.v1"
    assert facts["actor"] == "ops.clerk"
    assert facts["occurred_at"] == "2026-03-01T02:30:00.000000Z"
    assert facts["letter_id"] == str(event.letter_id)
    assert facts["doc_no"] == "กค 0200/15"
    assert facts["secrecy"] == "confidential"
    assert facts["attachment_ids"] == [str(event.attachment_ids[0])]
    assert [d["recipient_org_id"] for d in facts["deliveries"]] == [str(CGD), str(RD)]
    assert canonical_json(facts) == leaf.entry
    assert leaf.leaf_hash == hashlib.sha256(b"\x00" + leaf.entry).digest()
    assert (leaf.letter_id, leaf.delivery_id, leaf.org_id) == (event.letter_id, None, SENDER_ORG)
    assert leaf.parties == (
        Party(SENDER_ORG, SENDER),
        Party(CGD, RECIPIENT, event.deliveries[0].delivery_id),
        Party(RD, RECIPIENT, event.deliveries[1].delivery_id),
    )


def test_same_envelope_gives_same_bytes():
    envelope = _envelope(_letter_sent())
    again = Envelope.decode(envelope.encode())
    assert leaf_for(envelope).entry == leaf_for(again).entry


def test_delivery_leaves_act_for_the_recipient():
    letter_id, delivery_id = uuid.uuid4(), uuid.uuid4()
    at = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    common = {"delivery_id": delivery_id, "letter_id": letter_id, "sender_org_id": SENDER_ORG, "recipient_org_id": CGD}
    delivered = leaf_for(_envelope(DeliveryDelivered(**common, delivered_at=at), actor="routing"))
    received = leaf_for(
        _envelope(DeliveryReceived(**common, receive_no=42, register_year=2569, received_at=at), actor="cgd.clerk")
    )
    for leaf in (delivered, received):
        assert (leaf.letter_id, leaf.delivery_id, leaf.org_id) == (letter_id, delivery_id, CGD)
        assert Party(CGD, RECIPIENT, delivery_id) in leaf.parties
        assert Party(SENDER_ORG, SENDER) in leaf.parties
    assert "receive_no" not in json.loads(delivered.entry)
    facts = json.loads(received.entry)
    assert (facts["receive_no"], facts["register_year"], facts["actor"]) == (42, 2569, "cgd.clerk")


def test_attachment_leaf_acts_for_the_uploading_org_and_keeps_the_hash():
    event = AttachmentStored(
        attachment_id=uuid.uuid4(),
        org_id=RD,
        sha256="ab" * 32,
        size=1234,
        content_type="application/pdf",
        stored_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    leaf = leaf_for(_envelope(event))
    assert (leaf.letter_id, leaf.org_id, leaf.parties) == (None, RD, ())
    assert json.loads(leaf.entry)["sha256"] == "ab" * 32


def test_a_directory_change_says_who_changed_which_fields_of_which_unit_but_not_the_new_values():
    unit = DirectoryUnit(key="cgd.budget", name="กองบริหารเงินงบประมาณ", code="กค 0409", kind="division")
    changed = DirectoryUnitChanged(
        org_id=CGD, unit=unit, changed_fields=["name", "code"], occurred_at=datetime(2026, 12, 1, tzinfo=UTC)
    )
    leaf = leaf_for(_envelope(changed, actor="admin"))
    facts = json.loads(leaf.entry)
    assert (facts["actor"], facts["org_id"], facts["key"]) == ("admin", str(CGD), "cgd.budget")
    assert facts["changed_fields"] == ["name", "code"] and leaf.org_id == CGD
    assert "กองบริหารเงินงบประมาณ" not in leaf.entry.decode() and "0409" not in leaf.entry.decode()
    retired = DirectoryUnitRetired(
        org_id=CGD,
        unit=unit.model_copy(update={"valid_to": date(2026, 11, 30)}),
        occurred_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    facts = json.loads(leaf_for(_envelope(retired, actor="cli")).entry)
    assert (facts["type"], facts["actor"], facts["valid_to"]) == ("directory.unit.retired.v1", "cli", "2026-11-30")


def test_unknown_event_type_is_logged_without_its_data():
    envelope = Envelope(type="delivery.teleported.v1", source="test", actor="rd.clerk", data={"reason": SUBJECT})
    leaf = leaf_for(envelope)
    facts = json.loads(leaf.entry)
    assert SUBJECT not in leaf.entry.decode()
    assert facts["type"] == "delivery.teleported.v1"
    assert facts["event_id"] == str(envelope.id)
    assert (leaf.letter_id, leaf.org_id, leaf.parties) == (None, None, ())


def test_invalid_data_of_a_known_type_is_refused():
    with pytest.raises(ValueError):
        leaf_for(Envelope(type=LetterSent.TYPE, source="test", data={"letter_id": "not-a-uuid"}))
