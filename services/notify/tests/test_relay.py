"""The mail relay against a real SMTP server on loopback: a server that refuses for a while, or is down, delays
mail without losing it, and every mail arrives once; a permanent refusal is not tried forever."""

from __future__ import annotations

from sqlalchemy import select

from services.notify.adapters import tables
from services.notify.consumers import EVENTS_QUEUE
from services.notify.relay import RetryPolicy
from services.notify.tests.support import SmtpServer, contact, eventually, letter_sent, person, proposed


async def mails(db) -> list[dict]:
    async with db.read() as session:
        return [dict(r) for r in (await session.execute(select(tables.mails))).mappings()]


async def propose_to(consume, names: list[str]) -> None:
    events = []
    for name in names:
        events += [person(name, roles=("executive",)), contact(name, f"{name}@cgd.example")]
    for name in names:
        letter = letter_sent()
        events += [letter, proposed(letter, name)]
    await consume(events)


async def test_a_server_that_refuses_then_accepts_gets_each_mail_once(start, smtp):
    smtp.inbox.refusal = "451 4.3.0 mailbox busy, try again later"
    runtime = await start(smtp.port)
    await propose_to(runtime.consumers[EVENTS_QUEUE], ["cgd.dg", "cgd.deputy"])

    async def refused_twice():
        waiting = await mails(runtime.db)
        return smtp.inbox.refused >= 4 and all(m["attempts"] >= 2 and m["sent_at"] is None for m in waiting)

    await eventually(refused_twice)
    waiting = await mails(runtime.db)
    assert all("451" in m["last_error"] for m in waiting) and smtp.inbox.messages == []

    smtp.inbox.refusal = None
    await eventually(lambda: _all_sent(runtime.db))
    assert sorted(m["To"] for m in smtp.inbox.messages) == ["cgd.deputy@cgd.example", "cgd.dg@cgd.example"]
    await runtime.app.state.mail_relay.relay_once()  # nothing is left to send
    assert len(smtp.inbox.messages) == 2


async def _all_sent(db) -> bool:
    rows = await mails(db)
    return bool(rows) and all(m["sent_at"] is not None for m in rows)


async def test_a_server_that_is_down_then_up_gets_everything_once(start):
    server = SmtpServer()  # not listening yet
    runtime = await start(server.port)
    await propose_to(runtime.consumers[EVENTS_QUEUE], ["cgd.dg", "cgd.head", "cgd.officer"])
    await eventually(lambda: _tried(runtime.db, 2))
    assert all(m["sent_at"] is None and m["last_error"] for m in await mails(runtime.db))

    server.start()
    try:
        await eventually(lambda: _all_sent(runtime.db))
        addresses = sorted(m["To"] for m in server.inbox.messages)
        assert addresses == ["cgd.dg@cgd.example", "cgd.head@cgd.example", "cgd.officer@cgd.example"]
        ids = {m["Message-ID"] for m in server.inbox.messages}
        assert len(ids) == 3
    finally:
        server.stop()


async def _tried(db, attempts: int) -> bool:
    rows = await mails(db)
    return len(rows) == 3 and all(m["attempts"] >= attempts for m in rows)


async def test_a_permanent_refusal_ends_the_mail(start, smtp):
    smtp.inbox.refusal = "550 5.1.1 no such mailbox"
    runtime = await start(smtp.port)
    await propose_to(runtime.consumers[EVENTS_QUEUE], ["cgd.gone"])

    async def failed():
        (mail,) = await mails(runtime.db)
        return mail["failed_at"] is not None and mail

    mail = await eventually(failed)
    assert mail["sent_at"] is None and "550" in mail["last_error"] and mail["attempts"] == 1
    smtp.inbox.refusal = None
    await runtime.app.state.mail_relay.relay_once()
    assert smtp.inbox.messages == [] and smtp.inbox.refused == 1


def test_the_delay_doubles_up_to_the_maximum():
    policy = RetryPolicy(first=30, maximum=600)
    assert [policy.delay(n).total_seconds() for n in range(1, 7)] == [30, 60, 120, 240, 480, 600]
