"""Notify's internal HTTP routes (called by the gateway only, with a principal token): a person's own
notifications and choices, nobody else's."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict

from services.notify import service
from services.notify.domain.kinds import Choice, Kind
from shared.principal import CurrentPrincipal

router = APIRouter()


class Choices(BaseModel):
    model_config = ConfigDict(extra="forbid")
    choices: dict[Kind, Choice]


def _ctx(request: Request) -> service.Context:
    return request.app.state.notify


@router.get("/me/notifications")
async def preferences(request: Request, who: CurrentPrincipal):
    return await service.preferences(request.app.state.db, _ctx(request), who)


@router.put("/me/notifications")
async def choose(body: Choices, request: Request, who: CurrentPrincipal):
    return await service.choose(request.app.state.db, _ctx(request), who, body.choices)


@router.get("/notifications")
async def listed(
    request: Request,
    who: CurrentPrincipal,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
):
    return await service.listed(request.app.state.db, who, cursor, limit)


@router.post("/notifications/{notification_id}/read")
async def mark_read(notification_id: uuid.UUID, request: Request, who: CurrentPrincipal):
    return await service.mark_read(request.app.state.db, _ctx(request), who, notification_id)
