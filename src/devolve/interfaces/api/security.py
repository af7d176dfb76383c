"""Who is asking, and may they? Sessions (cookie), API tokens (``Authorization: Bearer``), CSRF.

* A browser signs in at ``/login`` and gets a session cookie: random, only its SHA-256 stored,
  ``HttpOnly``, ``SameSite=Lax``, ``Secure`` (and the ``__Host-`` prefix) unless served on
  loopback over plain HTTP, idle and absolute expiry.
* A script sends ``Authorization: Bearer dvl_…`` (a token made by ``devolve users token`` or on
  the account page); a bad token is refused (401), never treated as anonymous.
* Every request that changes something and comes with a cookie (a browser) must carry the CSRF
  token — the session's, or before signing in the ``devolve-csrf`` cookie's — in the form field
  ``csrf_token`` or the ``X-CSRF-Token`` header. Token requests need none (no ambient credential).
* Every route declares one :class:`~devolve.accounts.roles.Permission` through :func:`require`;
  what a role may is :mod:`devolve.accounts.roles`' table.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from devolve.accounts.roles import Permission, Role, allows
from devolve.accounts.store import User, same_secret
from devolve.interfaces.api.settings import AppSettings
from devolve.interfaces.api.state import AppState

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

PERMISSION_TEXT = {
    Permission.VIEW_PUBLISHED: "read the published pages",
    Permission.VIEW_INTERNAL: "read the partnership's unpublished pages",
    Permission.VIEW_USERS: "see the list of users",
    Permission.RUN_SCENARIOS: "run forecast scenarios",
    Permission.POST_BOOKS: "post to the books",
    Permission.CLOSE_YEAR: "close a year of the books",
    Permission.MANAGE_USERS: "manage users",
    Permission.PROPOSE: "table proposals to the board",
    Permission.VOTE: "vote on the board",
    Permission.GOVERN: "close votes or enact decisions",
    Permission.OWN_TOKENS: "manage API tokens",
}


class NotSignedIn(Exception):
    """The request needs a signed-in user (API: 401; pages: a redirect to the sign-in page)."""


class BadToken(Exception):
    """An ``Authorization`` header that is not a valid, active API token (401)."""


class Forbidden(Exception):
    """Signed in, but the role (or organisation, or seat) may not do this (403)."""


class CsrfFailed(Forbidden):
    def __init__(self) -> None:
        super().__init__("the form's security token is missing or out of date: reload the page and try again")


@dataclass(frozen=True)
class CookieNames:
    session: str
    csrf: str


def cookie_names(settings: AppSettings) -> CookieNames:
    if settings.secure_cookies:
        return CookieNames("__Host-devolve-session", "__Host-devolve-csrf")
    return CookieNames("devolve-session", "devolve-csrf")


def set_cookie(response: Response, settings: AppSettings, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=settings.secure_cookies, httponly=True,
                        samesite="lax")


@dataclass(frozen=True)
class Principal:
    """The user behind a request (``None``: an anonymous visitor, who has the public role)."""

    user: User | None
    via: str                    # "anonymous", "session" or "token"
    csrf_token: str | None

    @property
    def role(self) -> Role:
        return Role.PUBLIC if self.user is None else self.user.role

    @property
    def organisation(self) -> str | None:
        return None if self.user is None else self.user.organisation

    @property
    def username(self) -> str | None:
        return None if self.user is None else self.user.username

    def can(self, permission: Permission) -> bool:
        return allows(self.role, permission)

    def permissions(self) -> list[str]:
        return sorted(p.value for p in Permission if self.can(p))


def app_state(request: Request) -> AppState:
    return request.app.state.devolve


async def _state_dependency(request: Request) -> AppState:
    """The app's state for a route (async: a plain function would cost a worker-thread hop)."""
    return request.app.state.devolve


def anonymous_csrf(request: Request) -> str:
    """The visitor's pre-sign-in CSRF token (from the cookie, or a new one the middleware will set)."""
    token = getattr(request.state, "anonymous_csrf", None)
    if token is None:
        names = cookie_names(app_state(request).settings)
        token = request.cookies.get(names.csrf)
        if not token or len(token) > 100:
            token = secrets.token_urlsafe(32)
            request.state.new_anonymous_csrf = token
        request.state.anonymous_csrf = token
    return token


async def current_principal(request: Request) -> Principal:
    """The request's principal. A visitor with neither a token nor a session cookie is answered
    without touching the database (and without a thread hop): the published pages under load."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    state = app_state(request)
    header = request.headers.get("authorization")
    session_cookie = request.cookies.get(cookie_names(state.settings).session)
    if header is not None:
        scheme, _, secret = header.partition(" ")
        user = await run_in_threadpool(state.accounts.token_user, secret.strip()) \
            if scheme.lower() == "bearer" else None
        if user is None:
            raise BadToken()
        who = Principal(user, "token", None)
    else:
        session = await run_in_threadpool(state.accounts.session_user, session_cookie) if session_cookie else None
        who = (Principal(session[0], "session", session[1]) if session is not None
               else Principal(None, "anonymous", anonymous_csrf(request)))
    request.state.principal = who
    return who


async def check_csrf(request: Request, who: Principal) -> None:
    sent = request.headers.get(CSRF_HEADER)
    kind = request.headers.get("content-type", "")
    if sent is None and kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not same_secret(sent, who.csrf_token):
        raise CsrfFailed()


def require(permission: Permission):
    """A dependency: the principal, when their role has ``permission`` (and, for a browser's
    request that changes something, the CSRF token matches)."""

    async def dependency(request: Request, who: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not who.can(permission):
            if who.user is None:
                raise NotSignedIn()
            raise Forbidden(f"your role ({who.role.title}) may not {PERMISSION_TEXT[permission]}")
        if request.method not in SAFE_METHODS and who.via != "token":
            await check_csrf(request, who)
        return who

    dependency.permission = permission        # read by the authorisation-matrix test and the docs
    return dependency


Published = Annotated[Principal, Depends(require(Permission.VIEW_PUBLISHED))]
Internal = Annotated[Principal, Depends(require(Permission.VIEW_INTERNAL))]
Scenarios = Annotated[Principal, Depends(require(Permission.RUN_SCENARIOS))]
PostsBooks = Annotated[Principal, Depends(require(Permission.POST_BOOKS))]
ClosesYear = Annotated[Principal, Depends(require(Permission.CLOSE_YEAR))]
SeesUsers = Annotated[Principal, Depends(require(Permission.VIEW_USERS))]
ManagesUsers = Annotated[Principal, Depends(require(Permission.MANAGE_USERS))]
OwnTokens = Annotated[Principal, Depends(require(Permission.OWN_TOKENS))]
Proposes = Annotated[Principal, Depends(require(Permission.PROPOSE))]
Votes = Annotated[Principal, Depends(require(Permission.VOTE))]
Governs = Annotated[Principal, Depends(require(Permission.GOVERN))]
State = Annotated[AppState, Depends(_state_dependency)]
