"""A batch of `letter.sent` granted in one transaction, on SQLite and on PostgreSQL: each recipient of each
letter may read the attachments its sender owned, the first letter to grant a pair is the one named, repeats
inside and across batches change nothing, and a batch that fails grants nothing. A forward grants likewise."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services.storage import bootstrap
from services.storage.adapters import tables
from services.storage.consumers import DELIVERY_FORWARDED_QUEUE, LETTER_SENT_QUEUE
from services.storage.tests import files
from services.storage.tests.test_service import ORG_A, ORG_B, ORG_C, ORG_D, Storage, _letter_sent
from shared.bus.memory import MemoryBus
from shared.contracts import DeliveryForwarded, DeliveryRef, Envelope, LetterSent
from shared.db import Database
from shared.objectstore.folder import FolderStore
from shared.settings import Settings


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def storage(request, tmp_path):
    db = None
    if request.param == "postgresql":
        db = Database(request.getfixturevalue("postgres_url"), schema=f"storage_{uuid.uuid4().hex[:8]}")
    settings = Settings(demo=True, data_dir=tmp_path)
    bus = MemoryBus()
    runtime = bootstrap.build(settings, bus, db, store=FolderStore(tmp_path / "objects"))
    await runtime.start()
    started = Storage(runtime, bus, settings)
    yield started
    await started.client.aclose()
    await runtime.stop()
    await bus.close()


async def _upload(storage: Storage, org: uuid.UUID) -> uuid.UUID:
    response = await storage.upload(org, files.multipart(files.pdf()))
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


def _letter_id(envelope: Envelope) -> uuid.UUID:
    return LetterSent.model_validate(envelope.data).letter_id


async def _rows(storage: Storage, table, *columns) -> set[tuple]:
    async with storage.runtime.db.read() as session:
        return set((await session.execute(select(*(table.c[c] for c in columns)))).tuples())


async def test_a_batch_of_letters_grants_each_recipient_what_each_sender_owned_once(storage):
    x, y, z = [await _upload(storage, ORG_A) for _ in range(3)]
    w = await _upload(storage, ORG_C)
    one = _letter_sent(ORG_A, [x, y], [ORG_B, ORG_C])
    two = _letter_sent(ORG_A, [y, z], [ORG_C, ORG_D])  # y reaches C again: the first letter stays named
    three = _letter_sent(ORG_C, [w, x], [ORG_D])  # x is not C's to hand out
    four = _letter_sent(ORG_A, [], [ORG_B])
    replayed = three.model_copy(update={"id": uuid.uuid4()})  # the same letter under another message id
    consume = storage.runtime.consumers[LETTER_SENT_QUEUE]

    await consume([one, two, one])  # a message twice in one batch
    await consume([two, three, four, replayed, four])  # handled before, new, and repeats

    l1, l2, l3, l4 = (_letter_id(e) for e in (one, two, three, four))
    assert await _rows(storage, tables.grants, "attachment_id", "org_id", "letter_id") == {
        (x, ORG_B, l1),
        (x, ORG_C, l1),
        (y, ORG_B, l1),
        (y, ORG_C, l1),
        (y, ORG_D, l2),
        (z, ORG_C, l2),
        (z, ORG_D, l2),
        (w, ORG_D, l3),
    }
    assert await _rows(storage, tables.sent_letters, "letter_id") == {(l1,), (l2,), (l3,), (l4,)}
    assert await _rows(storage, tables.letter_attachments, "letter_id", "attachment_id", "ordinal") == {
        (l1, x, 0),
        (l1, y, 1),
        (l2, y, 0),
        (l2, z, 1),
        (l3, w, 0),
    }
    assert len(await _rows(storage, tables.inbox, "message_id")) == 5

    def content(attachment_id: uuid.UUID, org: uuid.UUID):
        return storage.client.get(f"/objects/{attachment_id}/content", headers=storage.headers(org))

    assert (await content(x, ORG_B)).status_code == 200
    assert (await content(w, ORG_D)).status_code == 200
    assert (await content(x, ORG_D)).status_code == 404


async def test_a_batch_that_fails_grants_nothing(storage):
    attachment = await _upload(storage, ORG_A)
    good = _letter_sent(ORG_A, [attachment], [ORG_B])
    broken = Envelope(type=LetterSent.TYPE, source="test", data={"letter_id": "broken"})
    consume = storage.runtime.consumers[LETTER_SENT_QUEUE]

    with pytest.raises(ValueError):
        await consume([good, broken])
    assert await _rows(storage, tables.grants, "org_id") == set()
    assert await _rows(storage, tables.sent_letters, "letter_id") == set()
    assert await _rows(storage, tables.inbox, "message_id") == set()

    await consume([good])  # retried alone
    assert await _rows(storage, tables.grants, "org_id", "letter_id") == {(ORG_B, _letter_id(good))}


async def test_a_forwarded_letter_lets_the_new_units_read_what_it_carried(storage):
    x, y = [await _upload(storage, ORG_A) for _ in range(2)]
    sent = _letter_sent(ORG_A, [x, y], [ORG_B])
    await storage.runtime.consumers[LETTER_SENT_QUEUE]([sent])
    forwarded = DeliveryForwarded(
        delivery_id=uuid.uuid4(),
        letter_id=_letter_id(sent),
        sender_org_id=ORG_A,
        recipient_org_id=ORG_B,
        deliveries=[DeliveryRef(delivery_id=uuid.uuid4(), recipient_org_id=org) for org in (ORG_C, ORG_D)],
        occurred_at=datetime.now(UTC),
    ).envelope(source="sarabun/routing", subject="d", actor="rd.clerk", correlation_id=None)

    await storage.runtime.consumers[DELIVERY_FORWARDED_QUEUE]([forwarded, forwarded])

    letter_id = _letter_id(sent)
    assert await _rows(storage, tables.grants, "attachment_id", "org_id", "letter_id") == {
        (a, org, letter_id) for a in (x, y) for org in (ORG_B, ORG_C, ORG_D)
    }
