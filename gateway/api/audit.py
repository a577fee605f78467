"""The auditor's questions, answered by the audit service, and what an outsider needs to verify the log:
signed checkpoints, the public key, the entries and the proofs.

Each question answers as JSON pages (keyset on the log index, `next_cursor`) or, with `format=csv`, as one
CSV file of every page: UTF-8 with a byte-order mark, headings in Thai and English, times in Asia/Bangkok.
Only metadata: ids, types, times, numbers and agency names, never a subject or a body.
"""

import csv
import io
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, StreamingResponse

from gateway import policy
from gateway.auth import CurrentUser
from gateway.clients import Services
from gateway.deps import ServicesDep
from shared import thai
from shared.principal import Principal
from shared.problems import UPSTREAM, Problem, problem_responses

router = APIRouter(tags=["audit"])

# Checked here too, so a bad number is a 422 before any internal call is made.
Index = Annotated[int, Query(ge=0, le=2**63 - 1)]
NOTE_TYPE = "text/plain; charset=utf-8"


Format = Annotated[Literal["json", "csv"], Query(alias="format")]
Limit = Annotated[int, Query(ge=1, le=1000)]
From = Annotated[str | None, Query(alias="from", max_length=100)]
To = Annotated[str | None, Query(alias="to", max_length=100)]
Cursor = Annotated[str | None, Query(max_length=100)]
CSV_PAGE = 1000
BOM = "\ufeff"  # lets spreadsheet programs open the Thai text as UTF-8
# With format=csv the answer is a CSV file instead of JSON; the OpenAPI says so, so both are checked.
OR_CSV = {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}
# A cell starting with one of these is a formula to a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Directory = dict[str, dict]
Row = Callable[[dict, Directory], list]


def _bangkok(value: str | None) -> str:
    """An entry's UTC time as the Bangkok wall-clock time with its offset."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(thai.BANGKOK).isoformat(timespec="seconds")


def _name(directory: Directory, org_id: str | None) -> str:
    if not org_id:
        return ""
    org = directory.get(org_id)
    return org["name"] if org else ""


EVENT_HEADINGS = (
    "ลำดับในบันทึก (index)",
    "ประเภทเหตุการณ์ (event type)",
    "วันเวลา (time, Asia/Bangkok)",
    "รหัสหน่วยงานที่กระทำ (acting org id)",
    "หน่วยงานที่กระทำ (acting org)",
    "ผู้กระทำ (actor)",
    "รหัสหนังสือ (letter id)",
    "ที่ (document no.)",
    "รหัสการส่ง (delivery id)",
    "ผู้ส่ง (sender)",
    "ผู้รับ (recipient)",
    "เลขทะเบียนรับ (receive no.)",
    "สถานะ (status)",
    "ชั้นความลับ (secrecy)",
    "สิ่งที่ขอ (resource)",
    "รหัสสิ่งที่ขอ (resource id)",
)


def _event_record(event: dict, directory: Directory) -> list:
    return [
        event["index"],
        event["type"],
        _bangkok(event["occurred_at"]),
        event.get("org_id") or "",
        _name(directory, event.get("org_id")),
        event.get("actor") or "",
        event.get("letter_id") or "",
        event.get("doc_no") or "",
        event.get("delivery_id") or "",
        _name(directory, event.get("sender_org_id")),
        _name(directory, event.get("recipient_org_id")),
        event.get("receive_no") or "",
        event.get("status") or "",
        event.get("secrecy") or "",
        event.get("resource") or "",
        event.get("resource_id") or "",
    ]


RECIPIENT_HEADINGS = (
    "รหัสหน่วยงานผู้รับ (recipient org id)",
    "หน่วยงานผู้รับ (recipient org)",
    "รหัสการส่ง (delivery id)",
    "ส่งถึงเมื่อ (delivered at)",
    "ลงรับเมื่อ (received at)",
    "เลขทะเบียนรับ (receive no.)",
    "ส่งต่อเมื่อ (forwarded at)",
    "คืนเรื่องเมื่อ (returned at)",
    "ปฏิเสธเมื่อ (rejected at)",
    "ผู้ส่งดึงคืนเมื่อ (recalled at)",
)


def _recipient_record(item: dict, directory: Directory) -> list:
    return [
        item["org_id"] or "",
        _name(directory, item["org_id"]),
        item["delivery_id"],
        _bangkok(item["delivered_at"]),
        _bangkok(item["received_at"]),
        item["receive_no"] if item["receive_no"] is not None else "",
        _bangkok(item["forwarded_at"]),
        _bangkok(item["returned_at"]),
        _bangkok(item["rejected_at"]),
        _bangkok(item["recalled_at"]),
    ]


def _cell(value) -> str:
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


async def _csv_lines(
    headings: tuple[str, ...],
    first: dict,
    fetch: Callable[[str], Awaitable[dict]],
    key: str,
    record: Row,
    directory: Directory,
) -> AsyncIterator[bytes]:
    """Every page, one at a time, so a long answer never sits in memory at once."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(headings)
    page = first
    while True:
        for item in page[key]:
            writer.writerow([_cell(value) for value in record(item, directory)])
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        if not page.get("next_cursor"):
            return
        page = await fetch(page["next_cursor"])


def _attachment(fallback: str, filename: str) -> str:
    """RFC 6266 with RFC 8187: an ASCII name for every client, the Thai name for those that read filename*."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def _directory(services: Services, who: Principal) -> Directory:
    return {org["id"]: org for org in await services.json("routing", "GET", "/orgs", who, params={"retired": "true"})}


async def _csv(
    services: Services,
    who: Principal,
    fetch: Callable[[str | None], Awaitable[dict]],
    *,
    headings: tuple[str, ...],
    key: str,
    record: Row,
    names: tuple[str, str],
) -> StreamingResponse:
    first = await fetch(None)  # fetched before answering, so a refusal is still a problem+json
    directory = await _directory(services, who)
    return StreamingResponse(
        _csv_lines(headings, first, fetch, key, record, directory),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": _attachment(*names)},
    )


@router.get("/audit/letters/{letter_id}/history", responses=OR_CSV | problem_responses(401, 403, 404, 422, *UPSTREAM))
async def letter_history(
    letter_id: uuid.UUID,
    who: CurrentUser,
    services: ServicesDep,
    format_: Format = "json",
    table: Literal["events", "recipients"] = "events",
):
    """A letter's events in log order with, per recipient, when it was delivered, registered, forwarded,
    returned, rejected or recalled. As CSV, `table` picks the events or the per-recipient summary."""
    policy.require(who, "audit.history")
    history = await services.json("audit", "GET", f"/letters/{letter_id}/history", who)
    if format_ == "json":
        return history
    if table == "events":
        history["events"] = [{"letter_id": str(letter_id)} | event for event in history["events"]]
        headings, record = EVENT_HEADINGS, _event_record
    else:
        headings, record = RECIPIENT_HEADINGS, _recipient_record

    async def whole(_cursor: str | None) -> dict:
        return history

    title = "ประวัติหนังสือ" if table == "events" else "การส่งถึงผู้รับ"
    names = (f"letter-{letter_id}-{table}.csv", f"{title} {letter_id}.csv")
    return await _csv(services, who, whole, headings=headings, key=table, record=record, names=names)


def _query(**params) -> dict:
    return {name: value for name, value in params.items() if value is not None}


@router.get("/audit/orgs/{org_id}/events", responses=OR_CSV | problem_responses(401, 403, 404, 422, *UPSTREAM))
async def org_events(
    org_id: uuid.UUID,
    who: CurrentUser,
    services: ServicesDep,
    start: From = None,
    end: To = None,
    type_: Annotated[str | None, Query(alias="type", max_length=100)] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
    format_: Format = "json",
):
    """Everything an agency sent or received, or did, between two Bangkok dates, optionally of one event
    type (`delivery.received`)."""
    policy.require(who, "audit.log")
    if str(org_id) not in await _directory(services, who):
        raise Problem(404, "ไม่พบหน่วยงานนี้ในทะเบียนหน่วยงาน (unknown org_id)")

    async def page(after: str | None, size: int = limit) -> dict:
        params = _query(**{"from": start, "to": end, "type": type_, "cursor": after, "limit": size})
        return await services.json("audit", "GET", f"/orgs/{org_id}/events", who, params=params)

    if format_ == "json":
        return await page(cursor)
    names = (f"audit-{org_id}.csv", f"บันทึกการตรวจสอบ {org_id}.csv")
    return await _csv(
        services,
        who,
        lambda after: page(after or cursor, CSV_PAGE),  # a cursor starts the file there
        headings=EVENT_HEADINGS,
        key="items",
        record=_event_record,
        names=names,
    )


@router.get("/audit/denied", responses=OR_CSV | problem_responses(401, 403, 422, *UPSTREAM))
async def denied(
    who: CurrentUser,
    services: ServicesDep,
    start: From = None,
    end: To = None,
    cursor: Cursor = None,
    limit: Limit = 100,
    format_: Format = "json",
):
    """Refused requests for classified content between two Bangkok dates."""
    policy.require(who, "audit.log")

    async def page(after: str | None, size: int = limit) -> dict:
        params = _query(**{"from": start, "to": end, "cursor": after, "limit": size})
        return await services.json("audit", "GET", "/denied", who, params=params)

    if format_ == "json":
        return await page(cursor)
    return await _csv(
        services,
        who,
        lambda after: page(after or cursor, CSV_PAGE),  # a cursor starts the file there
        headings=EVENT_HEADINGS,
        key="items",
        record=_event_record,
        names=("audit-denied.csv", "การเข้าถึงที่ถูกปฏิเสธ.csv"),
    )


@router.get(
    "/audit/checkpoint", response_class=PlainTextResponse, responses=problem_responses(401, 403, 404, *UPSTREAM)
)
async def checkpoint(who: CurrentUser, services: ServicesDep):
    policy.require(who, "audit.checkpoint")
    response = await services.call("audit", "GET", "/checkpoint", who)
    return PlainTextResponse(response.text, media_type=NOTE_TYPE)


@router.get("/audit/public-key", response_class=PlainTextResponse, responses=problem_responses(401, 403, *UPSTREAM))
async def public_key(who: CurrentUser, services: ServicesDep):
    policy.require(who, "audit.checkpoint")
    response = await services.call("audit", "GET", "/public-key", who)
    return PlainTextResponse(response.text, media_type=NOTE_TYPE)


@router.get("/audit/entries", responses=problem_responses(401, 403, 422, *UPSTREAM))
async def entries(who: CurrentUser, services: ServicesDep, start: Index = 0, end: Index | None = None):
    policy.require(who, "audit.log")
    params = {"start": start} | ({} if end is None else {"end": end})
    return await services.json("audit", "GET", "/entries", who, params=params)


@router.get("/audit/proofs/inclusion", responses=problem_responses(401, 403, 422, *UPSTREAM))
async def inclusion_proof(who: CurrentUser, services: ServicesDep, index: Index, tree_size: Index):
    policy.require(who, "audit.log")
    params = {"index": index, "tree_size": tree_size}
    return await services.json("audit", "GET", "/proofs/inclusion", who, params=params)


@router.get("/audit/proofs/consistency", responses=problem_responses(401, 403, 422, *UPSTREAM))
async def consistency_proof(who: CurrentUser, services: ServicesDep, first: Index, second: Index):
    policy.require(who, "audit.log")
    params = {"first": first, "second": second}
    return await services.json("audit", "GET", "/proofs/consistency", who, params=params)
