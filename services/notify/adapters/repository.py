"""Reads and writes of notify's tables. Every read of notifications is scoped to the person asking."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.adapters.tables import letters, mails, notifications, orders, people, preferences
from services.notify.domain.kinds import Person
from shared.db import insert_ignore


def _dialect(session: AsyncSession):
    return postgresql if session.bind.dialect.name == "postgresql" else sqlite


def _person(row) -> Person:
    return Person(row["username"], row["org_id"], tuple(row["roles"] or ()), row["active"], row["email"])


class NotifyRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    # ── People ─────────────────────────────────────────────────────────────────────────────────────────

    async def set_access(self, username: str, org_id, roles: list[str], active: bool, at: datetime) -> None:
        """A person's unit, roles and whether they are active, unless a later event has set them already."""
        values = {"org_id": org_id, "roles": roles, "active": active, "access_at": at}
        statement = _dialect(self.session).insert(people).values(username=username, **values)
        statement = statement.on_conflict_do_update(
            index_elements=[people.c.username],
            set_=values,
            where=or_(people.c.access_at.is_(None), people.c.access_at <= at),
        )
        await self.session.execute(statement)

    async def set_contact(self, username: str, email: str | None, at: datetime) -> None:
        """A person's e-mail address, unless a later event has set it already. Someone heard of only by their
        address is of unknown standing (`active` None) until their account's event says."""
        values = {"email": email, "contact_at": at}
        statement = _dialect(self.session).insert(people).values(username=username, roles=[], active=None, **values)
        statement = statement.on_conflict_do_update(
            index_elements=[people.c.username],
            set_=values,
            where=or_(people.c.contact_at.is_(None), people.c.contact_at <= at),
        )
        await self.session.execute(statement)

    async def add_people_if_missing(self, rows: list[dict]) -> None:
        if rows:
            await self.session.execute(insert_ignore(self.session, people), rows)

    async def people_of(self, org_id: uuid.UUID) -> list[Person]:
        rows = (await self.session.execute(select(people).where(people.c.org_id == org_id))).mappings()
        return [_person(row) for row in rows]

    async def persons(self, usernames: list[str]) -> dict[str, Person]:
        if not usernames:
            return {}
        rows = (await self.session.execute(select(people).where(people.c.username.in_(usernames)))).mappings()
        return {row["username"]: _person(row) for row in rows}

    # ── Letters and orders ─────────────────────────────────────────────────────────────────────────────

    async def add_letter(self, row: dict) -> None:
        await self.session.execute(insert_ignore(self.session, letters, **row))

    async def letter(self, letter_id: uuid.UUID) -> dict | None:
        row = (await self.session.execute(select(letters).where(letters.c.letter_id == letter_id))).mappings().first()
        return dict(row) if row else None

    async def add_order(self, row: dict) -> None:
        await self.session.execute(insert_ignore(self.session, orders, **row))

    async def end_order(self, order_id: uuid.UUID) -> None:
        await self.session.execute(update(orders).where(orders.c.order_id == order_id).values(active=False))

    async def end_orders_of(self, delivery_id: uuid.UUID) -> None:
        await self.session.execute(update(orders).where(orders.c.delivery_id == delivery_id).values(active=False))

    async def reopen_latest_of(self, delivery_id: uuid.UUID) -> None:
        """A reopened matter: its latest order counts again (the ones it superseded are older)."""
        query = (
            select(orders.c.order_id)
            .where(orders.c.delivery_id == delivery_id)
            .order_by(orders.c.ordered_at.desc())
            .limit(1)
        )
        latest = (await self.session.execute(query)).scalar()
        if latest is not None:
            await self.session.execute(update(orders).where(orders.c.order_id == latest).values(active=True))

    async def suspend(self, delivery_id: uuid.UUID, at: datetime) -> None:
        await self.session.execute(
            update(orders)
            .where(orders.c.delivery_id == delivery_id, orders.c.suspended_at.is_(None))
            .values(suspended_at=at)
        )

    async def resume(self, delivery_id: uuid.UUID, at: datetime) -> None:
        """The deadline moves on by the time the matter was suspended."""
        query = select(orders).where(orders.c.delivery_id == delivery_id, orders.c.suspended_at.is_not(None))
        for row in (await self.session.execute(query)).mappings().all():
            paused = max(at - row["suspended_at"], timedelta(0))
            await self.session.execute(
                update(orders)
                .where(orders.c.order_id == row["order_id"])
                .values(deadline=row["deadline"] + paused, suspended_at=None)
            )

    async def open_orders(self, until: datetime) -> list[dict]:
        query = select(orders).where(orders.c.active.is_(True), orders.c.deadline <= until)
        return [dict(row) for row in (await self.session.execute(query)).mappings()]

    # ── Choices ────────────────────────────────────────────────────────────────────────────────────────

    async def choices(self, usernames: list[str]) -> dict[str, dict[str, str]]:
        """Each person's stored choices (kinds they never chose are absent)."""
        found: dict[str, dict[str, str]] = {name: {} for name in usernames}
        if usernames:
            query = select(preferences).where(preferences.c.username.in_(usernames))
            for row in (await self.session.execute(query)).mappings():
                found[row["username"]][row["kind"]] = row["choice"]
        return found

    async def set_choices(self, username: str, chosen: dict[str, str], at: datetime) -> None:
        for kind, choice in chosen.items():
            statement = (
                _dialect(self.session)
                .insert(preferences)
                .values(username=username, kind=kind, choice=choice, changed_at=at)
            )
            statement = statement.on_conflict_do_update(
                index_elements=[preferences.c.username, preferences.c.kind], set_={"choice": choice, "changed_at": at}
            )
            await self.session.execute(statement)

    # ── Notifications ──────────────────────────────────────────────────────────────────────────────────

    async def add_notification(self, row: dict) -> bool:
        """False when the person already has the notification of that event (the unique key)."""
        statement = (
            _dialect(self.session)
            .insert(notifications)
            .values(**row)
            .on_conflict_do_nothing(index_elements=[notifications.c.event_id, notifications.c.username])
            .returning(notifications.c.id)
        )
        return (await self.session.execute(statement)).scalar() is not None

    async def listed(self, username: str, before: tuple[datetime, uuid.UUID] | None, limit: int) -> list[dict]:
        """A page of one person's notifications, newest first."""
        query = (
            select(notifications)
            .where(notifications.c.username == username)
            .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
            .limit(limit)
        )
        if before is not None:
            at, last = before
            query = query.where(
                or_(
                    notifications.c.created_at < at,
                    and_(notifications.c.created_at == at, notifications.c.id < last),
                )
            )
        return [dict(row) for row in (await self.session.execute(query)).mappings()]

    async def unread(self, username: str) -> int:
        query = select(func.count()).where(notifications.c.username == username, notifications.c.read_at.is_(None))
        return (await self.session.execute(query)).scalar_one()

    async def mark_read(self, notification_id: uuid.UUID, username: str, at: datetime) -> dict | None:
        """Marks one of the person's notifications read (the first time only); None if it is not theirs."""
        mine = and_(notifications.c.id == notification_id, notifications.c.username == username)
        await self.session.execute(
            update(notifications).where(mine, notifications.c.read_at.is_(None)).values(read_at=at)
        )
        row = (await self.session.execute(select(notifications).where(mine))).mappings().first()
        return dict(row) if row else None

    async def undigested(self, until: datetime) -> list[dict]:
        """Notifications waiting for a digest, made before `until`, by person and in order."""
        query = (
            select(notifications)
            .where(
                notifications.c.by_mail == "digest",
                notifications.c.digested_at.is_(None),
                notifications.c.created_at < until,
            )
            .order_by(notifications.c.username, notifications.c.created_at, notifications.c.id)
        )
        return [dict(row) for row in (await self.session.execute(query)).mappings()]

    async def mark_digested(self, ids: list[uuid.UUID], at: datetime) -> None:
        if ids:
            await self.session.execute(update(notifications).where(notifications.c.id.in_(ids)).values(digested_at=at))

    # ── The mail outbox ────────────────────────────────────────────────────────────────────────────────

    async def add_mail(self, row: dict) -> bool:
        """False when a mail with the same key exists (made once)."""
        statement = (
            _dialect(self.session)
            .insert(mails)
            .values(attempts=0, **row)
            .on_conflict_do_nothing(index_elements=[mails.c.key])
            .returning(mails.c.id)
        )
        return (await self.session.execute(statement)).scalar() is not None

    async def claim_due(self, now: datetime, until: datetime, limit: int) -> list[dict]:
        """Mails due now that no relay holds, claimed until `until` (rows locked by another relay's claim are
        skipped on PostgreSQL; SQLite has one writer)."""
        query = (
            select(mails)
            .where(
                mails.c.sent_at.is_(None),
                mails.c.failed_at.is_(None),
                mails.c.next_attempt_at <= now,
                or_(mails.c.claimed_until.is_(None), mails.c.claimed_until < now),
            )
            .order_by(mails.c.next_attempt_at, mails.c.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = [dict(row) for row in (await self.session.execute(query)).mappings()]
        if rows:
            ids = [row["id"] for row in rows]
            await self.session.execute(update(mails).where(mails.c.id.in_(ids)).values(claimed_until=until))
        return rows

    async def mark_sent(self, mail_id: uuid.UUID, at: datetime) -> None:
        await self.session.execute(
            update(mails).where(mails.c.id == mail_id).values(sent_at=at, claimed_until=None, last_error=None)
        )

    async def mark_retry(self, mail_id: uuid.UUID, attempts: int, next_at: datetime, error: str) -> None:
        await self.session.execute(
            update(mails)
            .where(mails.c.id == mail_id)
            .values(attempts=attempts, next_attempt_at=next_at, claimed_until=None, last_error=error[:1000])
        )

    async def mark_failed(self, mail_id: uuid.UUID, attempts: int, at: datetime, error: str) -> None:
        await self.session.execute(
            update(mails)
            .where(mails.c.id == mail_id)
            .values(attempts=attempts, failed_at=at, claimed_until=None, last_error=error[:1000])
        )

    async def next_due(self) -> datetime | None:
        query = select(func.min(mails.c.next_attempt_at)).where(mails.c.sent_at.is_(None), mails.c.failed_at.is_(None))
        return (await self.session.execute(query)).scalar()
