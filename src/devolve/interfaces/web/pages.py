"""Rendering pages: the Jinja2 environment, the layout's context (who is signed in, the CSRF token,
the navigation, the script nonce) and the error page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from devolve.accounts.roles import Permission
from devolve.domain.money import format_gbp
from devolve.interfaces.api.security import Principal, anonymous_csrf, cookie_names

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
_SCRIPT = re.compile(r"<script(?=[\s>])")

#: The main navigation: (label, path, permission needed to see the link).
NAV = (("Overview", "/", Permission.VIEW_PUBLISHED),
       ("Neighbourhoods", "/neighbourhoods", Permission.VIEW_PUBLISHED),
       ("Fair shares", "/fair-shares", Permission.VIEW_PUBLISHED),
       ("Forecast", "/forecast", Permission.VIEW_PUBLISHED),
       ("Indicators", "/indicators", Permission.VIEW_PUBLISHED),
       ("Books", "/books", Permission.VIEW_PUBLISHED),
       ("Board", "/board", Permission.VIEW_PUBLISHED),
       ("Users", "/admin/users", Permission.VIEW_USERS))


def _pence(value: Any) -> str:
    return "–" if value is None else format_gbp(int(value), unit="pounds")


def _pounds(value: Any) -> str:
    return "–" if value is None else format_gbp(int(round(float(value) * 100)), unit="pounds")


def _short(value: Any) -> str:
    return "–" if value is None else format_gbp(int(round(float(value) * 100)))


def _pct(value: Any, digits: int = 1) -> str:
    return "–" if value is None else f"{float(value) * 100:+.{digits}f}%"


def _share(value: Any) -> str:
    return "–" if value is None else f"{float(value):.0%}"


def _number(value: Any, digits: int = 0) -> str:
    return "–" if value is None else f"{float(value):,.{digits}f}"


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters.update(pence=_pence, pounds=_pounds, short=_short, pct=_pct, share=_share, number=_number)
    return env


ENV = _environment()


def with_nonce(fragment: str, nonce: str) -> Markup:
    """A chart's HTML (a div and an inline script from Plotly) with the page's script nonce added,
    so the Content Security Policy lets that script, and no injected one, run."""
    return Markup(_SCRIPT.sub(f'<script nonce="{nonce}"', fragment))


def context(request: Request, who: Principal | None = None) -> dict[str, Any]:
    state = request.app.state.devolve
    if who is None:
        who = getattr(request.state, "principal", None) or _signed_in(request)
    nonce = getattr(request.state, "nonce", "")
    path = request.url.path
    nav = [{"label": label, "href": href, "current": path == href or (href != "/" and path.startswith(href + "/"))}
           for label, href, permission in NAV if who.can(permission)]
    return {"request": request, "who": who, "csrf": who.csrf_token or "", "nonce": nonce, "nav": nav,
            "deal": state.deal, "chart": lambda html: with_nonce(html, nonce), "Permission": Permission}


def _signed_in(request: Request) -> Principal:
    """The session's user for a page drawn before the route ran (an error page); else anonymous."""
    state = request.app.state.devolve
    session = state.accounts.session_user(request.cookies.get(cookie_names(state.settings).session))
    if session is not None:
        return Principal(session[0], "session", session[1])
    return Principal(None, "anonymous", anonymous_csrf(request))


def render(request: Request, template: str, *, status: int = 200, who: Principal | None = None,
           headers: dict[str, str] | None = None, **values: Any) -> HTMLResponse:
    page = ENV.get_template(template).render({**context(request, who), **values})
    return HTMLResponse(page, status_code=status, headers=headers)


ERROR_TITLES = {400: "There is a problem", 401: "Sign in", 403: "You cannot do this",
                404: "Page not found", 409: "Not ready yet", 422: "The entries were not accepted",
                429: "Too many attempts", 500: "Sorry, there is a problem with the service"}


def error_page(request: Request, status: int, message: str, *, problems: list[dict] | None = None,
               headers: dict[str, str] | None = None) -> HTMLResponse:
    return render(request, "error.html", status=status, headers=headers, title=ERROR_TITLES.get(status, "Error"),
                  message=message, problems=problems or [], status_code=status)
