"""The app: the JSON API under ``/api/v1`` and the web pages, one process, one database.

``create_app(settings)`` opens the accounts (migrating the database), the partnership's deal and
its caches, and mounts every router. Each response carries security headers: a Content Security
Policy whose script nonce is fresh per request (plotly.js is served from ``/static``, never a CDN),
``X-Content-Type-Options``, ``Referrer-Policy``, ``X-Frame-Options``.
"""

from __future__ import annotations

import secrets
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import Response
from starlette.datastructures import MutableHeaders

from devolve import __version__
from devolve.interfaces.api import errors, routes_accounts, routes_board, routes_books, routes_deals, routes_jobs
from devolve.interfaces.api.security import cookie_names, set_cookie
from devolve.interfaces.api.settings import AppSettings
from devolve.interfaces.api.state import AppState

DESCRIPTION = """The JSON API of devolve's web app: a devolved health and social care partnership's deal,
neighbourhoods, fair shares, five-year forecasts (long runs as background jobs), indicators and the
pooled fund's books. Published data need no credentials; everything else needs a signed-in session
(browsers; unsafe methods carry the CSRF token in `X-CSRF-Token`) or an API token
(`Authorization: Bearer dvl_…`, from `devolve users token` or the account page). Money in the books
is integer pence; elsewhere pounds, as each field's name says. Roles and endpoints: docs/web.md."""


def _csp(nonce: str) -> str:
    return ("default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self' 'unsafe-inline'; "      # plotly.js sets inline styles on the charts it draws
            "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class SecurityHeaders:
    """Pure ASGI middleware: a fresh script nonce per request (``request.state.nonce``), security
    headers on every response, and the visitor's pre-sign-in CSRF cookie when one was made."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["nonce"] = nonce = secrets.token_urlsafe(16)
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = _csp(nonce)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                headers["X-Frame-Options"] = "DENY"
                if not static and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
                token, who = state.get("new_anonymous_csrf"), state.get("principal")
                if token is not None and who is not None and who.via == "anonymous":
                    settings = scope["app"].state.devolve.settings
                    cookie = Response()
                    set_cookie(cookie, settings, cookie_names(settings).csrf, token, max_age=None)
                    headers.append("set-cookie", cookie.headers["set-cookie"])
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: AppSettings | None = None, *, state: AppState | None = None) -> FastAPI:
    settings = settings or AppSettings()
    state = state or AppState.open(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if settings.warm:
            state.warm()
        yield
        state.close()

    app = FastAPI(title="devolve", version=__version__, description=DESCRIPTION, openapi_url="/openapi.json",
                  docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.devolve = state
    app.add_middleware(SecurityHeaders)
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    errors.install(app)
    deal_ids = state.workspaces.ids()
    app.include_router(routes_deals.router(deal_ids))
    app.include_router(routes_jobs.router(deal_ids))
    app.include_router(routes_books.router())
    app.include_router(routes_board.router())
    app.include_router(routes_accounts.router())
    from devolve.interfaces.web import routes as web_routes
    web_routes.install(app)
    return app


__all__ = ["AppSettings", "create_app"]
