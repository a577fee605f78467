"""A batch of `letter.sent` delivered in one transaction, on SQLite and on PostgreSQL: every recipient of
every letter gets one delivery and one `delivery.delivered`, however the letters repeat inside and across
batches, and a batch that fails creates nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from services.routing import service
from services.routing.adapters import repository, tables
from services.routing.bootstrap import build
from services.routing.consumers import LETTER_SENT_QUEUE
from services.routing.tests.test_service import CGD, OPS, RD, letter_sent
from shared.bus.memory import MemoryBus
from shared.contracts import DeliveryDelivered, Envelope, LetterSent
from shared.db import Database
from shared.principal import Principal
from shared.seed import org_id
from shared.settings import Settings

TD = Principal(user="td.clerk", org_id=org_id("td"), org_code="กค 0600", roles=("clerk",))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def runtime(request, tmp_path):
    db = None
    if request.param == "postgresql":
        db = Database(request.getfixturevalue("postgres_url"), schema=f"routing_{uuid.uuid4().hex[:8]}")
    bus = MemoryBus()
    started = build(Settings(demo=True, data_dir=tmp_path), bus, db)
    await started.start()
    yield started
    await started.stop()
    await bus.close()


def _envelope(event: LetterSent) -> Envelope:
    return event.envelope(source="test", subject=str(event.letter_id), actor="ops.clerk", correlation_id=None)


async def _announced(db: Database) -> list[Envelope]:
    """The `delivery.delivered` events staged in routing's outbox, in staging order."""
    query = select(tables.outbox.c.body).where(tables.outbox.c.type == DeliveryDelivered.TYPE)
    async with db.read() as session:
        bodies = (await session.execute(query.order_by(tables.outbox.c.seq))).scalars()
        return [Envelope.model_validate_json(body) for body in bodies]


async def test_a_batch_of_letters_gives_each_recipient_one_delivery_and_one_announcement(runtime, monkeypatch):
    db, consume = runtime.db, runtime.consumers[LETTER_SENT_QUEUE]
    # Existing deliveries are looked up in slices (a batch of circulars can name tens of thousands); small
    # slices here, so the deliveries found before fall in several of them.
    monkeypatch.setattr(repository, "LOOKUP_SLICE", 4)
    letters = [letter_sent(subject=f"หนังสือที่ {i}", recipients=(CGD, RD, TD)) for i in range(4)]
    envelopes = [_envelope(letter) for letter in letters]
    # The same letter again under another message id, as a replay would bring it.
    replayed = [e.model_copy(update={"id": uuid.uuid4()}) for e in envelopes]

    await consume([envelopes[0], envelopes[1], envelopes[0]])  # a message twice in one batch
    # Handled before, replayed, new, and a new letter twice under two message ids, all in one batch.
    await consume([envelopes[1], replayed[1], envelopes[2], envelopes[3], replayed[3], envelopes[2]])

    for letter in letters:
        rows = await service.deliveries_of_letters(db, [letter.letter_id], OPS)
        assert sorted((r["id"], r["recipient_org_id"]) for r in rows) == sorted(
            (d.delivery_id, d.recipient_org_id) for d in letter.deliveries
        )
        assert {r["status"] for r in rows} == {"delivered"}
        assert {r["subject"] for r in rows} == {letter.subject}
    for unit in (CGD, RD, TD):
        inbox = await service.inbox(db, unit, None, None, None, 50)
        assert sorted(r["letter_id"] for r in inbox) == sorted(letter.letter_id for letter in letters)

    announced = await _announced(db)
    expected = [(d.delivery_id, letter.letter_id, d.recipient_org_id) for letter in letters for d in letter.deliveries]
    facts = [DeliveryDelivered.model_validate(e.data) for e in announced]
    assert [(f.delivery_id, f.letter_id, f.recipient_org_id) for f in facts] == expected
    # Each announcement names the letter.sent it came from.
    causes = {letter.letter_id: str(e.id) for letter, e in zip(letters, envelopes, strict=True)}
    assert [e.causation_id for e in announced] == [causes[f.letter_id] for f in facts]

    # Receiving numbers the recipient's register as before: in the order the clerk registers.
    for number, letter in enumerate(letters[::-1], start=1):
        delivery_id = next(d.delivery_id for d in letter.deliveries if d.recipient_org_id == CGD.org_id)
        assert (await service.receive(db, delivery_id, CGD))["receive_no"] == number


async def test_a_batch_that_fails_creates_no_delivery_and_announces_nothing(runtime):
    db, consume = runtime.db, runtime.consumers[LETTER_SENT_QUEUE]
    good = [letter_sent(), letter_sent()]
    broken = Envelope(type=LetterSent.TYPE, source="test", data={"letter_id": "broken"})

    with pytest.raises(ValueError):
        await consume([_envelope(good[0]), broken, _envelope(good[1])])
    assert await service.deliveries_of_letters(db, [g.letter_id for g in good], OPS) == []
    assert await _announced(db) == []
    async with db.read() as session:
        assert (await session.execute(select(tables.inbox))).all() == []

    for letter in good:  # retried alone, each is delivered
        await consume([_envelope(letter)])
    assert len(await service.deliveries_of_letters(db, [g.letter_id for g in good], OPS)) == 4
    assert len(await _announced(db)) == 4
