"""Reads and writes of attachment metadata. Every read is scoped to the principal's unit inside the query."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, case, exists, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.storage.adapters.tables import (
    attachments,
    grants,
    letter_attachments,
    sent_letters,
    signature_checks,
    signed_drafts,
    stamped_copies,
)
from services.storage.domain.attachments import PDF
from services.storage.domain.clearance import Classification
from shared.db import insert_ignore
from shared.principal import CLEARANCE_ORDER

# A letter's secrecy as a number, lowest first; a level this service does not know ranks above all others.
_SECRECY_RANK = case(
    {level: rank for rank, level in enumerate(CLEARANCE_ORDER)},
    value=sent_letters.c.secrecy,
    else_=len(CLEARANCE_ORDER),
)


def _readable(org_id: uuid.UUID):
    """Attachments a unit may read: those it uploaded and those a letter sent to it carried."""
    granted = exists().where(and_(grants.c.attachment_id == attachments.c.id, grants.c.org_id == org_id))
    return or_(attachments.c.org_id == org_id, granted)


class AttachmentRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def add(self, row: dict) -> None:
        await self.session.execute(insert(attachments).values(**row))

    async def get_readable(self, attachment_id: uuid.UUID, org_id: uuid.UUID) -> dict | None:
        query = select(attachments).where(attachments.c.id == attachment_id, _readable(org_id))
        row = (await self.session.execute(query)).mappings().first()
        return dict(row) if row else None

    async def owned_ids(self, ids: list[uuid.UUID], org_id: uuid.UUID) -> set[uuid.UUID]:
        """Of `ids`, those the unit uploaded itself (a grant to read is not ownership)."""
        if not ids:
            return set()
        query = select(attachments.c.id).where(attachments.c.id.in_(ids), attachments.c.org_id == org_id)
        return set((await self.session.execute(query)).scalars())

    async def owners(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """The unit that uploaded each of `ids` that exists, in one query."""
        if not ids:
            return {}
        query = select(attachments.c.id, attachments.c.org_id).where(attachments.c.id.in_(ids))
        return dict((await self.session.execute(query)).tuples().all())

    async def grant(self, pairs: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]], at: datetime) -> None:
        """Lets each unit read each attachment: (attachment, unit, the letter that grants it). A grant that
        already exists stays as it was; of two in the list, the first stands."""
        rows: dict[tuple[uuid.UUID, uuid.UUID], dict] = {}
        for attachment_id, org_id, letter_id in pairs:
            row = {"attachment_id": attachment_id, "org_id": org_id, "letter_id": letter_id, "granted_at": at}
            rows.setdefault((attachment_id, org_id), row)
        if rows:
            # One statement for every pair: a batch of circulars may carry many attachments to many units.
            await self.session.execute(insert_ignore(self.session, grants), list(rows.values()))

    async def record_letters(self, letters: list[tuple[uuid.UUID, str, list[uuid.UUID]]], at: datetime) -> None:
        """Remembers that letters were handled, in two statements: (letter, its secrecy, the attachments it
        carried in the letter's order). A letter recorded before stays as it was."""
        if not letters:
            return
        rows = [{"letter_id": letter_id, "secrecy": secrecy, "recorded_at": at} for letter_id, secrecy, _ in letters]
        await self.session.execute(insert_ignore(self.session, sent_letters), rows)
        carried = [
            {"letter_id": letter_id, "attachment_id": a, "ordinal": i}
            for letter_id, _, attachment_ids in letters
            for i, a in enumerate(attachment_ids)
        ]
        if carried:
            await self.session.execute(insert_ignore(self.session, letter_attachments), carried)

    async def carried_by(self, letter_id: uuid.UUID) -> set[uuid.UUID]:
        query = select(letter_attachments.c.attachment_id).where(letter_attachments.c.letter_id == letter_id)
        return set((await self.session.execute(query)).scalars())

    async def classification(self, attachment_id: uuid.UUID) -> Classification:
        """The highest secrecy among the letters that carried the attachment, and that letter (the first
        recorded one on a tie); normal when no letter carried it."""
        query = (
            select(sent_letters.c.secrecy, sent_letters.c.letter_id)
            .join(letter_attachments, letter_attachments.c.letter_id == sent_letters.c.letter_id)
            .where(letter_attachments.c.attachment_id == attachment_id)
            .order_by(_SECRECY_RANK.desc(), sent_letters.c.recorded_at, sent_letters.c.letter_id)
            .limit(1)
        )
        row = (await self.session.execute(query)).first()
        return Classification(row.secrecy, row.letter_id) if row else Classification()

    async def letter_known(self, letter_id: uuid.UUID) -> bool:
        query = select(sent_letters.c.letter_id).where(sent_letters.c.letter_id == letter_id)
        return (await self.session.execute(query)).first() is not None

    async def pdfs_to_stamp(self, letter_id: uuid.UUID, org_id: uuid.UUID, delivery_id: uuid.UUID) -> list[dict]:
        """The PDFs a letter carried that the receiving unit may read and whose stamped copy for this delivery
        is not recorded yet, in the letter's order."""
        carried = and_(
            letter_attachments.c.attachment_id == attachments.c.id, letter_attachments.c.letter_id == letter_id
        )
        granted = exists().where(and_(grants.c.attachment_id == attachments.c.id, grants.c.org_id == org_id))
        stamped = exists().where(
            and_(stamped_copies.c.attachment_id == attachments.c.id, stamped_copies.c.delivery_id == delivery_id)
        )
        query = (
            select(attachments, letter_attachments.c.ordinal)
            .join(letter_attachments, carried)
            .where(attachments.c.content_type == PDF, granted, ~stamped)
            .order_by(letter_attachments.c.ordinal, attachments.c.created_at, attachments.c.id)
        )
        return [dict(row) for row in (await self.session.execute(query)).mappings()]

    async def add_stamped(self, rows: list[dict]) -> None:
        """Records stamped copies; one already recorded for the same delivery and attachment stays as it was."""
        if rows:
            await self.session.execute(insert_ignore(self.session, stamped_copies), rows)

    async def get_stamped(self, delivery_id: uuid.UUID, org_id: uuid.UUID) -> dict | None:
        """The first stamped copy of a delivery (in the letter's order), only for the unit that received it, with
        the original's filename."""
        query = (
            select(stamped_copies, attachments.c.filename)
            .join(attachments, attachments.c.id == stamped_copies.c.attachment_id)
            .where(stamped_copies.c.delivery_id == delivery_id, stamped_copies.c.recipient_org_id == org_id)
            .order_by(stamped_copies.c.ordinal, stamped_copies.c.attachment_id)
            .limit(1)
        )
        row = (await self.session.execute(query)).mappings().first()
        return dict(row) if row else None

    async def signed_draft(self, draft_id: uuid.UUID) -> dict | None:
        """The signed PDF of a draft, with its attachment's unit, hash and size."""
        query = (
            select(signed_drafts, attachments.c.org_id, attachments.c.sha256, attachments.c.size)
            .join(attachments, attachments.c.id == signed_drafts.c.attachment_id)
            .where(signed_drafts.c.draft_id == draft_id)
        )
        row = (await self.session.execute(query)).mappings().first()
        return dict(row) if row else None

    async def add_signed_draft(self, row: dict) -> None:
        await self.session.execute(insert(signed_drafts).values(**row))

    async def pdfs(self, ids: list[uuid.UUID]) -> list[dict]:
        """Of `ids`, the attachments that are PDFs, with what reading them needs."""
        if not ids:
            return []
        query = select(attachments).where(attachments.c.id.in_(ids), attachments.c.content_type == PDF)
        return [dict(row) for row in (await self.session.execute(query)).mappings()]

    async def letters_checked(self, letter_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Of `letter_ids`, those whose signatures were checked already."""
        if not letter_ids:
            return set()
        query = select(signature_checks.c.letter_id).where(signature_checks.c.letter_id.in_(letter_ids)).distinct()
        return set((await self.session.execute(query)).scalars())

    async def add_checks(self, rows: list[dict]) -> None:
        """Records what verification found; a finding recorded before stays as it was."""
        if rows:
            await self.session.execute(insert_ignore(self.session, signature_checks), rows)

    async def signatures(self, letter_id: uuid.UUID, org_id: uuid.UUID) -> list[dict] | None:
        """What verification found about the letter's signatures, in the PDFs of it the unit may read (in the
        letter's order); None when the unit may read nothing the letter carried."""
        readable = (
            select(letter_attachments.c.attachment_id, letter_attachments.c.ordinal)
            .join(attachments, attachments.c.id == letter_attachments.c.attachment_id)
            .where(letter_attachments.c.letter_id == letter_id, _readable(org_id))
        )
        ordinals = dict((await self.session.execute(readable)).tuples().all())
        if not ordinals:
            return None
        query = select(signature_checks).where(
            signature_checks.c.letter_id == letter_id, signature_checks.c.attachment_id.in_(list(ordinals))
        )
        rows = [dict(row) for row in (await self.session.execute(query)).mappings()]
        return sorted(rows, key=lambda row: (ordinals[row["attachment_id"]], str(row["attachment_id"]), row["field"]))
