"""Notify's use cases, each one unit of work: learn people, letters and orders from events and tell the people
concerned (once per event and person); list, read and choose; remind of deadlines; make the daily digests."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.adapters.repository import NotifyRepository
from services.notify.domain import kinds, messages, schedule
from shared import thai
from shared.contracts import (
    DeliveryClosed,
    DeliveryDelivered,
    DeliveryOrdered,
    DeliveryProposed,
    DeliveryReopened,
    DeliveryResumed,
    DeliverySuspended,
    DraftEndorsed,
    DraftProposed,
    Envelope,
    LetterSent,
    UserChanged,
    UserContact,
    UserCreated,
    parse,
)
from shared.db import Database
from shared.principal import Principal
from shared.problems import Problem, not_found
from shared.seed import DEMO_USERS, org_id

log = logging.getLogger("sarabun.notify")

# A delivery whose letter is not known yet waits this long for its letter.sent (still on its way, or retried);
# an older one is of a letter sent before notify listened, and is told without its urgency: not at all.
LETTER_WAIT = timedelta(minutes=5)


class LetterNotYetKnown(Exception):
    """A delivery came before its letter's letter.sent: the bus tries it again shortly."""


@dataclass(frozen=True)
class Context:
    """What the use cases need from the settings: whether mail goes out, where links lead, the clock."""

    mail_enabled: bool
    public_url: str | None = None
    digest_time: str = "07:00"
    clock: Callable[[], datetime] = thai.now


# ── Telling people ─────────────────────────────────────────────────────────────────────────────────────


async def tell(
    session: AsyncSession, ctx: Context, event_id: uuid.UUID, told: dict[str, str], facts: dict, actor: str | None
) -> int:
    """Makes a notification of the event for each person (username → kind), once per (event, person): one
    already there (a redelivery, a replay, a second scan) makes nothing, and so no second mail. A person is
    not told of their own action, nor when their account is disabled. Returns how many were made."""
    repo = NotifyRepository(session)
    names = sorted(name for name in told if name and name != actor)
    people = await repo.persons(names)
    choices = await repo.choices(names)
    now = ctx.clock()
    made = 0
    for name in names:
        person = people.get(name)
        if person is not None and person.active is False:
            continue
        kind = told[name]
        choice = kinds.choices_of(choices[name])[kind]
        address = person.email if person else None
        by_mail = kinds.by_mail(choice, ctx.mail_enabled, address)
        row = {
            "id": uuid.uuid4(),
            "event_id": event_id,
            "username": name,
            "kind": kind,
            "facts": facts,
            "created_at": now,
            "by_mail": by_mail,
        }
        if not await repo.add_notification(row):
            continue
        made += 1
        if by_mail == kinds.IMMEDIATE:
            subject, body = messages.mail(kind, facts, now, ctx.public_url)
            await repo.add_mail(_mail_row(str(row["id"]), name, address, subject, body, now))
    return made


def _mail_row(key: str, username: str, address: str, subject: str, body: str, now: datetime) -> dict:
    return {
        "id": uuid.uuid4(),
        "key": key,
        "username": username,
        "to_address": address,
        "subject": subject,
        "body": body,
        "created_at": now,
        "next_attempt_at": now,
    }


async def _letter_facts(repo: NotifyRepository, letter_id: uuid.UUID) -> dict:
    facts = {"letter_id": str(letter_id)}
    letter = await repo.letter(letter_id)
    if letter:
        facts |= {"doc_no": letter["doc_no"], "urgency": letter["urgency"]}
        if letter["subject"]:
            facts["subject"] = letter["subject"]
    return facts


def _deadline(moment: datetime | None) -> dict:
    return {"deadline": moment.isoformat()} if moment else {}


# ── Events ─────────────────────────────────────────────────────────────────────────────────────────────


async def apply_events(session: AsyncSession, ctx: Context, envelopes: list[Envelope]) -> None:
    """The consumer's unit of work: each event in delivery order (a letter before its deliveries, an account
    before its address)."""
    for envelope in envelopes:
        await apply_event(session, ctx, envelope)


async def apply_event(session: AsyncSession, ctx: Context, envelope: Envelope) -> None:
    event = parse(envelope)
    repo = NotifyRepository(session)
    actor = envelope.actor
    if isinstance(event, UserCreated | UserChanged):
        at = event.created_at if isinstance(event, UserCreated) else event.changed_at
        await repo.set_access(event.username, event.org_id, event.roles, event.active, at)
    elif isinstance(event, UserContact):
        await repo.set_contact(event.username, event.email, event.changed_at)
    elif isinstance(event, LetterSent):
        await repo.add_letter(
            {
                "letter_id": event.letter_id,
                "doc_no": event.doc_no,
                "subject": event.subject if event.secrecy == "normal" else None,
                "urgency": event.urgency,
                "sent_at": event.sent_at,
            }
        )
    elif isinstance(event, DeliveryDelivered):
        await _delivered(session, ctx, envelope, event)
    elif isinstance(event, DeliveryProposed):
        facts = await _letter_facts(repo, event.letter_id) | {"delivery_id": str(event.delivery_id)}
        await tell(session, ctx, envelope.id, {event.to_username: kinds.PROPOSED_TO_YOU}, facts, actor)
    elif isinstance(event, DeliveryOrdered):
        await _ordered(session, ctx, envelope, event)
    elif isinstance(event, DeliverySuspended):
        await repo.suspend(event.delivery_id, event.occurred_at)
    elif isinstance(event, DeliveryResumed):
        await repo.resume(event.delivery_id, event.occurred_at)
    elif isinstance(event, DeliveryClosed):
        await repo.end_orders_of(event.delivery_id)
    elif isinstance(event, DeliveryReopened):
        await repo.reopen_latest_of(event.delivery_id)
    elif isinstance(event, DraftProposed | DraftEndorsed):
        kind = kinds.draft_kind(event.status or "in_review")
        if kind and event.current:
            facts = {"draft_id": str(event.draft_id), "version": event.version}
            await tell(session, ctx, envelope.id, {event.current: kind}, facts, actor)


async def _delivered(session: AsyncSession, ctx: Context, envelope: Envelope, event: DeliveryDelivered) -> None:
    """An urgent letter (ด่วน and above) reaching a unit: its clerks are told."""
    repo = NotifyRepository(session)
    letter = await repo.letter(event.letter_id)
    if letter is None:
        if ctx.clock() - envelope.time < LETTER_WAIT:
            raise LetterNotYetKnown(f"letter {event.letter_id} not known yet")
        log.info("delivery %s of a letter never announced here: no urgency known, nobody told", event.delivery_id)
        return
    if letter["urgency"] not in kinds.URGENT:
        return
    clerks = kinds.clerks(await repo.people_of(event.recipient_org_id), event.recipient_org_id)
    facts = await _letter_facts(repo, event.letter_id) | {"delivery_id": str(event.delivery_id)}
    await tell(session, ctx, envelope.id, dict.fromkeys(clerks, kinds.URGENT_LETTER), facts, envelope.actor)


async def _ordered(session: AsyncSession, ctx: Context, envelope: Envelope, event: DeliveryOrdered) -> None:
    """A head's order: the assignees and those given it for information are told; its deadline is watched,
    and the order it supersedes is no longer."""
    repo = NotifyRepository(session)
    if event.supersedes:
        await repo.end_order(event.supersedes)
    if event.deadline is not None:
        await repo.add_order(
            {
                "order_id": event.order_id,
                "delivery_id": event.delivery_id,
                "letter_id": event.letter_id,
                "deadline": event.deadline,
                "assignees": sorted(set(event.assignee_usernames)),
                "head": envelope.actor,
                "active": True,
                "ordered_at": event.occurred_at,
            }
        )
    told = kinds.order_kinds(event.assignee_usernames, event.for_information, envelope.actor)
    facts = await _letter_facts(repo, event.letter_id)
    facts |= {"delivery_id": str(event.delivery_id), "order_id": str(event.order_id)} | _deadline(event.deadline)
    await tell(session, ctx, envelope.id, told, facts, envelope.actor)


# ── Reminders and digests (the scheduler's rounds) ─────────────────────────────────────────────────────


async def remind_deadlines(db: Database, ctx: Context) -> int:
    """Tells the assignees of each open order whose deadline is tomorrow, and the assignees and the head of
    each whose deadline has passed; once each per order and person, whoever runs it and however often."""
    now = ctx.clock()
    made = 0
    async with db.transaction() as session:
        repo = NotifyRepository(session)
        for row in await repo.open_orders(until=now + timedelta(days=2)):
            order = schedule.Order(row["order_id"], row["deadline"], suspended=row["suspended_at"] is not None)
            for kind in schedule.due_reminders(order, now):
                people = list(row["assignees"]) + ([row["head"]] if kind == kinds.DEADLINE_PASSED else [])
                facts = await _letter_facts(repo, row["letter_id"])
                facts |= {"delivery_id": str(row["delivery_id"]), "order_id": str(row["order_id"])}
                facts |= _deadline(row["deadline"])
                event_id = schedule.reminder_id(row["order_id"], kind)
                made += await tell(session, ctx, event_id, dict.fromkeys(people, kind), facts, None)
    return made


async def make_digests(db: Database, ctx: Context) -> int:
    """Once the day's digest time has come: one mail per person with what they chose to get in a digest and
    were told since the last one. A person's digest of a day is made once (its key); what came after it
    waits for the next day's."""
    now = ctx.clock()
    at = schedule.parse_time(ctx.digest_time)
    day = schedule.digest_day(now, at)
    if day is None:
        return 0
    made = 0
    async with db.transaction() as session:
        repo = NotifyRepository(session)
        waiting = await repo.undigested(until=schedule.digest_moment(day, at))
        by_person: dict[str, list[dict]] = {}
        for row in waiting:
            by_person.setdefault(row["username"], []).append(row)
        people = await repo.persons(list(by_person))
        for name, rows in by_person.items():
            person = people.get(name)
            if ctx.mail_enabled and person and person.email and person.active is not False:
                items = [(r["kind"], r["facts"], r["created_at"]) for r in rows]
                subject, body = messages.digest(day, items, ctx.public_url)
                row = _mail_row(f"digest:{name}:{day.isoformat()}", name, person.email, subject, body, now)
                if not await repo.add_mail(row):
                    continue  # today's is made already: these go in tomorrow's
                made += 1
            await repo.mark_digested([r["id"] for r in rows], now)
    return made


# ── What a person reads and chooses ────────────────────────────────────────────────────────────────────


async def preferences(db: Database, ctx: Context, who: Principal) -> dict:
    async with db.read() as session:
        repo = NotifyRepository(session)
        stored = (await repo.choices([who.user]))[who.user]
        person = (await repo.persons([who.user])).get(who.user)
    return {
        "choices": kinds.choices_of(stored),
        "kinds": [{"kind": k, "label": th, "label_en": en} for k, (th, en) in kinds.KIND_LABELS.items()],
        "email": person.email if person else None,
        "email_enabled": ctx.mail_enabled,
        "digest_time": ctx.digest_time,
    }


async def choose(db: Database, ctx: Context, who: Principal, chosen: dict[str, str]) -> dict:
    """Changes the kinds named; the others stay as they were. Applies to notifications made from now on."""
    async with db.transaction() as session:
        await NotifyRepository(session).set_choices(who.user, chosen, ctx.clock())
    return await preferences(db, ctx, who)


def _cursor(text: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not text:
        return None
    try:
        at, _, last = text.rpartition("_")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("no offset")
        return moment.astimezone(UTC), uuid.UUID(last)
    except (ValueError, OverflowError):  # not ours, or a time out of range once in UTC
        message = "ตัวชี้หน้าถัดไปไม่ถูกต้อง (invalid cursor)"
        raise Problem(422, message, errors=[{"field": "cursor", "message": message}]) from None


def view(row: dict) -> dict:
    title, title_en = messages.title(row["kind"], row["facts"])
    facts = row["facts"]
    return {
        "id": row["id"],
        "kind": row["kind"],
        "title": title,
        "title_en": title_en,
        "link": messages.link(row["kind"], facts),
        "created_at": row["created_at"],
        "created_at_th": messages.datetime_th(row["created_at"]),
        "read": row["read_at"] is not None,
        "read_at": row["read_at"],
        "letter_id": facts.get("letter_id"),
        "delivery_id": facts.get("delivery_id"),
        "draft_id": facts.get("draft_id"),
        "deadline": facts.get("deadline"),
    }


async def listed(db: Database, who: Principal, cursor: str | None, limit: int) -> dict:
    """The person's notifications, newest first, a page at a time, with how many are unread."""
    before = _cursor(cursor)
    async with db.read() as session:
        repo = NotifyRepository(session)
        rows = await repo.listed(who.user, before, limit + 1)
        unread = await repo.unread(who.user)
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return {
        "items": [view(row) for row in rows],
        "unread": unread,
        "next_cursor": f"{last['created_at'].isoformat()}_{last['id']}" if last else None,
    }


async def mark_read(db: Database, ctx: Context, who: Principal, notification_id: uuid.UUID) -> dict:
    """Read once; again changes nothing. Someone else's is not found."""
    async with db.transaction() as session:
        row = await NotifyRepository(session).mark_read(notification_id, who.user, ctx.clock())
    if row is None:
        raise not_found("การแจ้งเตือน")
    return view(row)


# ── Demo ───────────────────────────────────────────────────────────────────────────────────────────────


async def seed_demo_people(db: Database) -> None:
    """The demo users, as the gateway seeds them (its seed announces no accounts); those already known stay."""
    rows = [
        {
            "username": user.username,
            "org_id": org_id(user.org_key),
            "roles": list(user.roles),
            "active": True,
            "email": user.email,
        }
        for user in DEMO_USERS
    ]
    async with db.transaction() as session:
        await NotifyRepository(session).add_people_if_missing(rows)
