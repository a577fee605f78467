"""Letters, outboxes, inboxes and receiving: composed from intake (the letter) and routing (deliveries)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query

from gateway import policy
from gateway.auth import CurrentUser
from gateway.clients import Services
from gateway.deps import ServicesDep
from gateway.thai_dates import with_thai_dates
from shared.principal import Principal
from shared.problems import UPSTREAM, Problem, problem_responses
from shared.schemas import (
    IDEMPOTENCY_KEY,
    AnnotationRequest,
    ForwardRequest,
    ReasonRequest,
    RecallRequest,
    SendLetterRequest,
)

router = APIRouter(tags=["letters"])

DeliveryStatus = Literal[
    "pending", "delivered", "received", "forwarded", "returned", "rejected", "invalid", "recalled", "closed"
]


@router.post("/letters", status_code=201, responses=problem_responses(400, 401, 403, 409, 422, *UPSTREAM))
async def send_letter(
    body: SendLetterRequest,
    who: CurrentUser,
    services: ServicesDep,
    idempotency_key: Annotated[str | None, Header(pattern=IDEMPOTENCY_KEY)] = None,
):
    policy.require(who, "letter.send")
    body = await resolve_recipients(services, who, body)
    if body.attachment_ids:
        await services.call(
            "storage", "POST", "/objects/check", who, json={"ids": [str(i) for i in body.attachment_ids]}
        )
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    letter = await services.json("intake", "POST", "/letters", who, json=body.model_dump(mode="json"), headers=headers)
    return accepted(letter)


def accepted(letter: dict) -> dict:
    """The answer to a letter just sent (POST /letters, or a signed draft dispatched): routing has not confirmed
    any delivery yet, so every recipient is pending."""
    return with_thai_dates({**letter, "deliveries": [_delivery(d, None) for d in letter["deliveries"]]})


async def resolve_recipients(services: Services, who: Principal, body: SendLetterRequest) -> SendLetterRequest:
    """Groups expand to their members (never the sender's own unit) and copies (สำเนาส่ง) are delivered too.
    Intake checks them against its own copy of the directory (every unit in force, an internal memo within
    the sender's ministry), so sending costs no call to routing unless groups are chosen."""
    recipients = [*body.recipient_org_ids]
    if body.recipient_group_ids:
        ids = [str(i) for i in body.recipient_group_ids]
        members = (await services.json("routing", "POST", "/groups/expand", who, json={"ids": ids}))["org_ids"]
        recipients += [uuid.UUID(m) for m in members if uuid.UUID(m) != who.org_id]
    recipients = list(dict.fromkeys([*recipients, *body.cc_org_ids]))
    return body.model_copy(update={"recipient_org_ids": recipients, "recipient_group_ids": []})


@router.get("/letters/{letter_id}", responses=problem_responses(401, 403, 404, 422, *UPSTREAM))
async def get_letter(letter_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    policy.require(who, "letter.read")
    letter = await services.json("intake", "GET", f"/letters/{letter_id}", who)
    return with_thai_dates((await _with_deliveries(services, who, [letter]))[0])


@router.get("/outbox", responses=problem_responses(401, 403, 422, *UPSTREAM))
async def outbox(
    who: CurrentUser,
    services: ServicesDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
):
    policy.require(who, "outbox.read")
    params = {k: v for k, v in {"q": q, "cursor": cursor, "limit": limit}.items() if v}
    page = await services.json("intake", "GET", "/letters", who, params=params)
    items = await _with_deliveries(services, who, page["items"])
    return {"items": with_thai_dates(items), "next_cursor": page["next_cursor"]}


@router.get("/inbox", responses=problem_responses(401, 403, 422, *UPSTREAM))
async def inbox(
    who: CurrentUser,
    services: ServicesDep,
    status: DeliveryStatus | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
):
    policy.require(who, "inbox.read")
    params = {k: v for k, v in {"status": status, "q": q, "cursor": cursor, "limit": limit}.items() if v}
    page = await services.json("routing", "GET", "/inbox", who, params=params)
    return {"items": with_thai_dates([_inbox_item(d) for d in page["items"]]), "next_cursor": page["next_cursor"]}


@router.post("/deliveries/{delivery_id}/receive", responses=problem_responses(401, 403, 404, 409, 422, *UPSTREAM))
async def receive(delivery_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    policy.require(who, "delivery.receive")
    delivery = await services.json("routing", "POST", f"/deliveries/{delivery_id}/receive", who)
    return {
        "delivery_id": delivery["id"],
        "status": delivery["status"],
        "receive_no": delivery["receive_no"],
        "received_at": delivery["received_at"],
    }


@router.get("/deliveries/{delivery_id}/annotations", responses=problem_responses(401, 403, 404, 422, *UPSTREAM))
async def annotations(delivery_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    """เกษียนหนังสือ on a received letter, oldest first; for the receiving unit."""
    policy.require(who, "delivery.annotate")
    return await services.json("routing", "GET", f"/deliveries/{delivery_id}/annotations", who)


@router.post(
    "/deliveries/{delivery_id}/annotations",
    status_code=201,
    responses=problem_responses(400, 401, 403, 404, 422, *UPSTREAM),
)
async def annotate(delivery_id: uuid.UUID, body: AnnotationRequest, who: CurrentUser, services: ServicesDep):
    """Add a summary or a decision (ทราบ / ดำเนินการ / เห็นชอบ / ไม่เห็นชอบ); annotations are never edited."""
    policy.require(who, "delivery.annotate")
    return await services.json(
        "routing", "POST", f"/deliveries/{delivery_id}/annotations", who, json=body.model_dump(mode="json")
    )


@router.post("/deliveries/{delivery_id}/forward", responses=problem_responses(400, 401, 403, 404, 409, 422, *UPSTREAM))
async def forward(delivery_id: uuid.UUID, body: ForwardRequest, who: CurrentUser, services: ServicesDep):
    """ส่งต่อ a registered letter to other units; each gets a new delivery of the same letter and number.
    Routing owns the directory, so it refuses units not in force itself."""
    policy.require(who, "delivery.forward")
    result = await services.json(
        "routing", "POST", f"/deliveries/{delivery_id}/forward", who, json=body.model_dump(mode="json")
    )
    return {**_action_result(result), "forwarded_to": result["forwarded_to"]}


@router.post("/deliveries/{delivery_id}/{action}", responses=problem_responses(400, 401, 403, 404, 409, 422, *UPSTREAM))
async def refuse(
    delivery_id: uuid.UUID,
    action: Literal["return", "reject", "report-invalid"],
    body: ReasonRequest,
    who: CurrentUser,
    services: ServicesDep,
):
    """คืนเรื่อง (return), ปฏิเสธ (reject) or แจ้งหนังสือผิด (report-invalid), always with a reason."""
    policy.require(who, "delivery.refuse")
    result = await services.json(
        "routing", "POST", f"/deliveries/{delivery_id}/{action}", who, json=body.model_dump(mode="json")
    )
    return _action_result(result)


@router.post("/letters/{letter_id}/recall", responses=problem_responses(400, 401, 403, 404, 409, 422, *UPSTREAM))
async def recall(letter_id: uuid.UUID, who: CurrentUser, services: ServicesDep, body: RecallRequest | None = None):
    """ดึงคืน from recipients that have not registered it; 409 if a chosen one has."""
    policy.require(who, "letter.recall")
    body = body or RecallRequest()
    rows = await services.json(
        "routing", "POST", f"/letters/{letter_id}/recall", who, json=body.model_dump(mode="json")
    )
    return {"letter_id": letter_id, "deliveries": [_delivery(r, r) for r in rows]}


@router.post("/letters/{letter_id}/cancel", responses=problem_responses(400, 401, 403, 404, 409, 422, *UPSTREAM))
async def cancel(letter_id: uuid.UUID, body: ReasonRequest, who: CurrentUser, services: ServicesDep):
    """ยกเลิก while nobody has registered it: every delivery is recalled, then the letter is marked
    cancelled (its number stays used). Repeating it after a partial failure completes it."""
    policy.require(who, "letter.cancel")
    letter = await services.json("intake", "GET", f"/letters/{letter_id}", who)  # 404 unless the caller may see it
    if letter["status"] != "signed":  # a signed letter not yet dispatched has no deliveries to recall
        await services.call("routing", "POST", f"/letters/{letter_id}/recall", who, json={"recipient_org_ids": None})
    letter = await services.json("intake", "POST", f"/letters/{letter_id}/cancel", who, json=body.model_dump())
    return with_thai_dates((await _with_deliveries(services, who, [letter]))[0])


@router.get("/letters/{letter_id}/signatures", responses=problem_responses(401, 403, 404, 422, *UPSTREAM))
async def signatures(letter_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    """The electronic signatures on the letter's PDFs, as storage verified them: whether each is intact
    (`valid`) and whether its signer's certificate chains to a configured trust root (`trusted`); `problem`
    says what failed. For the sender and the recipients."""
    policy.require(who, "letter.signatures")
    await services.call("intake", "GET", f"/letters/{letter_id}", who)  # 404 unless the caller may see it
    try:
        found = await services.json("storage", "GET", f"/letters/{letter_id}/signatures", who)
    except Problem as problem:
        # Storage knows a letter's files once it has heard the letter was sent, and only those the unit may read:
        # a letter the caller may see but storage shows nothing of carries no signature for him (yet).
        if problem.status != 404:
            raise
        found = []
    return with_thai_dates(
        [
            {
                "signer": s["signer"],
                "valid": s["valid"],
                "trusted": s["trusted"],
                "signed_at": s["signed_at"],
                "attachment_id": s["attachment_id"],
                "field": s.get("field"),
                "problem": s.get("problem"),
            }
            for s in found
        ]
    )


@router.get("/letters/{letter_id}/pending", responses=problem_responses(401, 403, 404, 422, *UPSTREAM))
async def pending(letter_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    """Recipients that have not registered the letter yet."""
    policy.require(who, "letter.read")
    rows = await services.json("routing", "GET", f"/letters/{letter_id}/pending", who)
    return [
        {
            "delivery_id": r["id"],
            "recipient_org_id": r["recipient_org_id"],
            "status": r["status"],
            "delivered_at": r["delivered_at"],
        }
        for r in rows
    ]


def _action_result(d: dict) -> dict:
    return {
        "delivery_id": d["id"],
        "letter_id": d["letter_id"],
        "status": d["status"],
        "reason": d.get("reason"),
        "changed_at": d.get("status_changed_at"),
    }


def _inbox_item(d: dict) -> dict:
    return {
        "delivery_id": d["id"],
        "letter_id": d["letter_id"],
        "doc_no": d["doc_no"],
        "subject": d["subject"],
        "sender_org_id": d["sender_org_id"],
        "urgency": d["urgency"],
        "secrecy": d["secrecy"],
        "status": d["status"],
        "delivered_at": d["delivered_at"],
        "received_at": d["received_at"],
        "receive_no": d["receive_no"],
        "stage": d.get("stage"),  # the work on it once registered: proposed, ordered, suspended
        "due_at": d.get("due_at"),
        "closed_at": d.get("closed_at"),
    }


async def _with_deliveries(services: Services, who: Principal, letters: list[dict]) -> list[dict]:
    """Each letter's recipients (from intake) with their current state (from routing); a recipient that
    routing has not reached yet is `pending`."""
    if not letters:
        return []
    params = [("letter_id", letter["id"]) for letter in letters]
    rows = await services.json("routing", "GET", "/deliveries", who, params=params)
    state = {row["id"]: row for row in rows}
    return [{**letter, "deliveries": _merged(letter, rows, state)} for letter in letters]


def _merged(letter: dict, rows: list[dict], state: dict) -> list[dict]:
    """Intake's recipients in order, then deliveries routing made by forwarding that intake has not heard of yet."""
    known = {d["id"] for d in letter["deliveries"]}
    extra = [
        {"id": r["id"], "recipient_org_id": r["recipient_org_id"]}
        for r in rows
        if r["letter_id"] == letter["id"] and r["id"] not in known
    ]
    return [_delivery(d, state.get(d["id"])) for d in [*letter["deliveries"], *extra]]


def _delivery(ref: dict, row: dict | None) -> dict:
    row = row or {}
    return {
        "id": ref["id"],
        "recipient_org_id": ref["recipient_org_id"],
        "status": row.get("status", "pending"),
        "delivered_at": row.get("delivered_at"),
        "received_at": row.get("received_at"),
        "receive_no": row.get("receive_no"),
        "reason": row.get("reason"),
        "forwarded_from": row.get("forwarded_from"),
        "closed_at": row.get("closed_at"),  # เรื่องเสร็จ: when the recipient unit closed it
    }


@router.get("/follow-up", responses=problem_responses(401, 403, *UPSTREAM))
async def follow_up(who: CurrentUser, services: ServicesDep):
    """การติดตาม for the caller's unit, oldest first: letters it holds past their deadline (the head's order's,
    moved by any pause, or the sender's ด่วนภายใน) and not acted on, and letters it sent that a recipient has not
    registered yet. Then the work per division (the unit and every unit under it: `units`) and per person
    assigned there (`people`): open, overdue, closed this month, and the median hours to close of what was
    closed this month."""
    policy.require(who, "follow-up.read")
    found = await services.json("routing", "GET", "/follow-up", who)
    return with_thai_dates(
        {
            "overdue": [{**_inbox_item(d), "deliver_by": d["deliver_by"]} for d in found["overdue"]],
            "unregistered": [
                {**_inbox_item(d), "recipient_org_id": d["recipient_org_id"], "sent_at": d["sent_at"]}
                for d in found["unregistered"]
            ],
            "units": found["units"],
            "people": found["people"],
        }
    )
