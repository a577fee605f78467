"""Message contracts are a promise to other services: changing one breaks this snapshot on purpose.
Add a new version (e.g. letter.sent.v2) instead; regenerate with SARABUN_UPDATE_SNAPSHOT=1."""

import json
import os
import uuid
from pathlib import Path

import pytest

from shared.contracts import EVENTS, Envelope, LetterSent, base_type, parse
from shared.topology import PUBLISHED, QUEUES, matches

SNAPSHOT = Path(__file__).parent / "contracts_snapshot.json"


def schemas() -> dict:
    return {name: cls.model_json_schema() for name, cls in sorted(EVENTS.items())} | {
        "envelope": Envelope.model_json_schema()
    }


def test_contracts_match_the_snapshot():
    if os.environ.get("SARABUN_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(schemas(), indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    assert schemas() == json.loads(SNAPSHOT.read_text())


def test_an_envelope_survives_encoding():
    event = LetterSent(
        letter_id=uuid.uuid4(),
        doc_no="กค 0200/1",
        sender_org_id=uuid.uuid4(),
        letter_type="external",
        subject="หนังสือ",
        urgency="urgent",
        secrecy="normal",
        circular=False,
        sent_at="2026-11-23T03:00:00Z",
        attachment_ids=[],
        deliveries=[],
    )
    envelope = event.envelope(source="test", subject="x", actor="ops.clerk", correlation_id="c")
    decoded = Envelope.decode(envelope.encode())
    assert decoded == envelope and parse(decoded) == event


def test_unknown_types_are_refused():
    with pytest.raises(ValueError):
        parse(Envelope(type="letter.eaten.v1", source="t", data={}))


def test_every_published_type_reaches_the_audit_log():
    for event_type in PUBLISHED:
        assert any(matches(key, event_type) for key in QUEUES["audit.events"])
    assert base_type("delivery.received.v1") == "delivery.received"


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [("#", "a.b.c", True), ("a.*", "a.b", True), ("a.*", "a.b.c", False), ("a.#.c", "a.c", True), ("b.#", "a", False)],
)
def test_topic_matching_follows_amqp(pattern, key, expected):
    assert matches(pattern, key) is expected
