"""Signing in and out, one's own account and API tokens, and the users page (administrators manage,
auditors read)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from devolve.accounts.roles import Role
from devolve.accounts.store import SignInRefused, TooManyAttempts
from devolve.domain.errors import InputError
from devolve.interfaces.api.errors import NotFound
from devolve.interfaces.api.security import (ManagesUsers, OwnTokens, Principal, Published, SeesUsers, State,
                                             cookie_names, set_cookie)
from devolve.interfaces.web.pages import render
from devolve.services import accounts


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (no open redirect)."""
    target = (target or "/").strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target or "\n" in target or "\r" in target:
        return "/"
    return target


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def router() -> APIRouter:
    web = APIRouter(include_in_schema=False)

    @web.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, who: Published, next_: Annotated[str | None, Query(alias="next",
                                                                                          max_length=500)] = None):
        return render(request, "login.html", who=who, title="Sign in", next=safe_next(next_), username="", error=None)

    @web.post("/login")
    def login(request: Request, who: Published, state: State, username: Annotated[str, Form(max_length=200)] = "",
              password: Annotated[str, Form(max_length=1024)] = "",
              next_: Annotated[str, Form(alias="next", max_length=500)] = "/") -> Response:
        try:
            user = state.accounts.authenticate(username, password, _client(request))
        except SignInRefused as exc:
            return render(request, "login.html", who=who, title="Sign in", next=safe_next(next_),
                          username=username[:64], error=str(exc).capitalize(), status=401)
        except TooManyAttempts as exc:
            return render(request, "login.html", who=who, title="Sign in", next=safe_next(next_),
                          username=username[:64], error=str(exc).capitalize(), status=429,
                          headers={"Retry-After": str(exc.retry_after)})
        if who.via == "session":
            state.accounts.end_session(request.cookies.get(cookie_names(state.settings).session))
        session = state.accounts.start_session(user)
        response = RedirectResponse(safe_next(next_), status_code=303)
        set_cookie(response, state.settings, cookie_names(state.settings).session, session.token,
                   max_age=int(state.accounts.sessions.absolute_s))
        return response

    @web.post("/logout")
    def logout(request: Request, who: Published, state: State) -> Response:
        names = cookie_names(state.settings)
        state.accounts.end_session(request.cookies.get(names.session))
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(names.session, path="/", secure=state.settings.secure_cookies, httponly=True,
                               samesite="lax")
        return response

    def account_page(request: Request, who: Principal, state, new_token=None) -> HTMLResponse:
        tokens = [t.to_json() for t in state.accounts.list_tokens(who.username)]
        return render(request, "account.html", who=who, title="Your account", tokens=tokens, new_token=new_token)

    @web.get("/account", response_class=HTMLResponse)
    def account(request: Request, who: OwnTokens, state: State) -> HTMLResponse:
        return account_page(request, who, state)

    @web.post("/account/tokens", response_class=HTMLResponse)
    def new_token(request: Request, who: OwnTokens, state: State,
                  name: Annotated[str, Form(max_length=200)]) -> HTMLResponse:
        secret, token = state.accounts.create_token(who.username, name)
        return account_page(request, who, state, new_token={"name": token.name, "token": secret})

    @web.post("/account/tokens/{token_id}/revoke")
    def revoke(token_id: int, who: OwnTokens, state: State) -> Response:
        if not state.accounts.revoke_token(who.username, token_id):
            raise NotFound(f"you have no active token {token_id}")
        return RedirectResponse("/account", status_code=303)

    def users_page(request: Request, who: Principal, state, added: str | None = None) -> HTMLResponse:
        from devolve.accounts.roles import Permission
        return render(request, "admin_users.html", who=who, title="Users", users=state.accounts.list_users(),
                      manage=who.can(Permission.MANAGE_USERS),
                      roles=[r for r in Role if r is not Role.PUBLIC] + [Role.PUBLIC],
                      organisations=accounts.organisations(state.deal), seats=list(state.deal.governance.members),
                      added=added)

    @web.get("/admin/users", response_class=HTMLResponse)
    def users(request: Request, who: SeesUsers, state: State) -> HTMLResponse:
        return users_page(request, who, state)

    @web.post("/admin/users", response_class=HTMLResponse)
    def add_user(request: Request, who: ManagesUsers, state: State, username: Annotated[str, Form(max_length=64)],
                 password: Annotated[str, Form(max_length=1024)], role: Annotated[str, Form(max_length=32)],
                 organisation: Annotated[str, Form(max_length=200)],
                 display_name: Annotated[str, Form(max_length=200)] = "",
                 seat: Annotated[str, Form(max_length=200)] = "") -> HTMLResponse:
        added = accounts.add_user(state.accounts, state.deal, username, password, role=role, organisation=organisation,
                                  seat=seat or None, display_name=display_name or None)
        return users_page(request, who, state, added=added["username"])

    @web.post("/admin/users/{username}/active")
    def set_active(username: str, who: ManagesUsers, state: State,
                   active: Annotated[str, Form(max_length=5)]) -> Response:
        if state.accounts.get_user(username) is None:
            raise NotFound(f"there is no user called '{username}'")
        if username.lower() == who.username and active != "true":
            raise InputError("you cannot deactivate yourself: ask another administrator")
        state.accounts.set_active(username, active == "true")
        return RedirectResponse("/admin/users", status_code=303)

    return web
