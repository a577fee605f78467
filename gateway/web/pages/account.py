"""One-time sign-in links and one's own password. A link is used only by the button on its page (a POST), so
a mail scanner or chat preview that fetches the address does not use it up."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway.people.rules import MIN_PASSWORD
from gateway.web import i18n, session
from gateway.web.client import API, Api, ApiError
from gateway.web.pages.common import home_of, whoami
from gateway.web.render import WebRoute, api, check_csrf, lang_of, problem_page, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PASSWORD_PAGE = "/account/password"


@router.get("/auth/link/{token}")
async def link_page(request: Request, token: str) -> Response:
    return render(request, "link.html", token=token[:200])


@router.post("/auth/link/{token}")
async def use_link(request: Request, token: str) -> Response:
    await check_csrf(request)
    answer = await request.app.state.web_http.post(f"{API}/auth/link", json={"token": token[:200]})
    if answer.status_code != 200:
        return problem_page(request, ApiError(answer.status_code, answer.json()))
    issued = answer.json()
    if request.app.state.settings.local_passwords:
        target = PASSWORD_PAGE
    else:
        target = home_of(await whoami(_api_with(request, issued["access_token"])))
    response = RedirectResponse(target, status_code=303)
    session.start(response, request, issued["access_token"], int(issued["expires_in"]))
    return response


def _api_with(request: Request, token: str) -> Api:
    return Api(request.app.state.web_http, token)


@router.get(PASSWORD_PAGE)
async def password_page(request: Request) -> Response:
    await whoami(api(request))  # signed in, or to the sign-in page
    return render(request, "password.html", min_length=MIN_PASSWORD, error=None, done=False)


@router.post(PASSWORD_PAGE)
async def set_password(request: Request) -> Response:
    form = await check_csrf(request)
    new, again = str(form.get("new_password", "")), str(form.get("again", ""))
    if new != again:
        message = i18n.translator(lang_of(request))("password.mismatch")
        return render(request, "password.html", status=422, min_length=MIN_PASSWORD, error=message, done=False)
    try:
        await api(request).post("/me/password", {"new_password": new})
    except ApiError as error:
        return render(
            request, "password.html", status=error.status, min_length=MIN_PASSWORD, error=error.detail, done=False
        )
    return render(request, "password.html", min_length=MIN_PASSWORD, error=None, done=True)
