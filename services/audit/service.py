"""Audit's use cases, each one unit of work: record an event as a leaf, read a letter's history, read leaves."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.adapters.repository import LogRepository
from services.audit.domain import queries
from services.audit.domain.entries import Leaf, leaf_for
from services.audit.domain.merkle import GetNode, appended_nodes, consistency_proof, inclusion_proof, needed_nodes
from shared.contracts import EVENTS, Envelope
from shared.db import Database
from shared.principal import Principal
from shared.problems import Problem, not_found

log = logging.getLogger("sarabun.audit")

AUDITOR = "auditor"

T = TypeVar("T")


async def record_events(session: AsyncSession, envelopes: list[Envelope]) -> int:
    """Appends the leaves of the events not logged yet, in the given order, and returns how many. Runs inside
    the consumer's unit of work (the inbox transaction of `once_batch`), so the leaves, their nodes, the log
    size and the inbox marks commit together or not at all."""
    repo = LogRepository(session)
    fresh = await _unlogged(repo, envelopes)
    if not fresh:
        return 0
    # One lock on the log size for the whole batch: its leaves take contiguous indexes.
    first = await repo.reserve(len(fresh))
    await repo.append(first, fresh)
    # The subtrees these leaves complete go in with them, so proofs never see a leaf without its nodes. Those
    # finished by an earlier leaf of the batch are computed here, not read back.
    hashes = [leaf.leaf_hash for leaf in fresh]
    await repo.add_nodes(await computed(repo, lambda get: appended_nodes(first, hashes, get)))
    await repo.add_parties([(leaf.letter_id, p) for leaf in fresh if leaf.letter_id is not None for p in leaf.parties])
    return len(fresh)


async def _unlogged(repo: LogRepository, envelopes: list[Envelope]) -> list[Leaf]:
    """The leaves of the events that have none yet, each event once. The inbox already drops redeliveries to
    this consumer; this also covers the same event arriving under another consumer name (a replay), or twice
    in one batch. A race between two such copies ends on the unique event_id and the loser is retried, then
    finds the leaf here."""
    leaves: dict[uuid.UUID, Leaf] = {}
    for envelope in envelopes:
        leaves.setdefault(envelope.id, leaf_for(envelope))
    logged = await repo.logged(list(leaves))
    fresh = [leaf for event_id, leaf in leaves.items() if event_id not in logged]
    for leaf in fresh:
        if leaf.type not in EVENTS:
            log.warning("event type %s is unknown here; logged with its envelope facts only", leaf.type)
    return fresh


class DamagedLog(RuntimeError):
    """A node the tree shape says must exist is not stored: the database was changed behind the service."""


async def computed(repo: LogRepository, compute: Callable[[GetNode], T]) -> T:
    """Runs a Merkle computation over the stored nodes, fetching every node it needs in one query."""
    keys = needed_nodes(compute)
    found = await repo.nodes_at(keys)
    if missing := keys - found.keys():
        raise DamagedLog(f"stored Merkle nodes missing: {sorted(missing)[:5]}")
    return compute(lambda level, index: found[(level, index)])


async def letter_history(db: Database, letter_id: uuid.UUID, who: Principal) -> list:
    """The letter's leaves the principal may see, in log order; none visible reads as not found."""
    async with db.read() as session:
        rows = await LogRepository(session).history(letter_id, who.org_id, everything=who.has(AUDITOR))
    if not rows:
        raise not_found("ประวัติของหนังสือ")
    return rows


def _bad_query(exc: queries.QueryError) -> Problem:
    return Problem(422, str(exc), errors=[{"field": exc.field, "message": str(exc)}])


async def org_events(
    db: Database,
    who: Principal,
    org_id: uuid.UUID,
    start: str | None,
    end: str | None,
    event_type: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list, int | None]:
    """Everything an org sent or received, or did, in a window, optionally of one type: a page of leaves in
    log order and the cursor of the next page (None on the last)."""
    _auditors_only(who)
    try:
        span, wanted, after = queries.window(start, end), queries.event_type(event_type), queries.cursor(cursor)
    except queries.QueryError as exc:
        raise _bad_query(exc) from exc
    types = queries.matching_types(wanted) if wanted else None
    return await _page(db, limit, org_id=org_id, types=types, start=span.start, end=span.end, after=after)


async def denied(
    db: Database, who: Principal, start: str | None, end: str | None, cursor: str | None, limit: int
) -> tuple[list, int | None]:
    """Refused requests for classified content in a window, in log order."""
    _auditors_only(who)
    try:
        span, after = queries.window(start, end), queries.cursor(cursor)
    except queries.QueryError as exc:
        raise _bad_query(exc) from exc
    types = queries.matching_types(queries.DENIED)
    return await _page(db, limit, types=types, start=span.start, end=span.end, after=after)


async def _page(db: Database, limit: int, **where) -> tuple[list, int | None]:
    # One row more than asked says whether another page exists without a count.
    async with db.read() as session:
        rows = await LogRepository(session).search(limit=limit + 1, **where)
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1]["index"]
    return rows, None


def whole_recipient_list(rows, who: Principal) -> bool:
    """Auditors and the sender see every recipient of a letter; a recipient sees its own delivery only."""
    if who.has(AUDITOR):
        return True
    return any(r["org_id"] == who.org_id and r["type"].startswith("letter.sent.") for r in rows)


async def leaves(db: Database, who: Principal, start: int, limit: int) -> list:
    """The raw log, for auditors only; anyone else is told it does not exist."""
    if not who.has(AUDITOR):
        raise not_found("บันทึกการตรวจสอบ")
    async with db.read() as session:
        return await LogRepository(session).leaves_from(start, limit)


PAGE = 1000


def _auditors_only(who: Principal) -> None:
    # The gateway's policy already admits auditors only; the service checks again rather than trust it.
    if not who.has(AUDITOR):
        raise not_found("บันทึกการตรวจสอบ")


def _out_of_range(detail: str) -> Problem:
    return Problem(422, f"{detail} (out of range for the log)")


async def entries(db: Database, who: Principal, start: int, end: int | None) -> list:
    """Leaves start <= index < end, at most PAGE of them; the caller pages on from the last index + 1."""
    _auditors_only(who)
    end = start + PAGE if end is None else min(end, start + PAGE)
    if end < start:
        raise Problem(422, "ช่วงไม่ถูกต้อง: end ต้องไม่น้อยกว่า start (end must not be below start)")
    async with db.read() as session:
        return await LogRepository(session).leaves_from(start, end - start)


async def inclusion(db: Database, who: Principal, index: int, tree_size: int) -> list[bytes]:
    _auditors_only(who)
    async with db.read() as session:
        repo = LogRepository(session)
        if not index < tree_size <= await repo.size():
            raise _out_of_range("ต้องเป็น index < tree_size <= ขนาดของบันทึก: index < tree_size <= log size")
        return await computed(repo, lambda get: inclusion_proof(index, tree_size, get))


async def consistency(db: Database, who: Principal, first: int, second: int) -> list[bytes]:
    _auditors_only(who)
    async with db.read() as session:
        repo = LogRepository(session)
        if not first <= second <= await repo.size():
            raise _out_of_range("ต้องเป็น first <= second <= ขนาดของบันทึก: first <= second <= log size")
        return await computed(repo, lambda get: consistency_proof(first, second, get))
