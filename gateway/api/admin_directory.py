"""Administration of the directory: import a directory file (the whole directory, all or nothing, with a dry
run that shows what would change) and export it in the same format. Routing owns the directory and reads
the file; the gateway checks the role, the size, the type and that the file is UTF-8 text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from gateway import policy
from gateway.auth import CurrentUser
from gateway.deps import ServicesDep
from shared import thai
from shared.problems import UPSTREAM, Problem, problem_responses

router = APIRouter(tags=["administration"])

# 8,000 units of a few hundred bytes each fit many times over; anything larger is not a directory.
MAX_DIRECTORY_BYTES = 10 * 1024 * 1024
FILE_TYPES = {"text/csv", "application/json", "text/plain", "application/vnd.ms-excel", "application/octet-stream"}
EXTENSIONS = (".csv", ".json", ".txt")

IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["units"],
                    "properties": {
                        "units": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["key", "name", "code", "kind"],
                                "properties": {
                                    "key": {"type": "string"},
                                    "name": {"type": "string"},
                                    "name_en": {"type": ["string", "null"]},
                                    "code": {"type": "string"},
                                    "national_code": {"type": ["string", "null"], "pattern": "^[0-9]{10}$"},
                                    "kind": {"enum": ["ministry", "ops", "department", "division", "section"]},
                                    "parent_key": {"type": ["string", "null"]},
                                    "own_registers": {"type": ["boolean", "null"]},
                                    "valid_from": {"type": ["string", "null"], "format": "date"},
                                    "valid_to": {"type": ["string", "null"], "format": "date"},
                                },
                            },
                        }
                    },
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}
IMPORT_ANSWER = {
    200: {
        "description": "what the import changed (or, with dry_run=true, would change)",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["applied", "added", "changed", "retired"],
                    "properties": {
                        "applied": {"type": "boolean"},
                        "added": {"type": "array", "items": {"type": "string"}},
                        "changed": {"type": "array", "items": {"type": "string"}},
                        "retired": {"type": "array", "items": {"type": "string"}},
                        "changed_fields": {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                }
            }
        },
    }
}
EXPORT_ANSWER = {
    200: {
        "description": "the directory in the format import takes",
        "content": {"application/json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}}},
    }
}


@router.post(
    "/admin/directory/import",
    openapi_extra=IMPORT_BODY,
    responses=IMPORT_ANSWER | problem_responses(401, 403, 413, 415, 422, *UPSTREAM),
)
async def import_directory(request: Request, who: CurrentUser, services: ServicesDep, dry_run: bool = True):
    """The whole directory as JSON `{"units": [...]}`, or a multipart `file` (CSV with English or Thai
    headings, or JSON). Units left out are retired; nothing applies unless all of it does (422 naming the
    rows). A dry run (the default, as for people) answers what would change and changes nothing; `dry_run=false`
    applies it."""
    policy.require(who, "directory.manage")
    content, kind = await _directory_file(request)
    result = await services.json(
        "routing",
        "POST",
        "/directory/import",
        who,
        params={"dry_run": "true" if dry_run else "false"},
        content=content,
        headers={"content-type": f"{kind}; charset=utf-8"},
    )
    if not dry_run:
        # Codes and registries come from the directory: this process numbers with the new ones at once.
        request.app.state.accounts.forget()
    return result


@router.get("/admin/directory/export", responses=EXPORT_ANSWER | problem_responses(401, 403, 422, *UPSTREAM))
async def export_directory(
    who: CurrentUser,
    services: ServicesDep,
    format_: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
):
    """Every unit, retired ones with their last day, so that importing the export changes nothing. CSV comes
    as a file with Thai headings and a byte-order mark for spreadsheet programs."""
    policy.require(who, "directory.manage")
    answer = await services.call("routing", "GET", "/directory/export", who, params={"format": format_})
    if format_ == "json":
        return Response(answer.content, media_type="application/json")
    name = f"directory-{thai.today().isoformat()}.csv"
    thai_name = f"ทะเบียนหน่วยงาน {thai.date_th(thai.today())}.csv"
    disposition = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(thai_name, safe='')}"
    return Response(answer.content, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition})


async def _directory_file(request: Request) -> tuple[bytes, str]:
    """The file's bytes and whether it is CSV or JSON: size-limited while it arrives, type-checked, UTF-8."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        return _utf8(await _body(request)), "application/json"
    if content_type != "multipart/form-data":
        raise Problem(
            415,
            "ส่งทะเบียนหน่วยงานเป็น JSON หรือไฟล์ CSV/JSON แบบ multipart ในช่อง file "
            "(send the directory as JSON, or as a CSV or JSON multipart field 'file')",
        )
    upload = await _upload(request, await _body(request))
    content = _utf8(await upload.read())
    name = (upload.filename or "").lower()
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if not name.endswith(EXTENSIONS) and declared not in FILE_TYPES:
        raise Problem(415, "รับเฉพาะไฟล์ .csv หรือ .json (only .csv or .json files)")
    if name.endswith(".json") or (not name.endswith(".csv") and content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"):
        return content, "application/json"
    return content, "text/csv"


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_DIRECTORY_BYTES + 64 * 1024:  # room for multipart framing
        raise _too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_DIRECTORY_BYTES + 64 * 1024:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


async def _upload(request: Request, body: bytes) -> UploadFile:
    async def once() -> AsyncIterator[bytes]:
        yield body

    try:
        form = await MultiPartParser(request.headers, once(), max_files=1, max_fields=10).parse()
    except MultiPartException as exc:
        raise Problem(422, f"อ่านข้อมูล multipart ไม่ได้ (malformed multipart: {exc.message})") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        message = "ไม่มีไฟล์ในช่อง file (no file in the field 'file')"
        raise Problem(422, message, errors=[{"field": "file", "message": message}])
    if upload.size is not None and upload.size > MAX_DIRECTORY_BYTES:
        raise _too_large()
    return upload


def _utf8(content: bytes) -> bytes:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        message = "ไฟล์ต้องเป็นข้อความ UTF-8 ให้บันทึกเป็น CSV UTF-8 (the file must be UTF-8 text; save it as CSV UTF-8)"
        raise Problem(422, message, errors=[{"row": None, "field": "file", "message": message}]) from None
    return content


def _too_large() -> Problem:
    return Problem(413, f"ไฟล์ใหญ่เกิน {MAX_DIRECTORY_BYTES // (1024 * 1024)} MB (file too large)")
