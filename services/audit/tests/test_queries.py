"""The auditor's questions over the audit service's internal API: a letter's per-recipient summary, an agency's
events between two Bangkok dates by type, refused requests, keyset pages, and the refusals of bad input."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.audit.domain import queries
from services.audit.tests.test_service import (
    CGD,
    MOF,
    OPS,
    RD,
    TD,
    Audit,
    _start,
    _stop,
    delivered,
    letter_sent,
    received,
)
from shared.bus.memory import MemoryBus
from shared.contracts import (
    AccessDenied,
    AttachmentStored,
    DeliveryForwarded,
    DeliveryRecalled,
    DeliveryRef,
    DeliveryRejected,
    DeliveryReturned,
    Envelope,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _envelope(event, letter_id="-", actor="clerk") -> Envelope:
    return event.envelope(source="test", subject=str(letter_id), actor=actor, correlation_id=None)


def state(cls, letter_id, delivery_id, recipient, when: str, sender=OPS) -> Envelope:
    status = {DeliveryRecalled: "recalled", DeliveryReturned: "returned", DeliveryRejected: "rejected"}[cls]
    event = cls(
        delivery_id=delivery_id,
        letter_id=letter_id,
        sender_org_id=sender,
        recipient_org_id=recipient,
        status=status,
        reason="ไม่เกี่ยวข้องกับหน่วยงาน",
        occurred_at=at(when),
    )
    return _envelope(event, letter_id)


def denied(org, letter_id, when: str) -> Envelope:
    event = AccessDenied(
        resource="letter", resource_id=letter_id, letter_id=letter_id, org_id=org, secrecy="secret", denied_at=at(when)
    )
    return _envelope(event, letter_id, actor=f"{org}.clerk")


class Story:
    """Two letters over three Bangkok days, published in this order (so logged at these indexes):

    0 L1 sent OPS -> CGD, RD          2026-03-01 09:00 Bangkok
    1 L1 delivered to CGD             09:01
    2 L1 delivered to RD              09:02
    3 L1 received by CGD, no. 7       09:05
    4 L2 sent OPS -> MOF              2026-03-01 01:00 Bangkok (2026-02-28 18:00 UTC)
    5 attachment stored by OPS        2026-03-01 09:00
    6 TD refused L1                   2026-03-01 23:59
    7 CGD forwards L1 to TD           2026-03-02 08:00
    8 L1 delivered to TD              2026-03-02 08:01
    9 RD rejects L1                   2026-03-02 10:00
    10 OPS recalls L2 from MOF        2026-03-02 00:30 (2026-03-01 17:30 UTC)
    11 TD returns L1                  2026-03-03 09:00
    12 RD refused L2                  2026-03-03 00:00 (2026-03-02 17:00 UTC)
    """

    def __init__(self):
        self.l1, self.l2 = uuid.uuid4(), uuid.uuid4()
        self.to_cgd, self.to_rd, self.to_td, self.to_mof = (uuid.uuid4() for _ in range(4))
        l1, l2 = self.l1, self.l2
        forwarded = DeliveryForwarded(
            delivery_id=self.to_cgd,
            letter_id=l1,
            sender_org_id=OPS,
            recipient_org_id=CGD,
            note="โปรดพิจารณา",
            deliveries=[DeliveryRef(delivery_id=self.to_td, recipient_org_id=TD)],
            occurred_at=at("2026-03-02T01:00:00"),
        )
        l2_sent = letter_sent(l2, OPS, [(self.to_mof, MOF)])
        l2_sent.data["sent_at"] = "2026-02-28T18:00:00Z"
        stored = AttachmentStored(
            attachment_id=uuid.uuid4(),
            org_id=OPS,
            sha256="ab" * 32,
            size=1,
            content_type="application/pdf",
            stored_at=at("2026-03-01T02:00:00"),
        )
        td_delivered = delivered(l1, self.to_td, OPS, TD)
        td_delivered.data["delivered_at"] = "2026-03-02T01:01:00Z"
        self.envelopes = [
            letter_sent(l1, OPS, [(self.to_cgd, CGD), (self.to_rd, RD)]),
            delivered(l1, self.to_cgd, OPS, CGD, minute=1),
            delivered(l1, self.to_rd, OPS, RD, minute=2),
            received(l1, self.to_cgd, OPS, CGD, receive_no=7, actor="cgd.clerk"),
            l2_sent,
            _envelope(stored),
            denied(TD, l1, "2026-03-01T16:59:00"),
            _envelope(forwarded, l1, actor="cgd.clerk"),
            td_delivered,
            state(DeliveryRejected, l1, self.to_rd, RD, "2026-03-02T03:00:00"),
            state(DeliveryRecalled, l2, self.to_mof, MOF, "2026-03-01T17:30:00"),
            state(DeliveryReturned, l1, self.to_td, TD, "2026-03-03T02:00:00", sender=CGD),
            denied(RD, l2, "2026-03-02T17:00:00"),
        ]


@pytest.fixture
async def audit(tmp_path):
    started = await _start(tmp_path, MemoryBus())
    yield started
    await _stop(started)


@pytest.fixture
async def story(audit: Audit) -> Story:
    told = Story()
    for envelope in told.envelopes:
        await audit.bus.publish(envelope)
    assert len(await audit.settle(len(told.envelopes))) == len(told.envelopes)
    return told


def _summary(org, delivery, **times) -> dict:
    return {"org_id": str(org), "delivery_id": str(delivery)} | dict.fromkeys(queries.SUMMARY_FIELDS) | times


async def test_the_per_recipient_summary_of_a_letter(audit: Audit, story: Story):
    cgd = _summary(
        CGD,
        story.to_cgd,
        delivered_at="2026-03-01T02:01:00.000000Z",
        received_at="2026-03-01T02:05:00.000000Z",
        receive_no=7,
        forwarded_at="2026-03-02T01:00:00.000000Z",
    )
    rd = _summary(
        RD, story.to_rd, delivered_at="2026-03-01T02:02:00.000000Z", rejected_at="2026-03-02T03:00:00.000000Z"
    )
    td = _summary(
        TD, story.to_td, delivered_at="2026-03-02T01:01:00.000000Z", returned_at="2026-03-03T02:00:00.000000Z"
    )
    for headers in (audit.auditor(), audit.as_(OPS, "clerk")):
        history = (await audit.client.get(f"/letters/{story.l1}/history", headers=headers)).json()
        assert history["recipients"] == [cgd, rd, td]

    # A recipient is shown its own delivery, not the others'; the one that forwarded also the delivery it made.
    history = (await audit.client.get(f"/letters/{story.l1}/history", headers=audit.as_(RD, "clerk"))).json()
    assert history["recipients"] == [rd]
    history = (await audit.client.get(f"/letters/{story.l1}/history", headers=audit.as_(CGD, "clerk"))).json()
    assert history["recipients"] == [cgd, _summary(TD, story.to_td)]
    history = (await audit.client.get(f"/letters/{story.l1}/history", headers=audit.as_(TD, "clerk"))).json()
    assert history["recipients"] == [td]

    recalled = (await audit.client.get(f"/letters/{story.l2}/history", headers=audit.auditor())).json()
    assert recalled["recipients"] == [_summary(MOF, story.to_mof, recalled_at="2026-03-01T17:30:00.000000Z")]


async def _events(audit: Audit, path: str, **params) -> dict:
    response = await audit.client.get(path, params=params, headers=audit.auditor())
    assert response.status_code == 200, response.text
    return response.json()


async def _indexes(audit: Audit, path: str, **params) -> list[int]:
    return [e["index"] for e in (await _events(audit, path, **params))["items"]]


async def test_an_agencys_events_between_two_bangkok_dates(audit: Audit, story: Story):
    cgd = f"/orgs/{CGD}/events"
    # 1 March in Bangkok: L1 sent, delivered to CGD and registered by it; not RD's delivery, not TD's refusal.
    assert await _indexes(audit, cgd, **{"from": "2026-03-01", "to": "2026-03-01"}) == [0, 1, 3]
    # Through 2 March: the forward CGD made; TD's delivery of it is TD's, not CGD's.
    assert await _indexes(audit, cgd, **{"from": "2026-03-01", "to": "2026-03-02"}) == [0, 1, 3, 7]
    assert await _indexes(audit, cgd) == [0, 1, 3, 7]
    # The sender: both letters and all their deliveries; L2 sent at 01:00 Bangkok is 1 March, not 28 February.
    ops = f"/orgs/{OPS}/events"
    assert await _indexes(audit, ops, **{"from": "2026-03-01", "to": "2026-03-01"}) == [0, 1, 2, 3, 4, 5]
    assert await _indexes(audit, ops, **{"to": "2026-02-28"}) == []
    assert await _indexes(audit, ops, **{"from": "2026-03-02"}) == [7, 8, 9, 10, 11]
    # A datetime with its offset is taken as written; one without is Bangkok time.
    assert await _indexes(audit, cgd, **{"from": "2026-03-01T09:03:00+07:00"}) == [3, 7]
    assert await _indexes(audit, cgd, **{"from": "2026-03-01T02:03:00Z", "to": "2026-03-02T08:00:00"}) == [3]
    # An access event belongs to the org refused, not to every party of the letter.
    assert await _indexes(audit, f"/orgs/{TD}/events") == [0, 6, 8, 11]

    page = await _events(audit, cgd, **{"from": "2026-03-01", "to": "2026-03-01"})
    assert page["org_id"] == str(CGD) and page["next_cursor"] is None
    assert page["items"][2] == {
        "index": 3,
        "type": "delivery.received",
        "occurred_at": "2026-03-01T02:05:00.000000Z",
        "org_id": str(CGD),
        "actor": "cgd.clerk",
        "letter_id": str(story.l1),
        "delivery_id": str(story.to_cgd),
        "sender_org_id": str(OPS),
        "recipient_org_id": str(CGD),
        "receive_no": 7,
        "register_year": 2569,
    }


async def test_filtered_by_event_type(audit: Audit, story: Story):
    ops = f"/orgs/{OPS}/events"
    assert await _indexes(audit, ops, type="delivery.delivered") == [1, 2, 8]
    assert await _indexes(audit, ops, type="delivery.delivered.v1") == [1, 2, 8]
    assert await _indexes(audit, ops, type="delivery.recalled") == [10]
    assert await _indexes(audit, ops, type="letter.sent", **{"from": "2026-03-01", "to": "2026-03-01"}) == [0, 4]
    assert await _indexes(audit, f"/orgs/{RD}/events", type="access.denied") == [12]


async def test_keyset_pages_walk_the_whole_answer_once(audit: Audit, story: Story):
    whole = await _indexes(audit, f"/orgs/{OPS}/events", limit=1000)
    assert whole == [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = await _events(audit, f"/orgs/{OPS}/events", **params)
        seen += [e["index"] for e in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert cursor == str(page["items"][-1]["index"])
    assert seen == whole and pages == 4
    # A full last page still says there is nothing more.
    assert (await _events(audit, f"/orgs/{OPS}/events", limit=11))["next_cursor"] is None
    assert (await _events(audit, f"/orgs/{OPS}/events", limit=10))["next_cursor"] == "10"


async def test_denied_requests(audit: Audit, story: Story):
    page = await _events(audit, "/denied")
    assert [e["index"] for e in page["items"]] == [6, 12] and page["next_cursor"] is None
    assert page["items"][0] == {
        "index": 6,
        "type": "access.denied",
        "occurred_at": "2026-03-01T16:59:00.000000Z",
        "org_id": str(TD),
        "actor": f"{TD}.clerk",
        "letter_id": str(story.l1),
        "delivery_id": None,
        "resource": "letter",
        "resource_id": str(story.l1),
        "secrecy": "secret",
    }
    # 23:59 on 1 March and 00:00 on 3 March, Bangkok time.
    assert await _indexes(audit, "/denied", **{"from": "2026-03-01", "to": "2026-03-01"}) == [6]
    assert await _indexes(audit, "/denied", **{"from": "2026-03-02", "to": "2026-03-02"}) == []
    assert await _indexes(audit, "/denied", **{"from": "2026-03-03"}) == [12]
    first = await _events(audit, "/denied", limit=1)
    assert first["next_cursor"] == "6"
    assert await _indexes(audit, "/denied", cursor=first["next_cursor"]) == [12]


async def test_for_auditors_only(audit: Audit, story: Story):
    for path in (f"/orgs/{CGD}/events", "/denied"):
        for headers in (audit.as_(CGD, "clerk"), audit.as_(MOF, "admin")):
            response = await audit.client.get(path, headers=headers)
            assert response.status_code == 404, path
            assert response.headers["content-type"] == "application/problem+json"


async def test_bad_parameters_are_422_problems_naming_the_field(audit: Audit, story: Story):
    cases = [
        ("from", {"from": "yesterday"}),
        ("from", {"from": "2026-02-30"}),
        ("to", {"to": "2026-13-01"}),
        ("to", {"from": "2026-03-02", "to": "2026-03-01"}),
        ("to", {"from": "2026-03-01T10:00:00", "to": "2026-03-01T10:00:00"}),
        ("type", {"type": "letter.sen"}),
        ("type", {"type": "delivery.received.v9"}),
        ("cursor", {"cursor": "abc"}),
        ("cursor", {"cursor": "-1"}),
        ("cursor", {"cursor": "99999999999999999999999"}),
        (None, {"limit": 0}),
        (None, {"limit": 1001}),
        (None, {"limit": "x"}),
        (None, {"from": "x" * 101}),
    ]
    for field, params in cases:
        for path in (f"/orgs/{CGD}/events", "/denied"):
            if path == "/denied" and "type" in params:
                continue
            response = await audit.client.get(path, params=params, headers=audit.auditor())
            assert response.status_code == 422, (path, params, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            if field:
                assert response.json()["errors"][0]["field"] == field, (path, params)
    response = await audit.client.get("/orgs/not-an-org/events", headers=audit.auditor())
    assert response.status_code == 422


def test_bangkok_dates_make_the_window():
    window = queries.window("2026-03-01", "2026-03-31")
    assert window.start == at("2026-02-28T17:00:00")
    assert window.end == at("2026-03-31T17:00:00")
    assert queries.window("2026-03-01T09:00", None).start == at("2026-03-01T02:00:00")
    assert queries.window(None, "2026-03-01T09:00:00+00:00").end == at("2026-03-01T09:00:00")
    assert queries.window(None, None) == queries.Window()
    assert queries.matching_types("delivery.received") == ["delivery.received.v1"]
    assert queries.matching_types("delivery.received.v1") == ["delivery.received.v1"]
