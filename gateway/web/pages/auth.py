"""Sign in, sign out, the language switch and the front door."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway.web import i18n, session
from gateway.web.client import Api, ApiError
from gateway.web.pages.common import home_of, whoami
from gateway.web.render import WebRoute, api, check_csrf, lang_of, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/")
async def front_door(request: Request) -> Response:
    if not session.token(request):
        return RedirectResponse("/signin", status_code=303)
    return RedirectResponse(home_of(await whoami(api(request))), status_code=303)


@router.get("/me")
async def who_am_i(request: Request) -> Response:
    """The page for roles without screens of their own (an administrator)."""
    return render(request, "me.html", me=await whoami(api(request)))


@router.get("/signin")
async def sign_in_page(
    request: Request, next: str | None = None, expired: str | None = None, fresh: str | None = None
) -> Response:
    t = i18n.translator(lang_of(request))
    notice = t("signin.fresh") if fresh else t("signin.expired") if expired else None
    target = session.safe_next(next, "")
    return render(
        request,
        "signin.html",
        next=target,
        notice=notice,
        username="",
        error=None,
        fresh=bool(fresh),
        **_ways(request),
    )


def _ways(request: Request) -> dict:
    """Which ways in the page offers: the agency's identity provider when one is configured, and the password
    form unless local passwords are switched off."""
    settings = request.app.state.settings
    return {"oidc": settings.oidc_enabled, "local_passwords": getattr(settings, "local_passwords", True)}


@router.post("/signin")
async def sign_in(request: Request) -> Response:
    form = await check_csrf(request)
    username = str(form.get("username", "")).strip()[:100]
    password = str(form.get("password", ""))
    target = session.safe_next(str(form.get("next", "")), "")
    t = i18n.translator(lang_of(request))
    if not username or not password:
        return _sign_in_again(request, username, target, t("signin.required"))
    try:
        issued = await api(request).sign_in(username, password)
    except ApiError as error:
        message = t("signin.bad") if error.status == 401 else error.detail
        return _sign_in_again(request, username, target, message, error.status)
    if not target:
        target = home_of(await _who(request, issued["access_token"]))
    response = RedirectResponse(target, status_code=303)
    session.start(response, request, issued["access_token"], int(issued.get("expires_in", 1800)))
    return response


async def _who(request: Request, token: str) -> dict:
    return await whoami(Api(request.app.state.web_http, token))


def _sign_in_again(request: Request, username: str, target: str, message: str, status: int = 401) -> Response:
    # The name typed stays; the password never comes back into the page.
    return render(
        request,
        "signin.html",
        status=status,
        next=target,
        notice=None,
        username=username,
        error=message,
        fresh=False,
        **_ways(request),
    )


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    await check_csrf(request)
    response = RedirectResponse("/signin", status_code=303)
    session.end(response, request)
    return response


@router.get("/lang/{code}")
async def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    response = RedirectResponse(session.safe_next(next, "/"), status_code=303)
    response.set_cookie(
        session.LANG_COOKIE,
        i18n.pick(code),
        max_age=session.YEAR,
        samesite="strict",
        httponly=True,
        secure=session.secure(request),
        path="/",
    )
    return response
