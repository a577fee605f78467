"""The work on a registered letter (เสนอ → สั่งการ → ปฏิบัติ → เรื่องเสร็จ) and each person's worklist, composed
from routing (the deliveries and their work), intake (drafts awaiting one's signature) and the gateway's own
people.

Routing decides what it owns: the delivery in the caller's unit (404 otherwise), the state (409), who may act
on it (403), the divisions assigned within the agency (422). The gateway adds what only it knows: that the
people named exist, are active and belong to the caller's unit, and that a proposal goes to a head."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from gateway import policy
from gateway.adapters.repository import UserRepository
from gateway.api.drafts import _delegators
from gateway.auth import CurrentUser
from gateway.deps import DbDep, ServicesDep
from gateway.people import rules
from gateway.people.delegations import SIGNING_ROLE, invalid
from gateway.thai_dates import with_thai_dates
from shared.db import Database
from shared.principal import Principal
from shared.problems import UPSTREAM, problem_responses
from shared.schemas import Moment, ReasonRequest, Text

router = APIRouter(tags=["work"])

TEXT_MAX = 5000
MAX_PEOPLE = 50
Username = Annotated[str, Field(min_length=1, max_length=200)]
Decision = Literal["acknowledged", "act", "approved", "not_approved", "other"]


class ProposeRequest(BaseModel):
    """เสนอ: to which head of the unit, with what summary."""

    model_config = ConfigDict(extra="forbid")
    to_username: Username = Field(description="an executive of the caller's unit")
    summary: Annotated[Text, Field(min_length=1, max_length=TEXT_MAX)]


class OrderRequest(BaseModel):
    """เกษียนสั่งการ: the decision (ทราบ, ดำเนินการ, เห็นชอบ, ไม่เห็นชอบ, or `other` in the head's own words), a
    note, a deadline in the future, the divisions and people assigned, and those given it for information."""

    model_config = ConfigDict(extra="forbid")
    decision: Decision
    decision_text: Annotated[Text, Field(max_length=1000, description="the words of an `other` decision")] = ""
    note: Annotated[Text, Field(max_length=TEXT_MAX)] = ""
    deadline: Moment | None = Field(None, description="when the work is due; in the future")
    assignee_org_ids: Annotated[list[uuid.UUID], Field(max_length=MAX_PEOPLE)] = Field(
        [], description="divisions within the agency; each gets a delivery to register"
    )
    assignee_usernames: Annotated[list[Username], Field(max_length=MAX_PEOPLE)] = Field(
        [], description="people of the caller's unit who act"
    )
    for_information: Annotated[list[Username], Field(max_length=MAX_PEOPLE)] = Field(
        [], description="people of the caller's unit who must acknowledge (รับทราบ)"
    )


class CloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    result: Annotated[Text, Field(min_length=1, max_length=TEXT_MAX, description="ผลการดำเนินการ")]


WORK_RESPONSES = problem_responses(400, 401, 403, 404, 409, 422, *UPSTREAM)


@router.get("/deliveries/{delivery_id}/work", responses=problem_responses(401, 403, 404, 422, *UPSTREAM))
async def work_of(delivery_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    """The work on a registered letter as its unit sees it: status and stage, when it is due, every proposal
    and order (superseded ones too) with the divisions and people each named and who has acknowledged, and
    the other steps (suspended, resumed, closed, reopened) with their words."""
    policy.require(who, "delivery.work")
    return with_thai_dates(await services.json("routing", "GET", f"/deliveries/{delivery_id}/work", who))


@router.post("/deliveries/{delivery_id}/propose", responses=WORK_RESPONSES)
async def propose(delivery_id: uuid.UUID, body: ProposeRequest, who: CurrentUser, db: DbDep, services: ServicesDep):
    """เสนอ: the unit's clerk puts the registered letter before a head of the unit, with a summary."""
    policy.require(who, "delivery.propose")
    people = await _people(db, [body.to_username], "to_username")
    [(head, row)] = people.items()
    if SIGNING_ROLE not in row["roles"]:
        raise invalid("to_username", f"{head} ไม่ใช่ผู้บริหาร จึงสั่งการไม่ได้ (propose to an executive)")
    payload = {"to_username": head, "to_org_id": _unit(row), "to_clearance": row["clearance"], "summary": body.summary}
    return await _step(services, who, delivery_id, "propose", payload)


@router.post("/deliveries/{delivery_id}/order", responses=WORK_RESPONSES)
async def order(delivery_id: uuid.UUID, body: OrderRequest, who: CurrentUser, db: DbDep, services: ServicesDep):
    """สั่งการ by a head of the delivery's unit; locked once given: a new order supersedes it and both stay in
    the history. Divisions assigned get a delivery of their own to register; people of the unit assigned act;
    those given it for information acknowledge."""
    policy.require(who, "delivery.order")
    assignees = await _people(db, body.assignee_usernames, "assignee_usernames")
    informed = await _people(db, body.for_information, "for_information")
    payload = body.model_dump(mode="json") | {
        "assignee_usernames": list(assignees),
        "for_information": list(informed),
        # Routing checks, once it has found the delivery in the caller's unit, that they are of that unit and
        # cleared for the letter's level.
        "people_org_ids": {name: _unit(row) for name, row in (assignees | informed).items()},
        "people_clearances": {name: row["clearance"] for name, row in (assignees | informed).items()},
    }
    return await _step(services, who, delivery_id, "order", payload)


@router.post("/deliveries/{delivery_id}/suspend", responses=WORK_RESPONSES)
async def suspend(delivery_id: uuid.UUID, body: ReasonRequest, who: CurrentUser, services: ServicesDep):
    """พักเรื่อง, with a reason, by an assignee or the head who ordered: the deadline clock pauses."""
    policy.require(who, "delivery.act")
    return await _step(services, who, delivery_id, "suspend", body.model_dump())


@router.post("/deliveries/{delivery_id}/resume", responses=WORK_RESPONSES)
async def resume(delivery_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    """ดำเนินการต่อ: the due moment moves by the time it stood suspended."""
    policy.require(who, "delivery.act")
    return await _step(services, who, delivery_id, "resume")


@router.post("/deliveries/{delivery_id}/close", responses=WORK_RESPONSES)
async def close(delivery_id: uuid.UUID, body: CloseRequest, who: CurrentUser, services: ServicesDep):
    """ปิดเรื่อง (เรื่องเสร็จ) for this unit with the result, by an assignee or the head who ordered (403 for
    anyone else of the unit). The sender sees when each recipient unit closed it."""
    policy.require(who, "delivery.act")
    return await _step(services, who, delivery_id, "close", body.model_dump())


@router.post("/deliveries/{delivery_id}/reopen", responses=WORK_RESPONSES)
async def reopen(delivery_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    """เปิดเรื่องใหม่ by a head of the unit: the order in force stands again."""
    policy.require(who, "delivery.reopen")
    return await _step(services, who, delivery_id, "reopen")


@router.post("/deliveries/{delivery_id}/acknowledge", responses=WORK_RESPONSES)
async def acknowledge(delivery_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    """รับทราบ by a person given the letter for information: once (409 the second time), never undone."""
    policy.require(who, "delivery.acknowledge")
    return await _step(services, who, delivery_id, "acknowledge")


@router.get("/worklist", responses=problem_responses(401, 403, *UPSTREAM))
async def worklist(request: Request, who: CurrentUser, services: ServicesDep):
    """งานของฉัน: letters of one's unit proposed to one (`proposed`), assigned to one (`assigned`), given to one
    for information and not yet acknowledged (`for_information`), and drafts awaiting one's signature, one's
    own or as a delegate (`to_sign`); overdue first, then by due moment, then the newest."""
    policy.require(who, "worklist.read")
    items = await services.json("routing", "GET", "/worklist", who)
    if policy.allowed(who, "draft.read"):
        items += await _to_sign(request, services, who)
    items.sort(key=_order_of_work)
    return {"items": with_thai_dates(items)}


async def _to_sign(request: Request, services: ServicesDep, who: Principal) -> list[dict]:
    params = [("box", "to_sign"), ("limit", 200), *await _delegators(request, who)]
    page = await services.json("intake", "GET", "/drafts", who, params=params)
    return [
        {
            "kind": "to_sign",
            "draft_id": d["id"],
            "subject": d["subject"],
            "urgency": d["urgency"],
            "secrecy": d["secrecy"],
            "org_id": d["org_id"],
            "status": d["status"],
            "due_at": None,
            "overdue": False,
            "arrived_at": d.get("updated_at") or d.get("created_at"),
        }
        for d in page["items"]
    ]


def _order_of_work(item: dict):
    """Overdue first, then the soonest due, then the newest (ISO moments with offsets sort by their text only
    within one offset, so they are compared as moments)."""
    due = datetime.fromisoformat(item["due_at"]) if item.get("due_at") else None
    arrived = datetime.fromisoformat(item["arrived_at"]).timestamp() if item.get("arrived_at") else 0
    return (not item["overdue"], due is None, due.timestamp() if due else 0, -arrived)


async def _step(services: ServicesDep, who: Principal, delivery_id: uuid.UUID, action: str, body=None) -> dict:
    path = f"/deliveries/{delivery_id}/{action}"
    return with_thai_dates(await services.json("routing", "POST", path, who, json=body))


async def _people(db: Database, names: list[str], field: str) -> dict[str, dict]:
    """The usernames as people, {username: account}: each must exist and be active; 422 naming the first that
    does not. Whether they belong to the delivery's unit is routing's to say, after it has found the
    delivery in the caller's scope (404 first)."""
    wanted = list(dict.fromkeys(rules.sign_in_name(name) for name in names))
    async with db.read() as session:
        found = await UserRepository(session).many(wanted)
    for name in wanted:
        row = found.get(name)
        if row is None or not row["active"]:
            raise invalid(field, f"ไม่พบผู้ใช้ {name} หรือถูกระงับ (unknown or disabled person)")
    return {name: found[name] for name in wanted}


def _unit(row: dict) -> str | None:
    return str(row["org_id"]) if row["org_id"] else None
