"""Who is told what, once: the notifications an event makes, whatever the redeliveries; the choices a person
makes; urgent letters to a unit's clerks; orders and drafts to the people whose turn it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.notify import service
from services.notify.adapters import tables
from services.notify.consumers import EVENTS_QUEUE
from services.notify.tests.support import (
    RD,
    contact,
    delivered,
    draft_step,
    eventually,
    letter_sent,
    ordered,
    person,
    proposed,
)
from shared.outbox import once_batch
from shared.principal import Principal
from shared.seed import org_id


def who(username: str) -> Principal:
    return Principal(user=username, org_id=org_id("cgd"), roles=("executive",))


async def rows(db, table, **where) -> list[dict]:
    query = select(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    async with db.read() as session:
        return [dict(r) for r in (await session.execute(query)).mappings()]


async def count(db, table) -> int:
    async with db.read() as session:
        return (await session.execute(select(func.count()).select_from(table))).scalar_one()


async def people(consume, *names: str, unit=None, roles=("executive",)):
    events = []
    for name in names:
        events += [person(name, roles=roles, **({"unit": unit} if unit else {})), contact(name, f"{name}@cgd.example")]
    await consume(events)


async def test_a_redelivered_event_tells_each_person_once_and_sends_one_mail(start, smtp):
    runtime = await start(smtp.port)
    consume, db = runtime.consumers[EVENTS_QUEUE], runtime.db
    await people(consume, "cgd.dg")
    letter = letter_sent()
    proposal = proposed(letter, "cgd.dg")
    await consume([letter, proposal])
    await consume([proposal])  # the broker delivers it again
    await consume([proposal, proposal])  # twice in one batch
    # The same event under another consumer name (a replay past the inbox): the unique key holds.
    ctx = runtime.app.state.notify
    replay = once_batch(db, tables.inbox, "notify.replay", lambda session, es: service.apply_events(session, ctx, es))
    await replay([proposal])

    made = await rows(db, tables.notifications)
    assert [(n["username"], n["kind"], n["event_id"]) for n in made] == [("cgd.dg", "proposed_to_you", proposal.id)]
    await eventually(lambda: _sent(db, 1))
    assert await count(db, tables.mails) == 1
    (mail,) = await eventually(lambda: _async(smtp.inbox.to("cgd.dg@cgd.example")))
    assert "เสนอท่านพิจารณา" in mail["Subject"] and "กค 0200/1" in mail["Subject"]
    body = mail.get_content()
    # Thai first, English below, a Buddhist-era date and the link to the page.
    assert body.index("เสนอท่านพิจารณา") < body.index("was proposed to you")
    assert f" {datetime.now(UTC).year + 543} เวลา " in body
    assert "https://saraban.example.go.th/worklist" in body
    assert len(smtp.inbox.messages) == 1


async def _async(value):
    return value


async def _sent(db, n: int) -> bool:
    return len([m for m in await rows(db, tables.mails) if m["sent_at"] is not None]) == n


async def test_who_never_chose_gets_everything_at_once_and_choices_change_that(start, smtp):
    runtime = await start(smtp.port)
    consume, db, ctx = runtime.consumers[EVENTS_QUEUE], runtime.db, runtime.app.state.notify
    await people(consume, "cgd.dg", "cgd.deputy", "cgd.head")
    default = await service.preferences(db, ctx, who("cgd.dg"))
    assert set(default["choices"].values()) == {"immediate"} and len(default["choices"]) == 8
    assert default["email"] == "cgd.dg@cgd.example" and default["email_enabled"] is True

    await service.choose(db, ctx, who("cgd.deputy"), {"for_information": "digest"})
    changed = await service.choose(db, ctx, who("cgd.head"), {"assigned_to_you": "off"})
    assert changed["choices"]["assigned_to_you"] == "off" and changed["choices"]["for_information"] == "immediate"

    letter = letter_sent(urgency="normal")
    order = ordered(letter, by="cgd.dg", assignees=["cgd.head"], for_information=["cgd.deputy", "cgd.head"])
    await consume([letter, order])
    made = {n["username"]: n for n in await rows(db, tables.notifications)}
    # The head is assigned (named twice, told once, as an assignee); the director-general is not told of his
    # own order.
    assert {name: (n["kind"], n["by_mail"]) for name, n in made.items()} == {
        "cgd.head": ("assigned_to_you", None),  # off: in the page only
        "cgd.deputy": ("for_information", "digest"),
    }
    await runtime.app.state.mail_relay.relay_once()
    assert await count(db, tables.mails) == 0 and smtp.inbox.messages == []


async def test_urgent_letters_are_told_to_the_clerks_of_the_unit_it_reached(start, smtp):
    runtime = await start(smtp.port)
    consume, db = runtime.consumers[EVENTS_QUEUE], runtime.db
    await people(consume, "cgd.clerk", "cgd.clerk2", roles=("clerk",))
    await people(consume, "cgd.dg")  # an executive of the same unit
    await people(consume, "rd.clerk", unit=RD, roles=("clerk",))
    await consume([person("cgd.gone", roles=("clerk",), active=False)])

    urgent, normal = letter_sent(urgency="most_urgent"), letter_sent(urgency="normal", doc_no="กค 0200/2")
    await consume([urgent, normal, delivered(urgent), delivered(normal)])
    made = await rows(db, tables.notifications)
    assert sorted((n["username"], n["kind"]) for n in made) == [
        ("cgd.clerk", "urgent_letter"),
        ("cgd.clerk2", "urgent_letter"),
    ]
    title = service.view(made[0])["title"]
    assert "ด่วนที่สุด" in title and "ขอเชิญประชุม" in title


async def test_a_classified_letter_is_named_by_its_number_only(start):
    runtime = await start(None)
    consume, db = runtime.consumers[EVENTS_QUEUE], runtime.db
    await people(consume, "cgd.clerk", roles=("clerk",))
    secret = letter_sent(urgency="urgent", secrecy="secret", subject="แผนลับ")
    await consume([secret, delivered(secret)])
    (made,) = await rows(db, tables.notifications)
    view = service.view(made)
    assert "กค 0200/1" in view["title"] and "แผนลับ" not in view["title"] + view["title_en"]


async def test_a_delivery_before_its_letter_waits_for_it(start):
    runtime = await start(None)
    consume, db = runtime.consumers[EVENTS_QUEUE], runtime.db
    await people(consume, "cgd.clerk", roles=("clerk",))
    letter = letter_sent()
    early = delivered(letter)
    with pytest.raises(service.LetterNotYetKnown):
        await consume([early])
    await consume([letter])
    await consume([early])  # the bus tries it again
    assert [n["kind"] for n in await rows(db, tables.notifications)] == ["urgent_letter"]


async def test_a_draft_tells_the_next_reviewer_or_the_signer(start):
    runtime = await start(None)
    consume, db = runtime.consumers[EVENTS_QUEUE], runtime.db
    first = draft_step("proposed", "cgd.head", "in_review", by="cgd.officer")
    last = draft_step("endorsed", "cgd.dg", "awaiting_signature", by="cgd.director", version=2)
    own = draft_step("proposed", "cgd.officer", "in_review", by="cgd.officer")  # nobody is told of their own step
    back = draft_step("endorsed", "cgd.officer", "returned", by="cgd.head")
    await consume([first, last, own, back])
    made = sorted((n["username"], n["kind"]) for n in await rows(db, tables.notifications))
    assert made == [("cgd.dg", "awaiting_signature"), ("cgd.head", "draft_to_review")]
    signature = next(n for n in await rows(db, tables.notifications) if n["username"] == "cgd.dg")
    assert service.view(signature)["link"] == f"/drafts/{last.data['draft_id']}"


async def test_without_a_mail_server_notifications_stay_in_the_page(start):
    runtime = await start(None)
    consume, db, ctx = runtime.consumers[EVENTS_QUEUE], runtime.db, runtime.app.state.notify
    await people(consume, "cgd.dg")
    letter = letter_sent()
    await consume([letter, proposed(letter, "cgd.dg")])
    assert runtime.app.state.mail_relay is None
    assert [n["by_mail"] for n in await rows(db, tables.notifications)] == [None]
    assert await count(db, tables.mails) == 0
    assert (await service.preferences(db, ctx, who("cgd.dg")))["email_enabled"] is False


async def test_an_older_account_event_arriving_late_changes_nothing(start):
    runtime = await start(None)
    consume, db = runtime.consumers[EVENTS_QUEUE], runtime.db
    now = datetime.now(UTC)
    await consume([contact("cgd.x", "new@cgd.example", at=now), person("cgd.x", active=False, at=now)])
    await consume([contact("cgd.x", "old@cgd.example", at=now - timedelta(hours=1))])
    await consume([person("cgd.x", active=True, at=now - timedelta(hours=1))])
    (row,) = await rows(db, tables.people, username="cgd.x")
    assert (row["email"], row["active"]) == ("new@cgd.example", False)
    # A disabled person is not told.
    letter = letter_sent()
    await consume([letter, proposed(letter, "cgd.x")])
    assert await rows(db, tables.notifications) == []


async def test_the_list_is_newest_first_with_the_unread_count_and_read_once(start, clock):
    runtime = await start(None)
    consume, db, ctx = runtime.consumers[EVENTS_QUEUE], runtime.db, runtime.app.state.notify
    letters = [letter_sent(doc_no=f"กค 0200/{n}") for n in range(1, 4)]
    for n, letter in enumerate(letters):
        clock.set(datetime(2026, 12, 1, 3, n, tzinfo=UTC))
        await consume([letter, proposed(letter, "cgd.dg")])
    page = await service.listed(db, who("cgd.dg"), None, 2)
    assert [i["title"].split("/")[1][0] for i in page["items"]] == ["3", "2"] and page["unread"] == 3
    rest = await service.listed(db, who("cgd.dg"), page["next_cursor"], 2)
    assert [i["title"].split("/")[1][0] for i in rest["items"]] == ["1"] and rest["next_cursor"] is None
    first = page["items"][0]
    assert first["created_at_th"] == "1 ธันวาคม 2569 เวลา 10:02 น."
    read = await service.mark_read(db, ctx, who("cgd.dg"), first["id"])
    again = await service.mark_read(db, ctx, who("cgd.dg"), first["id"])
    assert read["read"] and again["read_at"] == read["read_at"]
    assert (await service.listed(db, who("cgd.dg"), None, 10))["unread"] == 2
    with pytest.raises(Exception) as other:
        await service.mark_read(db, ctx, who("cgd.head"), first["id"])
    assert other.value.status == 404
