"""Letters, outboxes, inboxes and receiving: composed from intake (the letter) and routing (deliveries)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query

from gateway import policy
from gateway.auth import CurrentUser
from gateway.clients import Services
from gateway.deps import ServicesDep
from shared.principal import Principal
from shared.schemas import SendLetterRequest

router = APIRouter(tags=["letters"])

DeliveryStatus = Literal["pending", "delivered", "received", "forwarded", "returned", "rejected", "recalled", "closed"]


@router.post("/letters", status_code=201)
async def send_letter(
    body: SendLetterRequest,
    who: CurrentUser,
    services: ServicesDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
):
    policy.require(who, "letter.send")
    await services.call("routing", "POST", "/orgs/check", who, json={"ids": [str(i) for i in body.recipient_org_ids]})
    if body.attachment_ids:
        await services.call(
            "storage", "POST", "/objects/check", who, json={"ids": [str(i) for i in body.attachment_ids]}
        )
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    letter = await services.json("intake", "POST", "/letters", who, json=body.model_dump(mode="json"), headers=headers)
    return (await _with_deliveries(services, who, [letter]))[0]


@router.get("/letters/{letter_id}")
async def get_letter(letter_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    policy.require(who, "letter.read")
    letter = await services.json("intake", "GET", f"/letters/{letter_id}", who)
    return (await _with_deliveries(services, who, [letter]))[0]


@router.get("/outbox")
async def outbox(
    who: CurrentUser,
    services: ServicesDep,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
):
    policy.require(who, "outbox.read")
    params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
    page = await services.json("intake", "GET", "/letters", who, params=params)
    return {"items": await _with_deliveries(services, who, page["items"]), "next_cursor": page["next_cursor"]}


@router.get("/inbox")
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
    return {"items": [_inbox_item(d) for d in page["items"]], "next_cursor": page["next_cursor"]}


@router.post("/deliveries/{delivery_id}/receive")
async def receive(delivery_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    policy.require(who, "delivery.receive")
    delivery = await services.json("routing", "POST", f"/deliveries/{delivery_id}/receive", who)
    return {
        "delivery_id": delivery["id"],
        "status": delivery["status"],
        "receive_no": delivery["receive_no"],
        "received_at": delivery["received_at"],
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
    }


async def _with_deliveries(services: Services, who: Principal, letters: list[dict]) -> list[dict]:
    """Each letter's recipients (from intake) with their current state (from routing); a recipient that
    routing has not reached yet is `pending`."""
    if not letters:
        return []
    params = [("letter_id", letter["id"]) for letter in letters]
    rows = await services.json("routing", "GET", "/deliveries", who, params=params)
    state = {row["id"]: row for row in rows}
    return [
        {**letter, "deliveries": [_delivery(d, state.get(d["id"])) for d in letter["deliveries"]]} for letter in letters
    ]


def _delivery(ref: dict, row: dict | None) -> dict:
    row = row or {}
    return {
        "id": ref["id"],
        "recipient_org_id": ref["recipient_org_id"],
        "status": row.get("status", "pending"),
        "delivered_at": row.get("delivered_at"),
        "received_at": row.get("received_at"),
        "receive_no": row.get("receive_no"),
    }
