"""The registers (ทะเบียนหนังสือส่ง / ทะเบียนหนังสือรับ): rows from the service that keeps each register
(intake the send register, routing the receive register), agency names from routing's directory, as JSON
pages or as the whole year in CSV with the official Thai column headings."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from gateway import policy
from gateway.auth import CurrentUser
from gateway.clients import Services
from gateway.deps import ServicesDep
from shared import thai
from shared.principal import Principal
from shared.problems import UPSTREAM, Problem, problem_responses
from shared.registers import PAGE_MAX, NextNumberRequest, check_register, check_year

router = APIRouter(tags=["registers"])

OWNER = {"send": "intake", "receive": "routing"}
TITLE = {"send": "ทะเบียนหนังสือส่ง", "receive": "ทะเบียนหนังสือรับ"}
HEADINGS = {
    "send": ("เลขทะเบียนส่ง", "ที่", "ลงวันที่", "จาก", "ถึง", "เรื่อง", "การปฏิบัติ", "หมายเหตุ"),
    "receive": (
        "เลขทะเบียนรับ",
        "ที่",
        "ลงวันที่",
        "จาก",
        "ถึง",
        "เรื่อง",
        "การปฏิบัติ",
        "หมายเหตุ",
        "วันที่รับ",
        "เวลารับ",
    ),
}
# การปฏิบัติ of a received letter: what became of it after ลงรับ, in the register's own words.
ACTION_TH = {
    "received": "ลงรับแล้ว",
    "forwarded": "ส่งต่อแล้ว",
    "returned": "คืนเรื่องแล้ว",
    "rejected": "ปฏิเสธ",
    "invalid": "แจ้งหนังสือผิด",
    "recalled": "ผู้ส่งดึงคืน",
    "closed": "ปิดเรื่องแล้ว",
    "cancelled": "ยกเลิก",
}
CANCELLED = "cancelled"
BOM = "\ufeff"  # lets spreadsheet programs open the Thai text as UTF-8
# With format=csv the answer is a CSV file instead of JSON; the OpenAPI says so, so both are checked.
OR_CSV = {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}
# A cell starting with one of these is a formula to a spreadsheet; subjects are typed by people.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Directory = dict[str, dict]


@router.get("/registers/{register}", responses=OR_CSV | problem_responses(401, 403, 404, 422, *UPSTREAM))
async def read_register(
    register: str,
    who: CurrentUser,
    services: ServicesDep,
    year: int | None = None,
    org_id: uuid.UUID | None = None,
    format_: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
):
    """A unit's register for one Buddhist-era year (default: this year), ordered by register number. A unit
    keeping no registers of its own is numbered in its central registry's (สารบรรณกลาง): asked for its
    register, the answer is the registry's, with every unit numbered in it, and `registry` says so."""
    policy.require(who, "register.read")
    check_register(register)
    year = check_year(thai.buddhist_year() if year is None else year)
    asked = _unit(who, org_id)
    directory = await _directory(services, who)
    if str(asked) not in directory:
        raise Problem(404, "ไม่พบหน่วยงานนี้ในทะเบียนหน่วยงาน (unknown org_id)")
    unit = registry_of(directory, asked)

    async def page(after: str | None, size: int) -> dict:
        params = {"org_id": str(unit), "year": year, "limit": size, **({"cursor": after} if after else {})}
        return await services.json(OWNER[register], "GET", f"/registers/{register}", who, params=params)

    shape = _send_row if register == "send" else _receive_row
    if format_ == "csv":
        first = await page(None, PAGE_MAX)  # fetched before answering, so a refusal is still a problem+json
        filename = f"{TITLE[register]} {directory[str(unit)]['code']} {year}.csv"
        return StreamingResponse(
            _csv_lines(register, first, lambda after: page(after, PAGE_MAX), lambda row: shape(row, directory)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": _attachment(f"register-{register}-{year}.csv", filename)},
        )
    result = await page(cursor, limit)
    return {
        "register": register,
        "year": year,
        "org_id": asked,
        "org_name": directory[str(asked)]["name"],
        "registry": registry_note(directory, asked, unit),
        "items": [shape(row, directory) for row in result["items"]],
        "next_cursor": result["next_cursor"],
    }


@router.put("/registers/{register}/next-number", responses=problem_responses(400, 401, 403, 409, 422, *UPSTREAM))
async def set_next_number(register: str, body: NextNumberRequest, who: CurrentUser, services: ServicesDep):
    """Where a unit's numbering continues this year (an agency moving from paper mid-year), or next year.
    Only forward: a number already issued is never issued again (409)."""
    policy.require(who, "register.set_next")
    check_register(register)
    asked = body.org_id or who.org_id
    directory = await _directory(services, who)
    if str(asked) not in directory:
        message = "ไม่พบหน่วยงานนี้ในทะเบียนหน่วยงาน (unknown org_id)"
        raise Problem(422, message, errors=[{"field": "org_id", "message": message}])
    unit = registry_of(directory, asked)  # a unit keeping no registers: its numbers are its registry's
    payload = {**body.model_dump(mode="json"), "org_id": str(unit)}
    answer = await services.json(OWNER[register], "PUT", f"/registers/{register}/next-number", who, json=payload)
    return {**answer, "registry": registry_note(directory, asked, unit)}


def _unit(who: Principal, org_id: uuid.UUID | None) -> uuid.UUID:
    """Whose register: a clerk's own unit; an auditor names the unit, since an auditor belongs to none of them."""
    if org_id is None:
        if who.has("clerk"):
            return who.org_id
        message = "ผู้ตรวจสอบต้องระบุ org_id ของหน่วยงานที่จะดูทะเบียน (org_id is required)"
        raise Problem(422, message, errors=[{"field": "org_id", "message": message}])
    if org_id not in (who.org_id, who.register_org_id) and not who.has("auditor"):
        raise Problem(404, "ไม่พบทะเบียน หรือไม่อยู่ในขอบเขตของหน่วยงานท่าน (not found)")
    return org_id


def registry_of(directory: Directory, org_id: uuid.UUID) -> uuid.UUID:
    """The unit whose registers number `org_id`'s letters, as the directory says (itself when it keeps its own)."""
    registry = directory[str(org_id)].get("registry_id")
    return uuid.UUID(str(registry)) if registry and str(registry) in directory else org_id


def registry_note(directory: Directory, asked: uuid.UUID, registry: uuid.UUID) -> dict | None:
    """None when the unit keeps its own registers; else whose register this is, and why, in words."""
    if registry == asked:
        return None
    unit, central = directory[str(asked)], directory[str(registry)]
    return {
        "org_id": registry,
        "code": central["code"],
        "name": central["name"],
        "message": f"{unit['name']} ไม่มีทะเบียนของตนเอง ใช้ทะเบียนของ{central['name']} (สารบรรณกลาง) "
        f"({unit['name_en'] or unit['key']} keeps no registers of its own: this is the register of "
        f"{central['name_en'] or central['key']}, its central registry)",
    }


async def _directory(services: Services, who: Principal) -> Directory:
    return {org["id"]: org for org in await services.json("routing", "GET", "/orgs", who, params={"retired": "true"})}


def _name(directory: Directory, org_id: str) -> str:
    org = directory.get(org_id)
    return org["name"] if org else org_id


def _moment(value: str | None) -> datetime | None:
    """A service's timestamp in Bangkok; one without an offset (SQLite keeps none) is UTC, as stored."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(thai.BANGKOK)


def _dated(row: dict) -> dict:
    # ลงวันที่ as the letter states it; the Bangkok date of sending for rows without one.
    doc_date = date.fromisoformat(row["doc_date"]) if row.get("doc_date") else _moment(row["sent_at"]).date()
    cancelled = row["status"] == CANCELLED
    return {
        "register_no": row["register_no"],
        "doc_no": row["doc_no"],
        "doc_date": doc_date.isoformat(),
        "date_th": thai.date_th(doc_date),
        "cancelled": cancelled,
        "remark": "ยกเลิก" if cancelled else "",
    }


def _send_row(row: dict, directory: Directory) -> dict:
    return {
        **_dated(row),
        "from": _name(directory, row["sender_org_id"]),
        "to": ", ".join(_name(directory, org) for org in row["recipient_org_ids"]),
        "subject": row["subject"],
        "action": "",
        "registered_at": _moment(row["sent_at"]).isoformat(),
        "circular": row["circular"],
        "status": row["status"],
    }


def _receive_row(row: dict, directory: Directory) -> dict:
    return {
        **_dated(row),
        "from": _name(directory, row["sender_org_id"]),
        "to": _name(directory, row["recipient_org_id"]),
        "subject": row["subject"],
        "action": ACTION_TH.get(row["status"], row["status"]),
        "registered_at": _moment(row["received_at"]).isoformat(),
        "circular": row["circular"],
        "status": row["status"],
        "delivery_id": row["delivery_id"],
        "letter_id": row["letter_id"],
    }


def _cell(value) -> str:
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def csv_record(register: str, row: dict) -> list[str]:
    """One register row in the order of the official headings."""
    record = [row["register_no"], row["doc_no"], row["date_th"], row["from"], row["to"], row["subject"]]
    record += [row["action"], row["remark"]]
    if register == "receive":
        received = datetime.fromisoformat(row["registered_at"]).astimezone(thai.BANGKOK)
        record += [thai.date_th(received), received.strftime("%H.%M")]
    return [_cell(value) for value in record]


async def _csv_lines(
    register: str,
    first: dict,
    fetch: Callable[[str], Awaitable[dict]],
    shape: Callable[[dict], dict],
) -> AsyncIterator[bytes]:
    """The whole year, one page of rows at a time, so a long register never sits in memory at once."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(HEADINGS[register])
    page = first
    while True:
        for row in page["items"]:
            writer.writerow(csv_record(register, shape(row)))
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        if not page["next_cursor"]:
            return
        page = await fetch(page["next_cursor"])


def _attachment(fallback: str, filename: str) -> str:
    """RFC 6266 with RFC 8187: an ASCII name for every client, the Thai name for those that read filename*."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
