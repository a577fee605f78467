"""Routing's internal HTTP routes (called by the gateway only, with a principal token)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.routing import service, work
from services.routing.domain.directory import parse_file, to_csv, to_json
from services.routing.domain.work import TEXT_MAX
from shared.paging import decode_cursor, encode_cursor
from shared.principal import CurrentPrincipal, Principal, visible_subject
from shared.problems import Problem
from shared.registers import PAGE_MAX, NextNumberRequest, check_admin, check_year, decode_register_cursor
from shared.schemas import AnnotationRequest, ForwardRequest, ReasonRequest, RecallRequest, Text
from shared.thai import clean

router = APIRouter()

Status = Literal[
    "pending", "delivered", "received", "forwarded", "returned", "rejected", "invalid", "recalled", "closed"
]


def _db(request: Request):
    return request.app.state.db


ORG_FIELDS = (
    "id",
    "key",
    "code",
    "name",
    "name_en",
    "kind",
    "parent_id",
    "national_code",
    "own_registers",
    "valid_from",
    "valid_to",
    # The unit whose registers number this unit's letters: itself, or the central registry (สารบรรณกลาง) of
    # the nearest parent keeping its own registers; its letters carry that unit's letter code.
    "registry_id",
    "registry_code",
)


def _org(row: dict) -> dict:
    return {k: row[k] for k in ORG_FIELDS}


def _delivery(row: dict, who: Principal) -> dict:
    return {
        "id": row["id"],
        "letter_id": row["letter_id"],
        "sender_org_id": row["sender_org_id"],
        "recipient_org_id": row["recipient_org_id"],
        "doc_no": row["doc_no"],
        "subject": visible_subject(who, row["subject"], row["secrecy"]),
        "urgency": row["urgency"],
        "secrecy": row["secrecy"],
        "status": row["status"],
        "delivered_at": row["delivered_at"],
        "received_at": row["received_at"],
        "receive_no": row["receive_no"],
        "receive_year": row["receive_year"],
        "received_by": row["received_by"],
        "status_changed_at": row["status_changed_at"],
        "reason": row["reason"],
        "forwarded_from": row["forwarded_from"],
        "forwarded_by": row["forwarded_by"],
        "forward_note": row["forward_note"],
        "deliver_by": row["deliver_by"],
        "sent_at": row["sent_at"],
        # The work on it: its stage while registered, when it is due, and when its unit closed it (the sender
        # sees this per recipient; the result stays with the recipient).
        "stage": row["stage"],
        "due_at": row["due_at"],
        "closed_at": row["closed_at"],
    }


@router.get("/orgs")
async def list_orgs(request: Request, who: CurrentPrincipal, retired: bool = False, at: datetime | None = None):
    return [_org(o) for o in await service.list_orgs(_db(request), retired, at)]


@router.get("/orgs/{org_id}")
async def get_org(org_id: uuid.UUID, request: Request, who: CurrentPrincipal, at: datetime | None = None):
    """A unit, retired or not; with `at` (ISO date-time), under the name and codes it had at that moment."""
    return _org(await service.get_org(_db(request), org_id, at))


# The directory as a file: import (the whole directory, all or nothing) and export (what import takes).


@router.post("/directory/import")
async def import_directory(request: Request, who: CurrentPrincipal, dry_run: bool = False):
    """JSON `{"units": [...]}`, or CSV when the content type says text/csv; 422 with the rows' errors."""
    check_admin(who)
    is_csv = request.headers.get("content-type", "").startswith("text/csv")
    units, errors = parse_file(await request.body(), "directory.csv" if is_csv else "directory.json")
    if errors:
        raise service.refuse_file(errors)
    return await service.import_directory(_db(request), units, dry_run, who.user)


@router.get("/directory/export")
async def export_directory(
    request: Request, who: CurrentPrincipal, format_: Annotated[Literal["json", "csv"], Query(alias="format")] = "json"
):
    check_admin(who)
    units = await service.export_directory(_db(request))
    if format_ == "csv":
        return Response(to_csv(units).encode("utf-8"), media_type="text/csv; charset=utf-8")
    return to_json(units)


class Ids(BaseModel):
    ids: list[uuid.UUID]


@router.get("/groups")
async def list_groups(request: Request, who: CurrentPrincipal):
    return [
        {"id": g["id"], "key": g["key"], "name": g["name"], "member_org_ids": g["member_org_ids"]}
        for g in await service.list_groups(_db(request))
    ]


@router.post("/groups/expand")
async def expand_groups(body: Ids, request: Request, who: CurrentPrincipal):
    return {"org_ids": await service.expand_groups(_db(request), body.ids)}


@router.get("/deliveries")
async def deliveries_of_letters(
    request: Request, who: CurrentPrincipal, letter_id: Annotated[list[uuid.UUID], Query(max_length=200)]
):
    return [_delivery(d, who) for d in await service.deliveries_of_letters(_db(request), letter_id, who)]


@router.post("/deliveries/{delivery_id}/receive")
async def receive(delivery_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    return _delivery(await service.receive(_db(request), delivery_id, who), who)


@router.get("/inbox")
async def inbox(
    request: Request,
    who: CurrentPrincipal,
    status: Status | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
):
    after = decode_cursor(cursor, 3)
    if after:
        try:
            after = [int(after[0]), datetime.fromisoformat(after[1]), uuid.UUID(after[2])]
        except (TypeError, ValueError) as exc:
            raise Problem(422, "cursor ไม่ถูกต้อง ใช้ค่า next_cursor จากหน้าก่อน (invalid cursor)") from exc
    rows = await service.inbox(_db(request), who, status, clean(q) if q else None, after, limit)
    next_cursor = None
    if len(rows) == limit:
        last = rows[-1]
        next_cursor = encode_cursor(last["urgency_rank"], last["delivered_at"].isoformat(), str(last["id"]))
    return {"items": [_delivery(r, who) for r in rows], "next_cursor": next_cursor}


def _annotation(row: dict) -> dict:
    return {k: row[k] for k in ("id", "delivery_id", "author", "position", "text", "decision", "created_at")}


@router.get("/deliveries/{delivery_id}/annotations")
async def annotations(delivery_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    return [_annotation(a) for a in await service.annotations_of(_db(request), delivery_id, who)]


@router.post("/deliveries/{delivery_id}/annotations", status_code=201)
async def annotate(delivery_id: uuid.UUID, body: AnnotationRequest, request: Request, who: CurrentPrincipal):
    row = await service.annotate(_db(request), delivery_id, body.text, body.decision, body.position, who)
    return _annotation(row)


@router.post("/deliveries/{delivery_id}/forward")
async def forward(delivery_id: uuid.UUID, body: ForwardRequest, request: Request, who: CurrentPrincipal):
    result = await service.forward(_db(request), delivery_id, body.recipient_org_ids, body.note, who)
    return {**_delivery(result, who), "forwarded_to": result["forwarded_to"]}


# The work on a registered letter: เสนอ, สั่งการ, พักเรื่อง, ดำเนินการต่อ, ปิดเรื่อง, เปิดเรื่องใหม่, รับทราบ.


class ProposeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_username: Annotated[str, Field(min_length=1, max_length=100)]
    to_org_id: uuid.UUID | None  # the head's unit and clearance, as the gateway knows him
    to_clearance: str = "normal"
    summary: Annotated[Text, Field(max_length=TEXT_MAX)]


class CloseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    result: Annotated[Text, Field(max_length=TEXT_MAX)]


@router.get("/deliveries/{delivery_id}/work")
async def work_of(delivery_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    return await work.work_of(_db(request), delivery_id, who)


@router.post("/deliveries/{delivery_id}/propose")
async def propose(delivery_id: uuid.UUID, body: ProposeBody, request: Request, who: CurrentPrincipal):
    db = _db(request)
    return await work.propose(db, delivery_id, body.to_username, body.to_org_id, body.summary, who, body.to_clearance)


@router.post("/deliveries/{delivery_id}/order")
async def order(delivery_id: uuid.UUID, body: work.OrderRequest, request: Request, who: CurrentPrincipal):
    return await work.order(_db(request), delivery_id, body, who)


@router.post("/deliveries/{delivery_id}/suspend")
async def suspend(delivery_id: uuid.UUID, body: ReasonRequest, request: Request, who: CurrentPrincipal):
    return await work.suspend(_db(request), delivery_id, body.reason, who)


@router.post("/deliveries/{delivery_id}/resume")
async def resume(delivery_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    return await work.resume(_db(request), delivery_id, who)


@router.post("/deliveries/{delivery_id}/close")
async def close(delivery_id: uuid.UUID, body: CloseBody, request: Request, who: CurrentPrincipal):
    return await work.close(_db(request), delivery_id, body.result, who)


@router.post("/deliveries/{delivery_id}/reopen")
async def reopen(delivery_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    return await work.reopen(_db(request), delivery_id, who)


@router.post("/deliveries/{delivery_id}/acknowledge")
async def acknowledge(delivery_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    return await work.acknowledge(_db(request), delivery_id, who)


@router.get("/worklist")
async def worklist(request: Request, who: CurrentPrincipal):
    items = await work.worklist(_db(request), who)
    return [{**item, "subject": visible_subject(who, item["subject"], item["secrecy"])} for item in items]


@router.post("/deliveries/{delivery_id}/{action}")
async def refuse(
    delivery_id: uuid.UUID,
    action: Literal["return", "reject", "report-invalid"],
    body: ReasonRequest,
    request: Request,
    who: CurrentPrincipal,
):
    delivery = await service.refuse(_db(request), delivery_id, action.replace("-", "_"), body.reason, who)
    return _delivery(delivery, who)


@router.post("/letters/{letter_id}/recall")
async def recall(letter_id: uuid.UUID, body: RecallRequest, request: Request, who: CurrentPrincipal):
    return [_delivery(d, who) for d in await service.recall(_db(request), letter_id, body.recipient_org_ids, who)]


@router.get("/letters/{letter_id}/pending")
async def pending(letter_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    return [_delivery(d, who) for d in await service.pending(_db(request), letter_id, who)]


# ทะเบียนหนังสือรับ: the receive register, read per unit and year; where its numbering continues.


@router.get("/registers/receive")
async def receive_register(
    request: Request,
    who: CurrentPrincipal,
    org_id: uuid.UUID,
    year: int,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
):
    check_year(year)
    after = decode_register_cursor(cursor, int)
    rows = await service.receive_register(_db(request), who, org_id, year, after[0] if after else None, limit)
    next_cursor = encode_cursor(rows[-1]["register_no"]) if len(rows) == limit else None
    return {"items": rows, "next_cursor": next_cursor}


@router.put("/registers/receive/next-number")
async def set_receive_next_number(body: NextNumberRequest, request: Request, who: CurrentPrincipal):
    return await service.set_receive_next_number(_db(request), who, body)


@router.get("/follow-up")
async def follow_up(request: Request, who: CurrentPrincipal):
    """The unit's overdue and unregistered letters, and the work per division and per person."""
    found = await service.follow_up(_db(request), who)
    lists = {name: [_delivery(d, who) for d in rows] for name, rows in found.items()}
    return {**lists, **await work.follow_up(_db(request), who)}
