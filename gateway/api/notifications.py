"""A person's notifications (the in-page list) and their choices of how to be told, composed from the notify
service. Everyone signed in has their own; nobody reads or changes another's (the service answers 404)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from gateway import policy
from gateway.auth import CurrentUser
from gateway.deps import ServicesDep
from shared.problems import UPSTREAM, problem_responses

router = APIRouter(tags=["notifications"])

Kind = Literal[
    "urgent_letter",
    "proposed_to_you",
    "assigned_to_you",
    "for_information",
    "deadline_tomorrow",
    "deadline_passed",
    "draft_to_review",
    "awaiting_signature",
]
Choice = Literal["immediate", "digest", "off"]


class KindLabel(BaseModel):
    kind: Kind
    label: str
    label_en: str


class NotificationSettings(BaseModel):
    """Each kind with the person's choice: `immediate` (an e-mail at once), `digest` (in one e-mail a day, at
    `digest_time`, Asia/Bangkok) or `off` (no e-mail). Every notification is in the in-page list whatever
    the choice; someone who never chose gets every kind at once. No e-mail goes out without an address on
    the account, or while the deployment has no mail server (`email_enabled` false)."""

    choices: dict[Kind, Choice]
    kinds: list[KindLabel]
    email: str | None
    email_enabled: bool
    digest_time: str


class NotificationChoices(BaseModel):
    model_config = ConfigDict(extra="forbid")
    choices: dict[Kind, Choice] = Field(
        description="the kinds to change and how each is to reach you; the kinds left out stay as they are",
        max_length=8,
    )


class Notification(BaseModel):
    id: uuid.UUID
    kind: Kind
    title: str = Field(description="what happened, in Thai")
    title_en: str
    link: str = Field(description="the page to see or act on it, below the site's address")
    created_at: datetime
    created_at_th: str = Field(description="when, in the Buddhist era, Bangkok time")
    read: bool
    read_at: datetime | None
    letter_id: uuid.UUID | None
    delivery_id: uuid.UUID | None
    draft_id: uuid.UUID | None
    deadline: datetime | None


class NotificationPage(BaseModel):
    items: list[Notification]
    unread: int = Field(description="how many of all one's notifications are unread")
    next_cursor: str | None = Field(description="pass as `cursor` for the next (older) page; null on the last")


@router.get("/me/notifications", response_model=NotificationSettings, responses=problem_responses(401, 403, *UPSTREAM))
async def notification_settings(who: CurrentUser, services: ServicesDep):
    """How one is told of each kind of notification."""
    policy.require(who, "notification.read")
    return await services.json("notify", "GET", "/me/notifications", who)


@router.put(
    "/me/notifications", response_model=NotificationSettings, responses=problem_responses(400, 401, 403, 422, *UPSTREAM)
)
async def choose_notifications(body: NotificationChoices, who: CurrentUser, services: ServicesDep):
    """Changes how one is told of the kinds named, for notifications from now on."""
    policy.require(who, "notification.choose")
    return await services.json("notify", "PUT", "/me/notifications", who, json=body.model_dump())


@router.get("/notifications", response_model=NotificationPage, responses=problem_responses(401, 403, 422, *UPSTREAM))
async def notifications(
    who: CurrentUser,
    services: ServicesDep,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
):
    """One's notifications, newest first, with the number unread."""
    policy.require(who, "notification.read")
    params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
    return await services.json("notify", "GET", "/notifications", who, params=params)


@router.post(
    "/notifications/{notification_id}/read",
    response_model=Notification,
    responses=problem_responses(401, 403, 404, 422, *UPSTREAM),
)
async def read_notification(notification_id: uuid.UUID, who: CurrentUser, services: ServicesDep):
    """Marks one of one's notifications read; again changes nothing."""
    policy.require(who, "notification.read")
    return await services.json("notify", "POST", f"/notifications/{notification_id}/read", who)
