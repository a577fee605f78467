"""Who may do what to which letter: one table over every public endpoint × user × the user's relation to the
object × the letter's secrecy level, with the expected status of every cell, each checked by a real request
against a running embedded deployment.

The rules the table spells out (also at the top of docs/access-matrix.md, which is rendered from this table;
regenerate it with SARABUN_UPDATE_SNAPSHOT=1 after an intended change):
- no valid token: 401;
- a role the policy never lets attempt the action: 403 (gateway/policy.py), before anything is looked up;
- an object outside the caller's unit: 404, never 403, so existence is not confirmed;
- a classified letter's subject, body, attachments, stamped copy and annotations: only users cleared for its
  level (404 otherwise); its number and level are listed to everyone in scope, who may register, route and
  refuse it;
- ลับที่สุด is never sent electronically, whatever the sender's clearance (422).

Besides the status, every answer is searched for secrets the user may not learn (subjects, bodies and
annotations of letters outside their scope or clearance, ids of letters their unit has no part in), and every
refusal must be problem+json. A last test fails when the gateway has a route under /api/v1 the table lacks.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi.routing import iter_route_contexts

from gateway.adapters.repository import UserRepository
from gateway.auth import hash_password
from services.launcher import embedded
from shared import thai
from shared.problems import PROBLEM_JSON
from shared.seed import SAMPLE_DIRECTORY, org_id
from shared.settings import Settings
from tests.e2e.helpers import PASSWORD, PDF, eventually, inbox_item, login
from tests.e2e.test_receive_stamp import one_page_pdf

DOC = Path(__file__).resolve().parents[2] / "docs" / "access-matrix.md"
PREFIX = "/api/v1"


# ── The users (the table's columns) ──────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class User:
    name: str | None  # None: no token at all
    unit: str  # the unit's key in the directory, or "" for auditor, admin and nobody
    relation: str  # to the letters of the matrix
    clearance: str


USERS = (
    User("ops.clerk", "ops", "sender", "secret"),
    User("ops.junior", "ops", "sender", "normal"),
    User("cgd.clerk", "cgd", "recipient", "secret"),
    User("cgd.junior", "cgd", "recipient", "confidential"),
    User("rd.chief", "rd", "forwarded-to", "secret"),
    User("rd.clerk", "rd", "forwarded-to", "normal"),
    User("td.director", "td", "uninvolved", "top_secret"),
    User("td.clerk", "td", "uninvolved", "normal"),
    User("auditor", "", "ministry", "normal"),
    User("admin", "", "ministry", "normal"),
    User(None, "", "no token", "—"),
)
# Users the demo seed does not have: a second clerk in each unit, so each relation has one user cleared for
# the letters and one not.
EXTRA_USERS = {
    user.name: user for user in USERS if user.name in {"ops.junior", "cgd.junior", "rd.chief", "td.director"}
}
PARTIES = {"ops", "cgd", "rd"}
# Who signs the matrix's draft: an executive of ops, not a column (the table's users are clerks, the auditor and
# the admin; what an executive may do is in the drafting tests).
SIGNER = User("ops.chief", "ops", "signer", "secret")

LEVELS = ("normal", "confidential", "secret")
SEND_LEVELS = (*LEVELS, "top_secret")
ANY = (None,)  # the endpoint does not touch a letter: secrecy plays no part
LEVEL_TH = {"normal": "ปกติ", "confidential": "ลับ", "secret": "ลับมาก", "top_secret": "ลับที่สุด", None: "—"}


# ── The table ────────────────────────────────────────────────────────────────────────────────────────────

Expected = int | tuple[int, ...]  # one status, or one per secrecy level of the row


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # as the gateway declares it, below /api/v1
    path: str  # what is requested, with the matrix's objects in braces
    object: str  # what the request is about, for the reviewer
    expect: tuple[Expected, ...]  # in USERS order
    levels: tuple[str | None, ...] = LEVELS
    request: Callable[[World, User, str | None], dict] = field(default=lambda world, user, level: {})

    def status(self, user_index: int, level: str | None) -> int:
        expected = self.expect[user_index]
        return expected[self.levels.index(level)] if isinstance(expected, tuple) else expected


def _json(body: dict | Callable[[World, str | None], dict]) -> Callable[[World, User, str | None], dict]:
    return lambda world, user, level: {"json": body(world, level) if callable(body) else body}


def _sign_in(world: World, user: User, level: str | None) -> dict:
    if user.name is None:  # nobody: a name that does not exist
        return {"data": {"username": "nobody", "password": "not-the-password"}}
    return {"data": {"username": user.name, "password": PASSWORD}}


def _upload(world: World, user: User, level: str | None) -> dict:
    return {"files": {"file": ("หนังสือ.pdf", PDF, "application/pdf")}}


def _letter(world: World, level: str | None) -> dict:
    subject = f"ทดสอบสิทธิ์การส่ง {LEVEL_TH[level]}"
    return {"type": "external", "subject": subject, "secrecy": level, "recipient_org_ids": [world.orgs["excise"]]}


def _sample_directory(world: World, level: str | None) -> dict:
    return json.loads(SAMPLE_DIRECTORY.read_text(encoding="utf-8"))


def _next_number(world: World, level: str | None) -> dict:
    return {"year": world.year, "next_number": 500}


def _people_csv(world: World, user: User, level: str | None) -> dict:
    text = "ชื่อผู้ใช้,ชื่อ,หน่วยงาน,บทบาท\nmatrix.imported,ผู้ทดสอบนำเข้า,td,clerk\n"
    return {"files": {"file": ("people.csv", text.encode(), "text/csv")}}


def _draft(world: World, level: str | None) -> dict:
    return {
        "type": "external",
        "subject": f"ร่างทดสอบสิทธิ์-{_token()}",
        "body": "ข้อความทดสอบสิทธิ์",
        "recipient_org_ids": [world.orgs["excise"]],
        "signer": SIGNER.name,
    }


def _delegation(world: World, level: str | None) -> dict:
    today = thai.today()
    return {
        "from_username": SIGNER.name,
        "to_username": "ops.junior",
        "org_key": "ops",
        "kind": "acting",
        "valid_from": today.isoformat(),
        "valid_to": today.isoformat(),
    }


NEW_PERSON = {
    "username": "matrix.person",
    "display_name": "ผู้ทดสอบสิทธิ์",
    "org_key": "td",
    "roles": ["clerk"],
    "clearance": "normal",
}
REASON = {"reason": "ทดสอบสิทธิ์"}
PROPOSAL = {"to_username": "cgd.dg", "summary": "สรุปทดสอบสิทธิ์"}
# Statuses by secrecy level (ปกติ, ลับ, ลับมาก) for a user cleared only for ปกติ, and for one cleared up to ลับ.
NORMAL_ONLY = (200, 404, 404)
UP_TO_CONFIDENTIAL = (200, 200, 404)
# Sending at ปกติ, ลับ, ลับมาก, ลับที่สุด: nobody above their own clearance, and ลับที่สุด never.
SEND_NORMAL = (201, 422, 422, 422)
SEND_CONFIDENTIAL = (201, 201, 422, 422)
SEND_SECRET = (201, 201, 201, 422)
SEND_TOP_SECRET = (201, 201, 201, 422)

# fmt: off
# Columns:      ops.clerk, ops.junior, cgd.clerk, cgd.junior, rd.chief, rd.clerk, td.director, td.clerk,
#               auditor, admin, no token
ROWS = (
    # Sign-in and the directory
    Row("POST", "/auth/token", "/auth/token", "sign in with one's own password (nobody: an unknown name)",
        (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401), ANY, _sign_in),
    Row("GET", "/me", "/me", "oneself",
        (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401), ANY),
    Row("GET", "/orgs", "/orgs", "the directory of agencies",
        (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401), ANY),
    Row("GET", "/orgs/{org_id}", "/orgs/{cgd}", "one unit of the directory",
        (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401), ANY),
    Row("GET", "/groups", "/groups", "the recipient groups",
        (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401), ANY),
    Row("POST", "/auth/link", "/auth/link", "sign in with a one-time link (one that does not exist)",
        (401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401), ANY, _json({"token": "not-a-link"})),
    Row("POST", "/me/password", "/me/password", "one's own password (set to what it was; a fresh sign-in)",
        (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401), ANY, _json({"new_password": PASSWORD})),
    Row("GET", "/me/notifications", "/me/notifications", "how one is told of each kind of notification",
        (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401), ANY),
    Row("PUT", "/me/notifications", "/me/notifications", "one's own choice: urgent letters in a daily digest",
        (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401), ANY,
        _json({"choices": {"urgent_letter": "digest"}})),
    # People (administration; a sign-in within the last 15 minutes)
    Row("GET", "/admin/users", "/admin/users", "people, searched and filtered",
        (403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 401), ANY),
    Row("POST", "/admin/users", "/admin/users", "a new person",
        (403, 403, 403, 403, 403, 403, 403, 403, 403, 201, 401), ANY, _json(NEW_PERSON)),
    Row("GET", "/admin/users/{username}", "/admin/users/ops.junior", "one person",
        (403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 401), ANY),
    Row("PATCH", "/admin/users/{username}", "/admin/users/ops.junior", "a change to one person",
        (403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 401), ANY,
        _json({"position": "เจ้าพนักงานธุรการ"})),
    Row("POST", "/admin/users/import", "/admin/users/import?dry_run=true", "people from a CSV file (dry run)",
        (403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 401), ANY, _people_csv),
    Row("POST", "/admin/users/{username}/sign-in-link", "/admin/users/ops.junior/sign-in-link",
        "a one-time sign-in link for one person",
        (403, 403, 403, 403, 403, 403, 403, 403, 403, 201, 401), ANY),
    # Attachments
    Row("POST", "/attachments", "/attachments", "a new upload",
        (201, 201, 201, 201, 201, 201, 201, 201, 403, 403, 401), ANY, _upload),
    Row("GET", "/attachments/{attachment_id}/content", "/attachments/{attachment}/content",
        "the PDF attached to the letter",
        (200, NORMAL_ONLY, 200, UP_TO_CONFIDENTIAL, 200, NORMAL_ONLY, 404, 404, 403, 403, 401)),
    Row("GET", "/attachments/{attachment_id}/meta", "/attachments/{attachment}/meta",
        "the name, size and page count of the PDF attached to the letter",
        (200, NORMAL_ONLY, 200, UP_TO_CONFIDENTIAL, 200, NORMAL_ONLY, 404, 404, 403, 403, 401)),
    Row("GET", "/deliveries/{delivery_id}/stamped", "/deliveries/{delivery}/stamped",
        "the recipient's copy with its receipt stamp (ตรารับ)",
        (404, 404, 200, UP_TO_CONFIDENTIAL, 404, 404, 404, 404, 403, 403, 401)),
    # Letters
    Row("POST", "/letters", "/letters", "a new letter at the level of the column, to กรมสรรพสามิต",
        (SEND_SECRET, SEND_NORMAL, SEND_SECRET, SEND_CONFIDENTIAL, SEND_SECRET, SEND_NORMAL, SEND_TOP_SECRET,
         SEND_NORMAL, 403, 403, 401), SEND_LEVELS, _json(_letter)),
    Row("GET", "/letters/{letter_id}", "/letters/{letter}", "the letter",
        (200, NORMAL_ONLY, 200, UP_TO_CONFIDENTIAL, 200, NORMAL_ONLY, 404, 404, 403, 403, 401)),
    Row("GET", "/letters/{letter_id}/pending", "/letters/{letter}/pending", "who has not registered the letter",
        (200, 200, 404, 404, 404, 404, 404, 404, 403, 403, 401)),
    Row("POST", "/letters/{letter_id}/recall", "/letters/{letter}/recall",
        "ดึงคืน from every recipient (409: registered already)",
        (409, 409, 404, 404, 404, 404, 404, 404, 403, 403, 401), LEVELS, _json({})),
    Row("POST", "/letters/{letter_id}/cancel", "/letters/{letter}/cancel",
        "ยกเลิก the letter (409: registered already; the letter is read first)",
        (409, (409, 404, 404), 404, 404, 404, 404, 404, 404, 403, 403, 401), LEVELS, _json(REASON)),
    Row("GET", "/letters/{letter_id}/signatures", "/letters/{letter}/signatures",
        "whether the signatures on the letter's PDFs verify (none here: an uploaded PDF)",
        (200, NORMAL_ONLY, 200, UP_TO_CONFIDENTIAL, 200, NORMAL_ONLY, 404, 404, 403, 403, 401)),
    Row("GET", "/letters/{letter_id}/signatures", "/letters/{signed}/signatures",
        "the signature on ops's signed and dispatched draft (to กรมสรรพสามิต)",
        (200, 200, 404, 404, 404, 404, 404, 404, 403, 403, 401), ANY),
    Row("GET", "/outbox", "/outbox", "the unit's sent letters",
        (200, 200, 200, 200, 200, 200, 200, 200, 403, 403, 401), ANY),
    Row("GET", "/inbox", "/inbox", "the unit's received letters",
        (200, 200, 200, 200, 200, 200, 200, 200, 403, 403, 401), ANY),
    Row("GET", "/follow-up", "/follow-up", "overdue and unregistered letters; work per division and person",
        (200, 200, 200, 200, 200, 200, 200, 200, 403, 403, 401), ANY),
    # Drafts: ops.clerk's draft, signed by ops.chief (an executive of ops who is no column) and dispatched
    Row("POST", "/drafts", "/drafts", "a new draft of the column's unit, to be signed by ops.chief",
        (201, 201, 201, 201, 201, 201, 201, 201, 403, 403, 401), ANY, _json(_draft)),
    Row("GET", "/drafts", "/drafts?box=mine", "one's own drafts",
        (200, 200, 200, 200, 200, 200, 200, 200, 403, 403, 401), ANY),
    Row("POST", "/drafts/preview", "/drafts/preview", "the official layout of fields being typed",
        (200, 200, 200, 200, 200, 200, 200, 200, 403, 403, 401), ANY, _json(_draft)),
    Row("GET", "/drafts/{draft_id}", "/drafts/{draft}", "the draft, its versions and its line",
        (200, 200, 404, 404, 404, 404, 404, 404, 403, 403, 401), ANY),
    Row("GET", "/drafts/{draft_id}/versions/{version}", "/drafts/{draft}/versions/1", "its first version",
        (200, 200, 404, 404, 404, 404, 404, 404, 403, 403, 401), ANY),
    Row("GET", "/drafts/{draft_id}/pdf", "/drafts/{draft}/pdf", "the signed PDF",
        (200, 200, 404, 404, 404, 404, 404, 404, 403, 403, 401), ANY),
    Row("PUT", "/drafts/{draft_id}", "/drafts/{draft}", "a new version (409: signed already)",
        (409, 409, 404, 404, 404, 404, 404, 404, 403, 403, 401), ANY, _json(_draft)),
    Row("POST", "/drafts/{draft_id}/propose", "/drafts/{draft}/propose", "เสนอ (409: signed already)",
        (409, 409, 404, 404, 404, 404, 404, 404, 403, 403, 401), ANY),
    Row("POST", "/drafts/{draft_id}/endorse", "/drafts/{draft}/endorse", "endorse (409: signed already)",
        (409, 409, 404, 404, 404, 404, 404, 404, 403, 403, 401), ANY),
    Row("POST", "/drafts/{draft_id}/return", "/drafts/{draft}/return", "return to the author (409: signed already)",
        (409, 409, 404, 404, 404, 404, 404, 404, 403, 403, 401), ANY, _json(REASON)),
    Row("POST", "/drafts/{draft_id}/recall", "/drafts/{draft}/recall", "recall (409: signed already)",
        (409, 409, 404, 404, 404, 404, 404, 404, 403, 403, 401), ANY),
    Row("POST", "/drafts/{draft_id}/sign", "/drafts/{draft}/sign",
        "ลงนาม (403: neither its signer nor his delegate)",
        (403, 403, 404, 404, 404, 404, 404, 404, 403, 403, 401), ANY),
    Row("POST", "/drafts/{draft_id}/dispatch", "/drafts/{draft}/dispatch",
        "dispatch by the unit's registry (again: the same letter)",
        (200, 200, 404, 404, 404, 404, 404, 404, 403, 403, 401), ANY),
    # Delegations of signing authority: ops.chief's to td.clerk
    Row("POST", "/delegations", "/delegations", "ops.chief's authority to ops.junior (an executive's or admin's)",
        (403, 403, 403, 403, 403, 403, 403, 403, 403, 201, 401), ANY, _json(_delegation)),
    Row("GET", "/delegations", "/delegations", "those given by or to oneself (all: admin)",
        (200, 200, 200, 200, 200, 200, 200, 200, 403, 200, 401), ANY),
    Row("POST", "/delegations/{delegation_id}/revoke", "/delegations/{delegation}/revoke",
        "revoke ops.chief's delegation to td.clerk (again: as it was)",
        (403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 401), ANY),
    # Notifications: one's own list; cgd.clerk's notification that the urgent letter arrived
    Row("GET", "/notifications", "/notifications", "one's own notifications, newest first",
        (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401), ANY),
    Row("POST", "/notifications/{notification_id}/read", "/notifications/{notification}/read",
        "mark cgd.clerk's notification read (again: as it was)",
        (404, 404, 200, 404, 404, 404, 404, 404, 404, 404, 401), ANY),
    # Deliveries: the recipient's (cgd's) delivery, registered and forwarded to rd, and rd's forwarded copy
    Row("POST", "/deliveries/{delivery_id}/receive", "/deliveries/{delivery}/receive",
        "ลงรับ the recipient's delivery (again: the same number)",
        (404, 404, 200, 200, 404, 404, 404, 404, 403, 403, 401)),
    Row("POST", "/deliveries/{delivery_id}/receive", "/deliveries/{copy}/receive",
        "ลงรับ the forwarded copy (again: the same number)",
        (404, 404, 404, 404, 200, 200, 404, 404, 403, 403, 401)),
    Row("GET", "/deliveries/{delivery_id}/annotations", "/deliveries/{delivery}/annotations",
        "the recipient's เกษียน on its delivery",
        (404, 404, 200, UP_TO_CONFIDENTIAL, 404, 404, 404, 404, 403, 403, 401)),
    Row("GET", "/deliveries/{delivery_id}/annotations", "/deliveries/{copy}/annotations",
        "the forwarded-to unit's เกษียน on its copy",
        (404, 404, 404, 404, 200, NORMAL_ONLY, 404, 404, 403, 403, 401)),
    Row("POST", "/deliveries/{delivery_id}/annotations", "/deliveries/{delivery}/annotations",
        "a new เกษียน on the recipient's delivery",
        (404, 404, 201, (201, 201, 404), 404, 404, 404, 404, 403, 403, 401), LEVELS,
        _json({"text": "บันทึกทดสอบสิทธิ์"})),
    Row("POST", "/deliveries/{delivery_id}/forward", "/deliveries/{delivery}/forward",
        "ส่งต่อ the recipient's delivery (409: forwarded already)",
        (404, 404, 409, 409, 404, 404, 404, 404, 403, 403, 401), LEVELS,
        _json(lambda world, level: {"recipient_org_ids": [world.orgs["excise"]]})),
    Row("POST", "/deliveries/{delivery_id}/{action}", "/deliveries/{delivery}/return",
        "คืนเรื่อง the recipient's delivery (409: forwarded already)",
        (404, 404, 409, 409, 404, 404, 404, 404, 403, 403, 401), LEVELS, _json(REASON)),
    Row("POST", "/deliveries/{delivery_id}/{action}", "/deliveries/{delivery}/reject",
        "ปฏิเสธ the recipient's delivery (409: forwarded already)",
        (404, 404, 409, 409, 404, 404, 404, 404, 403, 403, 401), LEVELS, _json(REASON)),
    Row("POST", "/deliveries/{delivery_id}/{action}", "/deliveries/{delivery}/report-invalid",
        "แจ้งหนังสือผิด on the recipient's delivery (409: forwarded already)",
        (404, 404, 409, 409, 404, 404, 404, 404, 403, 403, 401), LEVELS, _json(REASON)),
    # The work on a received letter, on the recipient's delivery (forwarded, so every step is refused for its
    # state: 409), and each one's worklist. Ordering and reopening are a head's: no column is an executive.
    Row("GET", "/deliveries/{delivery_id}/work", "/deliveries/{delivery}/work",
        "the work on the recipient's delivery: proposals, orders, who acknowledged, the steps",
        (404, 404, 200, UP_TO_CONFIDENTIAL, 404, 404, 404, 404, 403, 403, 401)),
    Row("POST", "/deliveries/{delivery_id}/propose", "/deliveries/{delivery}/propose",
        "เสนอ the recipient's delivery to its director-general (409: forwarded already)",
        (404, 404, 409, 409, 404, 404, 404, 404, 403, 403, 401), LEVELS, _json(PROPOSAL)),
    Row("POST", "/deliveries/{delivery_id}/order", "/deliveries/{delivery}/order",
        "สั่งการ on the recipient's delivery (a head's)",
        (403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401), LEVELS, _json({"decision": "act"})),
    Row("POST", "/deliveries/{delivery_id}/suspend", "/deliveries/{delivery}/suspend",
        "พักเรื่อง on the recipient's delivery (409: forwarded already)",
        (404, 404, 409, 409, 404, 404, 404, 404, 403, 403, 401), LEVELS, _json(REASON)),
    Row("POST", "/deliveries/{delivery_id}/resume", "/deliveries/{delivery}/resume",
        "ดำเนินการต่อ on the recipient's delivery (409: forwarded already)",
        (404, 404, 409, 409, 404, 404, 404, 404, 403, 403, 401)),
    Row("POST", "/deliveries/{delivery_id}/close", "/deliveries/{delivery}/close",
        "ปิดเรื่อง on the recipient's delivery (409: forwarded already)",
        (404, 404, 409, 409, 404, 404, 404, 404, 403, 403, 401), LEVELS, _json({"result": "ทดสอบสิทธิ์"})),
    Row("POST", "/deliveries/{delivery_id}/reopen", "/deliveries/{delivery}/reopen",
        "เปิดเรื่องใหม่ on the recipient's delivery (a head's)",
        (403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401)),
    Row("POST", "/deliveries/{delivery_id}/acknowledge", "/deliveries/{delivery}/acknowledge",
        "รับทราบ the recipient's delivery (409: forwarded already)",
        (404, 404, 409, 409, 404, 404, 404, 404, 403, 403, 401)),
    Row("GET", "/worklist", "/worklist", "one's own work: proposed, assigned, to acknowledge, to sign",
        (200, 200, 200, 200, 200, 200, 200, 200, 403, 403, 401), ANY),
    # Registers: the sender's send register and the recipient's receive register of this year
    Row("GET", "/registers/{register}", "/registers/send?org_id={ops}&year={year}", "the sender's send register",
        (200, 200, 404, 404, 404, 404, 404, 404, 200, 403, 401), ANY),
    Row("GET", "/registers/{register}", "/registers/receive?org_id={cgd}&year={year}",
        "the recipient's receive register",
        (404, 404, 200, 200, 404, 404, 404, 404, 200, 403, 401), ANY),
    Row("PUT", "/registers/{register}/next-number", "/registers/send/next-number",
        "where the send register continues (the admin's own unit)",
        (403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 401), ANY, _json(_next_number)),
    Row("PUT", "/registers/{register}/next-number", "/registers/receive/next-number",
        "where the receive register continues (the admin's own unit)",
        (403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 401), ANY, _json(_next_number)),
    # The audit log
    Row("GET", "/audit/letters/{letter_id}/history", "/audit/letters/{letter}/history", "the letter's history",
        (200, 200, 200, 200, 200, 200, 404, 404, 200, 403, 401)),
    Row("GET", "/audit/orgs/{org_id}/events", "/audit/orgs/{ops}/events", "the sender unit's events",
        (403, 403, 403, 403, 403, 403, 403, 403, 200, 403, 401), ANY),
    Row("GET", "/audit/denied", "/audit/denied", "refused requests",
        (403, 403, 403, 403, 403, 403, 403, 403, 200, 403, 401), ANY),
    Row("GET", "/audit/entries", "/audit/entries?start=0&end=2", "log entries",
        (403, 403, 403, 403, 403, 403, 403, 403, 200, 403, 401), ANY),
    Row("GET", "/audit/proofs/inclusion", "/audit/proofs/inclusion?index=0&tree_size=2", "an inclusion proof",
        (403, 403, 403, 403, 403, 403, 403, 403, 200, 403, 401), ANY),
    Row("GET", "/audit/proofs/consistency", "/audit/proofs/consistency?first=1&second=2", "a consistency proof",
        (403, 403, 403, 403, 403, 403, 403, 403, 200, 403, 401), ANY),
    Row("GET", "/audit/checkpoint", "/audit/checkpoint", "the signed checkpoint",
        (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401), ANY),
    Row("GET", "/audit/public-key", "/audit/public-key", "the key that verifies checkpoints",
        (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401), ANY),
    # Administration
    Row("POST", "/admin/directory/import", "/admin/directory/import?dry_run=true",
        "a dry run of importing the sample directory",
        (403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 401), ANY, _json(_sample_directory)),
    Row("GET", "/admin/directory/export", "/admin/directory/export", "the whole directory as a file",
        (403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 401), ANY),
)
# fmt: on


# ── The world the cells are asked about ──────────────────────────────────────────────────────────────────


@dataclass
class Letter:
    """One letter of the matrix at one secrecy level, and what only some may learn of it."""

    id: str
    attachment: str
    delivery: str  # to the recipient (cgd), registered, then forwarded
    copy: str  # the forwarded-to unit's (rd's) delivery, registered
    subject: str
    body: str
    annotation: str  # written by the recipient on its delivery
    copy_annotation: str  # written by the forwarded-to unit on its copy


@dataclass
class Draft:
    """ops.clerk's draft: signed by ops.chief and dispatched to กรมสรรพสามิต, so every action on it but reading
    and dispatching again is refused for its state."""

    id: str
    subject: str
    body: str
    letter_id: str  # the letter it became


@dataclass
class World:
    client: httpx.AsyncClient
    headers: dict[str | None, dict]
    orgs: dict[str, str]
    year: int
    letters: dict[str, Letter] = field(default_factory=dict)
    draft: Draft | None = None
    delegation: str = ""
    notification: str = ""

    def objects(self, level: str | None) -> dict:
        named = {"ops": self.orgs["ops"], "cgd": self.orgs["cgd"], "year": self.year}
        if self.draft:
            named |= {"draft": self.draft.id, "signed": self.draft.letter_id, "delegation": self.delegation}
        named["notification"] = self.notification
        if level not in self.letters:
            return named
        letter = self.letters[level]
        return named | {
            "letter": letter.id,
            "attachment": letter.attachment,
            "delivery": letter.delivery,
            "copy": letter.copy,
        }

    def secrets_kept_from(self, user: User) -> list[str]:
        """What must appear in no answer to this user, whatever was asked."""
        kept = []
        for level, letter in self.letters.items():
            party = user.unit in PARTIES
            cleared = user.clearance in SEND_LEVELS and _cleared(user.clearance, level)
            if not (party and cleared):
                kept.append(letter.body)
                if not (user.name == "auditor" and cleared):  # registers list the subjects auditors may read
                    kept.append(letter.subject)
            if not (user.unit == "cgd" and cleared):
                kept.append(letter.annotation)
            if not (user.unit == "rd" and cleared):
                kept.append(letter.copy_annotation)
            if not party and user.name != "auditor":
                kept.append(letter.id)
        if self.draft and user.unit != "ops":
            kept.append(self.draft.body)
            if user.name != "auditor":  # the signed letter is in ops's send register, which auditors read
                kept += [self.draft.subject, self.draft.letter_id]
        return kept


def _cleared(clearance: str, level: str) -> bool:
    return SEND_LEVELS.index(clearance) >= SEND_LEVELS.index(level)


def _token() -> str:
    return uuid.uuid4().hex[:12]


async def _add_users(deployment) -> None:
    password_hash = hash_password(PASSWORD)
    async with deployment.app.state.db.transaction() as session:
        for user in (*EXTRA_USERS.values(), SIGNER):
            await UserRepository(session).add_if_missing(
                {
                    "username": user.name,
                    "display_name": f"เจ้าหน้าที่ทดสอบ {user.name}",
                    "org_id": org_id(user.unit),
                    "roles": ["executive"] if user is SIGNER else ["clerk"],
                    "clearance": user.clearance,
                    "position": "ผู้อำนวยการทดสอบ" if user is SIGNER else None,
                    "password_hash": password_hash,
                    "active": True,
                }
            )


async def _status_is(client, headers, url, status) -> bool:
    return (await client.get(url, headers=headers)).status_code == status


async def _letter_at(world: World, level: str) -> Letter:
    """ops sends a letter with a PDF to cgd, which registers it, annotates it and forwards it to rd, which
    registers its copy and annotates it; returns once every service has caught up."""
    client, h, orgs = world.client, world.headers, world.orgs
    upload = await client.post(
        f"{PREFIX}/attachments",
        headers=h["ops.clerk"],
        files={"file": ("หนังสือ.pdf", one_page_pdf(), "application/pdf")},
    )
    assert upload.status_code == 201, upload.text
    subject, body = f"เรื่อง-{_token()}", f"ความ-{_token()}"
    sent = await client.post(
        f"{PREFIX}/letters",
        headers=h["ops.clerk"],
        json={
            "type": "external",
            "subject": subject,
            "body": body,
            "secrecy": level,
            "urgency": "urgent",  # cgd's clerks are told it arrived
            "recipient_org_ids": [orgs["cgd"]],
            "attachment_ids": [upload.json()["id"]],
        },
    )
    assert sent.status_code == 201, sent.text
    letter_id = sent.json()["id"]
    item = await eventually(lambda: inbox_item(client, h["cgd.clerk"], letter_id))
    delivery = item["delivery_id"]
    received = await client.post(f"{PREFIX}/deliveries/{delivery}/receive", headers=h["cgd.clerk"])
    assert received.status_code == 200, received.text
    await eventually(lambda: _status_is(client, h["cgd.clerk"], f"{PREFIX}/deliveries/{delivery}/stamped", 200))
    annotation, copy_annotation = f"เกษียน-{_token()}", f"เกษียน-{_token()}"
    noted = await client.post(
        f"{PREFIX}/deliveries/{delivery}/annotations", headers=h["cgd.clerk"], json={"text": annotation}
    )
    assert noted.status_code == 201, noted.text
    forwarded = await client.post(
        f"{PREFIX}/deliveries/{delivery}/forward", headers=h["cgd.clerk"], json={"recipient_org_ids": [orgs["rd"]]}
    )
    assert forwarded.status_code == 200, forwarded.text
    copy = forwarded.json()["forwarded_to"][0]["delivery_id"]
    await eventually(lambda: inbox_item(client, h["rd.chief"], letter_id))
    received = await client.post(f"{PREFIX}/deliveries/{copy}/receive", headers=h["rd.chief"])
    assert received.status_code == 200, received.text
    noted = await client.post(
        f"{PREFIX}/deliveries/{copy}/annotations", headers=h["rd.chief"], json={"text": copy_annotation}
    )
    assert noted.status_code == 201, noted.text
    # The other services hear of the forwarding through events: wait until each lets rd in.
    for url in (
        f"{PREFIX}/letters/{letter_id}",
        f"{PREFIX}/attachments/{upload.json()['id']}/content",
        f"{PREFIX}/audit/letters/{letter_id}/history",
    ):
        await eventually(lambda url=url: _status_is(client, h["rd.chief"], url, 200))
    return Letter(letter_id, upload.json()["id"], delivery, copy, subject, body, annotation, copy_annotation)


async def _signed_draft(world: World) -> Draft:
    """ops.clerk drafts, proposes straight to ops.chief, who signs; ops.clerk dispatches it."""
    client, clerk = world.client, world.headers["ops.clerk"]
    chief = await login(client, SIGNER.name)
    body = {**_draft(world, None), "body": f"ร่าง-{_token()}"}
    made = await client.post(f"{PREFIX}/drafts", headers=clerk, json=body)
    assert made.status_code == 201, made.text
    draft_id = made.json()["id"]
    for who, action in ((clerk, "propose"), (chief, "sign"), (clerk, "dispatch")):
        done = await client.post(f"{PREFIX}/drafts/{draft_id}/{action}", headers=who)
        assert done.status_code == 200, done.text
    letter_id = done.json()["id"]
    # Storage verifies the signature once it hears the letter was sent.
    signatures = f"{PREFIX}/letters/{letter_id}/signatures"
    await eventually(lambda: _answers(client, clerk, signatures, lambda found: len(found) == 1))
    return Draft(draft_id, body["subject"], body["body"], letter_id)


async def _answers(client, headers, url, check) -> bool:
    response = await client.get(url, headers=headers)
    return response.status_code == 200 and check(response.json())


async def _notification_of(world: World, username: str) -> str:
    """The id of one of the person's notifications (the urgent letters reached cgd)."""
    url = f"{PREFIX}/notifications"
    await eventually(lambda: _answers(world.client, world.headers[username], url, lambda found: found["items"]))
    return (await world.client.get(url, headers=world.headers[username])).json()["items"][0]["id"]


async def _delegation_from_the_signer(world: World) -> str:
    chief = await login(world.client, SIGNER.name)
    body = {**_delegation(world, None), "to_username": "td.clerk"}
    made = await world.client.post(f"{PREFIX}/delegations", headers=chief, json=body)
    assert made.status_code == 201, made.text
    return made.json()["id"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory):
    settings = Settings(demo=True, data_dir=tmp_path_factory.mktemp("matrix"), consumer_retry_seconds=0.05)
    deployment = embedded(settings)
    await deployment.start()
    try:
        await _add_users(deployment)
        transport = httpx.ASGITransport(app=deployment.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sarabun") as client:
            headers = {user.name: (await login(client, user.name)) if user.name else {} for user in USERS}
            orgs = {
                org["key"]: org["id"] for org in (await client.get(f"{PREFIX}/orgs", headers=headers["admin"])).json()
            }
            built = World(client, headers, orgs, thai.buddhist_year())
            letters = await asyncio.gather(*(_letter_at(built, level) for level in LEVELS))
            built.letters = dict(zip(LEVELS, letters, strict=True))
            built.draft = await _signed_draft(built)
            built.delegation = await _delegation_from_the_signer(built)
            built.notification = await _notification_of(built, "cgd.clerk")
            yield built
    finally:
        await deployment.stop()


# ── The cells ────────────────────────────────────────────────────────────────────────────────────────────


def _label(row: Row, level: str | None) -> str:
    return f"{row.method} {row.path.split('?')[0]} @{level or 'any'}"


CASES = [pytest.param(row, level, id=_label(row, level)) for row in ROWS for level in row.levels]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("row", "level"), CASES)
async def test_each_user_gets_the_expected_answer_and_learns_nothing_more(world, row, level):
    wrong = []
    url = PREFIX + row.path.format(**world.objects(level))
    for index, user in enumerate(USERS):
        expected = row.status(index, level)
        response = await world.client.request(
            row.method, url, headers=world.headers[user.name], **row.request(world, user, level)
        )
        who = user.name or "no token"
        if response.status_code != expected:
            wrong.append(f"{who}: {response.status_code}, expected {expected}: {response.text[:200]}")
        if response.status_code >= 400 and not response.headers.get("content-type", "").startswith(PROBLEM_JSON):
            wrong.append(f"{who}: a {response.status_code} that is not problem+json")
        if leaked := [secret for secret in world.secrets_kept_from(user) if secret in response.text]:
            wrong.append(f"{who}: the answer reveals {leaked}")
    assert not wrong, f"{row.method} {url}\n" + "\n".join(wrong)


async def _log_entries(world: World) -> list[dict]:
    """Every entry of the audit log, decoded, as an auditor reads them."""
    found, start = [], 0
    while page := (
        await world.client.get(f"{PREFIX}/audit/entries?start={start}", headers=world.headers["auditor"])
    ).json():
        found += [json.loads(base64.b64decode(item["entry"])) for item in page]
        start = page[-1]["index"] + 1
    return found


@pytest.mark.asyncio(loop_scope="module")
async def test_a_refused_read_of_classified_annotations_reaches_the_audit_log(world):
    letter = world.letters["secret"]
    url = f"{PREFIX}/deliveries/{letter.delivery}/annotations"
    assert (await world.client.get(url, headers=world.headers["cgd.junior"])).status_code == 404

    async def refusal_logged() -> bool:
        return any(
            entry["type"].startswith("access.denied")
            and entry["source"] == "sarabun/routing"  # the annotations' keeper, not the letter's
            and entry["actor"] == "cgd.junior"
            and entry["letter_id"] == letter.id
            for entry in await _log_entries(world)
        )

    await eventually(refusal_logged)


def _gateway_routes(tmp_path) -> set[tuple[str, str]]:
    app = embedded(Settings(demo=True, data_dir=tmp_path)).app
    return {
        (method, route.path.removeprefix(PREFIX))
        for route in iter_route_contexts(app.routes)
        if route.path and route.path.startswith(PREFIX + "/")
        for method in (route.methods or ()) - {"HEAD"}
    }


def test_the_table_covers_every_route_of_the_public_api(tmp_path):
    routes = _gateway_routes(tmp_path)
    covered = {(row.method, row.route) for row in ROWS}
    missing = sorted(routes - covered)
    assert not missing, f"routes the access matrix does not cover (add rows for them): {missing}"
    stale = sorted(covered - routes)
    assert not stale, f"rows for routes the gateway no longer has: {stale}"


def test_every_row_names_every_user_and_level():
    for row in ROWS:
        assert len(row.expect) == len(USERS), row.path
        for expected in row.expect:
            assert isinstance(expected, int) or len(expected) == len(row.levels), row.path


# ── The reviewer's document ──────────────────────────────────────────────────────────────────────────────


def test_the_reviewers_document_matches_the_table():
    text = render()
    if os.environ.get("SARABUN_UPDATE_SNAPSHOT") == "1":
        DOC.write_text(text)
    assert DOC.read_text() == text, "docs/access-matrix.md is stale: regenerate with SARABUN_UPDATE_SNAPSHOT=1"


WORK_STEPS = ("work", "propose", "order", "suspend", "resume", "close", "reopen", "acknowledge")
SECTIONS = (
    ("Sign-in and the directory", ("/auth/", "/me", "/orgs", "/groups")),
    ("People", ("/admin/users",)),
    ("Attachments", ("/attachments", "/deliveries/{delivery_id}/stamped")),
    ("Letters", ("/letters", "/outbox", "/inbox", "/follow-up")),
    ("Drafts and signing", ("/drafts",)),
    ("Delegations", ("/delegations",)),
    ("Work on received letters", ("/worklist", *(f"/deliveries/{{delivery_id}}/{step}" for step in WORK_STEPS))),
    ("Notifications", ("/notifications",)),
    ("Deliveries", ("/deliveries/",)),
    ("Registers", ("/registers/",)),
    ("Audit log", ("/audit/",)),
    ("Administration", ("/admin/",)),
)


def _section(row: Row) -> str:
    return next(title for title, starts in SECTIONS if row.route.startswith(starts))


def _cell(row: Row, index: int) -> str:
    expected = row.expect[index]
    if isinstance(expected, int) or len(set(expected)) == 1:
        return str(expected if isinstance(expected, int) else expected[0])
    return " · ".join(str(status) for status in expected)


def _column(user: User) -> str:
    if user.name is None:
        return "no token"
    return f"{user.name}<br>{user.relation} · {LEVEL_TH[user.clearance]}"


def render() -> str:
    lines = [
        "# Access matrix",
        "",
        "Rendered from `tests/security/test_access_matrix.py`, which sends every cell below as a real request to",
        "a running embedded deployment and fails on any other answer. Regenerate this page with",
        "`SARABUN_UPDATE_SNAPSHOT=1 pytest tests/security` after an intended change; a test fails while it is stale,",
        "and another fails when the gateway gains a route under `/api/v1` that the table does not cover.",
        "",
        "## The rules",
        "",
        "1. Without a valid token every endpoint except sign-in answers **401**.",
        "2. A role the policy (`gateway/policy.py`) never lets attempt an action gets **403**, before anything is",
        "   looked up: auditors and admins never read or act on letters; only auditors read the audit log;",
        "   only admins manage people and the directory and move where a register's numbering continues, and only",
        "   within 15 minutes of signing in (401 `/problems/fresh-sign-in-required` after that).",
        "3. Anything outside the caller's unit is **404**, never 403, so the answer does not confirm that it exists.",
        "   A unit's scope: the letters it sent, the deliveries addressed or forwarded to it, their attachments,",
        "   its own registers and annotations.",
        "4. A classified letter (ลับ, ลับมาก) is listed with its number and level to everyone in scope, and they may",
        "   register, route, refuse or recall it; its subject, body, attachments, stamped copy and annotations only",
        "   reach users cleared for its level. Anyone else gets **404**, as if it did not exist, and lists show",
        "   `[หนังสือลับ]` or `[หนังสือลับมาก]` in place of the subject.",
        "5. ลับที่สุด never travels electronically: sending one is **422** even for a user cleared for it, and so is",
        "   sending above one's own clearance.",
        "6. Every refusal is `application/problem+json`, and no answer, allowed or refused, contains the subject,",
        "   body or annotations of a letter the user may not read, or the id of a letter their unit has no part in.",
        "7. Drafts are private to their unit and the people on their line (**404** to anyone else). Staff and",
        "   clerks draft; staff, clerks and executives review; an action the draft's state or the line's turn does",
        "   not allow is **409**; signing is for the draft's signer or his delegate (**403** to anyone else in",
        "   scope); only clerks dispatch. Delegations are recorded by an executive for himself or by an admin.",
        "8. Notifications are one's own: everyone signed in reads their list and chooses how they are told; another",
        "   person's notification is **404**.",
        "",
        "## The objects",
        "",
        "For each secrecy level (ปกติ, ลับ, ลับมาก) ops.clerk of สป.กค. (ops, the **sender**) sends one letter with a",
        "PDF to กรมบัญชีกลาง (cgd, the **recipient**), which registers it (ลงรับ), annotates it (เกษียน) and",
        "forwards it (ส่งต่อ) to กรมสรรพากร (rd, **forwarded-to**), which registers and annotates its copy.",
        "กรมธนารักษ์ (td) is **uninvolved**. Each unit has a clerk cleared for the letters and one who is not",
        "(clearance after the name); the auditor and the admin belong to the ministry itself. In the paths,",
        "`{letter}`, `{attachment}`, `{delivery}` (cgd's) and `{copy}` (rd's) are that letter's, and `{ops}`,",
        "`{cgd}` the units' ids.",
        "",
        "`{draft}` is a draft ops.clerk wrote, proposed to ops.chief (an executive of ops, no column), who signed it,",
        "and ops.clerk dispatched to กรมสรรพสามิต as `{signed}`; `{delegation}` is ops.chief's delegation to",
        "td.clerk. The letters are urgent (ด่วน), so cgd's clerk is told of each; `{notification}` is one of those",
        "notifications.",
        "",
        "## Reading a cell",
        "",
        "- One status: the answer at every secrecy level, or the endpoint has nothing to do with a letter.",
        "- `200 · 404 · 404`: the answers for the letter at ปกติ · ลับ · ลับมาก; in the sending row the fourth is",
        "  ลับที่สุด.",
        "- 200/201 allowed; 401 no valid token; 403 refused by role; 404 not in your scope or not cleared;",
        "  409 allowed to try, but the letter's state refuses it (it is registered and forwarded already, so it",
        "  can no longer be recalled, cancelled, refused or forwarded again); 422 refused input.",
    ]
    head = "| endpoint | object | " + " | ".join(_column(user) for user in USERS) + " |"
    rule = "|---" * (len(USERS) + 2) + "|"
    for title, _ in SECTIONS:
        rows = [row for row in ROWS if _section(row) == title]
        lines += ["", f"## {title}", "", head, rule]
        for row in rows:
            cells = " | ".join(_cell(row, index) for index in range(len(USERS)))
            lines.append(f"| `{row.method} {PREFIX}{row.path}` | {row.object} | {cells} |")
    cells = sum(len(row.levels) for row in ROWS) * len(USERS)
    routes = len({(row.method, row.route) for row in ROWS})
    lines += ["", f"{routes} routes in {len(ROWS)} rows, {len(USERS)} users, {cells} cells.", ""]
    return "\n".join(lines)
