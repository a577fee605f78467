"""Web sign-in through the agency's identity provider: `/auth/oidc/login` sends the browser there, and
`/auth/oidc/callback` signs in the person it vouched for, exactly as a password sign-in does, when they have an
active account here. Every refusal is a page naming the reason (problem+json for a client asking for JSON) and
an entry in the audit log."""

from __future__ import annotations

import hashlib
import logging

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway import denials
from gateway.adapters.repository import UserRepository
from gateway.api.auth import signed_in
from gateway.oidc import Identity, Refused, RelyingParty, redirect_uri
from gateway.people.rules import Account
from gateway.web import session
from gateway.web.pages.common import home_of
from gateway.web.render import WebRoute, render, wants_json
from shared import thai
from shared.contracts import AccountRequested, ExternalSignInRefused
from shared.problems import Problem, problem_response

router = APIRouter(route_class=WebRoute, include_in_schema=False)
log = logging.getLogger("sarabun.gateway.oidc")

# A password that no Argon2 check accepts: an account made here for someone the provider vouched for has none.


def relying_party(request: Request) -> RelyingParty | None:
    """This gateway's client of the identity provider; None when no provider is configured. Made on first use."""
    state = request.app.state
    if not hasattr(state, "oidc"):
        settings = state.settings
        state.oidc = RelyingParty(settings) if settings.oidc_enabled else None
    return state.oidc


@router.get("/auth/oidc/login")
async def oidc_login(request: Request, next: str | None = None, fresh: bool = False) -> Response:
    """To the provider; `fresh=true` asks it to authenticate the person again (for actions that need a recent
    sign-in), `next` is where to go afterwards."""
    rp = relying_party(request)
    if rp is None:
        return _refusal_page(request, Refused(404, None, _NOT_CONFIGURED))
    callback = redirect_uri(request, request.app.state.settings)
    try:
        url, transaction = await rp.begin(request, callback, session.safe_next(next, ""), fresh)
    except Refused as refused:
        return _refusal_page(request, refused)
    response = RedirectResponse(url, status_code=303)
    rp.keep(response, request, transaction)
    return response


@router.get("/auth/oidc/callback")
async def oidc_callback(request: Request) -> Response:
    rp = relying_party(request)
    if rp is None:
        return _refusal_page(request, Refused(404, None, _NOT_CONFIGURED))
    transaction = rp.transaction(request)
    identity: Identity | None = None
    try:
        identity = rp.identity(await rp.finish(request, transaction))
        user = await _account(request, identity)
        response = await _signed_in(request, user, str(transaction.get("next") or ""))
    except Refused as refused:
        if refused.reason:
            await _record_refusal(request, refused.reason, identity)
        response = _refusal_page(request, refused)
    rp.forget(response, request)  # one transaction, one callback: used or refused, it is gone
    return response


async def _account(request: Request, identity: Identity) -> dict:
    """The active account of the person the provider vouched for; Refused when there is none."""
    db = request.app.state.db
    async with db.read() as db_session:
        user = await UserRepository(db_session).get(identity.username)
    if user is not None and user["active"]:
        return user
    if user is not None:
        raise Refused(
            403,
            "disabled_user",
            f"บัญชีผู้ใช้ {identity.username} ถูกระงับหรือยังรอผู้ดูแลระบบอนุมัติ "
            "(this account is disabled or awaits an administrator's approval)",
        )
    if request.app.state.settings.oidc_unknown_users == "create_disabled":
        await _request_account(request, identity)
        raise Refused(
            403,
            None,  # the request itself is the audit entry
            f"ยังไม่มีบัญชีผู้ใช้ {identity.username} ในระบบ ได้ส่งคำขอเปิดบัญชีให้ผู้ดูแลระบบอนุมัติแล้ว "
            "เมื่อได้รับอนุมัติจึงจะเข้าสู่ระบบได้ (no account yet: one now awaits an administrator's approval)",
        )
    raise Refused(
        403,
        "unknown_user",
        f"ยังไม่มีบัญชีผู้ใช้ {identity.username} ในระบบสารบรรณ ผู้ให้บริการยืนยันตัวตนรับรองท่านแล้ว "
        "แต่ผู้ดูแลระบบต้องเพิ่มบัญชีและกำหนดหน่วยงานให้ก่อน (no account here for this person: "
        "an administrator must add it, with its unit, first)",
    )


async def _request_account(request: Request, identity: Identity) -> None:
    """A disabled account with no unit, no role and no password, for an administrator to complete and enable;
    its creation is audited like any other (user.created), and the request itself as auth.account-requested."""
    account = Account(
        username=identity.username,
        display_name=identity.display_name,
        org_id=None,
        roles=[],
        clearance="normal",
        email=identity.email,
        active=False,
    )
    await request.app.state.people.create(identity.username, account, None)
    event = AccountRequested(username=identity.username, display_name=identity.display_name, requested_at=thai.now())
    async with request.app.state.db.transaction() as db_session:
        await denials.record(db_session, event, actor=identity.username)


async def _signed_in(request: Request, user: dict, target: str) -> Response:
    """The session a password sign-in gives, then on to the page asked for or the person's home page. A page of
    this site makes that last step: the session cookie is SameSite=Strict, and a browser does not send it on a
    navigation that another site (the provider) started."""
    issued = await signed_in(request, user)
    if not target:
        target = home_of({"roles": list(user["roles"])})
    response = render(request, "oidc_continue.html", target=target)
    session.start(response, request, issued["access_token"], int(issued["expires_in"]))
    log.info("signed in through the identity provider: %s", user["username"])
    return response


async def _record_refusal(request: Request, reason: str, identity: Identity | None) -> None:
    digest = hashlib.sha256(identity.username.encode()).hexdigest() if identity else None
    event = ExternalSignInRefused(reason=reason, username_sha256=digest, refused_at=thai.now())
    log.warning("sign-in through the identity provider refused: %s", reason)
    async with request.app.state.db.transaction() as db_session:
        await denials.record(db_session, event, actor=None)


def _refusal_page(request: Request, refused: Refused) -> Response:
    if wants_json(request):
        return problem_response(Problem(refused.status, refused.detail))
    return render(request, "oidc_refused.html", status=refused.status, message=refused.detail)


_NOT_CONFIGURED = (
    "ระบบนี้ไม่ได้ตั้งค่าการเข้าสู่ระบบด้วยบัญชีของหน่วยงาน (SARABUN_OIDC_ISSUER) "
    "(sign-in through an identity provider is not configured)"
)
