"""Refusals the audit log must see: actions denied by role, and failed sign-ins. Each is staged in the
gateway's outbox, so it reaches the log through the bus like every other event."""

from __future__ import annotations

import hashlib

from fastapi import FastAPI, Request

from gateway.adapters import tables
from gateway.policy import Denied
from shared import thai
from shared.contracts import Event, RequestDenied, SignInFailed
from shared.outbox import stage
from shared.problems import problem_response
from shared.web import correlation_id

SOURCE = "sarabun/gateway"


def install(app: FastAPI) -> None:
    @app.exception_handler(Denied)
    async def _denied(request: Request, exc: Denied):
        event = RequestDenied(action=exc.action, org_id=exc.who.org_id, denied_at=thai.now())
        async with request.app.state.db.transaction() as session:
            await record(session, event, actor=exc.who.user)
        return problem_response(exc)


async def record(session, event: Event, actor: str | None) -> None:
    envelope = event.envelope(source=SOURCE, subject=event.TYPE, actor=actor, correlation_id=correlation_id.get())
    await stage(session, tables.outbox, envelope)


def sign_in_failed(username: str) -> SignInFailed:
    return SignInFailed(username_sha256=hashlib.sha256(username.encode()).hexdigest(), failed_at=thai.now())
