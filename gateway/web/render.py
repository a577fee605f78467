"""Templates and what every page shares: the Jinja environment (autoescaped), the words of the chosen
language, security headers, and the way an expired session goes back to the sign-in page."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.web import dates, i18n, session
from gateway.web.client import Api, ApiError, FreshSignInNeeded, SignInNeeded

log = logging.getLogger("sarabun.web")

TEMPLATES = Path(__file__).parent / "templates"
env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True), trim_blocks=True)

# Only this site's own files; no inline script or style, no framing, nothing sent to other origins.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def lang_of(request: Request) -> str:
    return i18n.pick(request.cookies.get(session.LANG_COOKIE, "th"))


def api(request: Request) -> Api:
    return Api(request.app.state.web_http, session.token(request))


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    lang = lang_of(request)
    html = env.get_template(template).render(
        request=request,
        lang=lang,
        t=i18n.translator(lang),
        label=i18n.labeller(lang),
        dt=lambda value: dates.date_time(value, lang),
        day=lambda value: dates.short_date(value, lang),
        file_size=lambda size: i18n.file_size(size, lang),
        csrf=session.csrf_token(request),
        here=session.here(request),
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    session.remember_csrf(request, response)
    return response


def to_sign_in(request: Request, fresh: bool = False) -> Response:
    """Back to the sign-in page, remembering the page (a GET's own address, a form's page otherwise). `fresh`:
    the session is still good but the action needs a recent sign-in, so the session is kept (the other pages
    still work) and the page says why it asks again."""
    target = session.here(request) if request.method == "GET" else _referring_page(request)
    url = "/signin?" + urlencode({"next": target, "fresh" if fresh else "expired": "1"})
    if wants_json(request):
        response: Response = JSONResponse({"signin": url}, status_code=401)
    else:
        response = RedirectResponse(url, status_code=303)
    if not fresh:
        session.end(response, request)
    return response


def _referring_page(request: Request) -> str:
    referer = request.headers.get("referer", "")
    host = f"{request.url.scheme}://{request.url.netloc}"
    path = referer[len(host) :] if referer.startswith(host) else ""
    return session.safe_next(path, "/")


def problem_page(request: Request, error: ApiError) -> Response:
    if wants_json(request):
        return JSONResponse({"message": error.detail, "errors": error.errors}, status_code=error.status)
    return render(request, "error.html", status=error.status, message=error.detail)


class CsrfRefused(Exception):
    """A form without this browser's CSRF token: possibly sent from another site."""


async def check_csrf(request: Request) -> dict:
    """The submitted form, after its CSRF token (field or header) is checked."""
    form = await request.form()
    submitted = request.headers.get(session.CSRF_HEADER) or form.get(session.CSRF_FIELD)
    if not session.csrf_valid(request, submitted if isinstance(submitted, str) else None):
        raise CsrfRefused()
    return form


def refused(request: Request) -> Response:
    message = i18n.translator(lang_of(request))("csrf")
    if wants_json(request):
        return JSONResponse({"message": message}, status_code=403)
    return render(request, "error.html", status=403, message=message)


class WebRoute(APIRoute):
    """Every web page gets the security headers; an API refusal becomes a readable page, never raw JSON."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInNeeded as needed:
                response = to_sign_in(request, fresh=isinstance(needed, FreshSignInNeeded))
            except ApiError as error:
                response = problem_page(request, error)
            except CsrfRefused:
                response = refused(request)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return handle
