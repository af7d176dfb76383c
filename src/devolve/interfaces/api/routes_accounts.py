"""``/api/v1/me…`` and ``/api/v1/users…``: who am I, my API tokens; users (administrators; auditors read)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path

from devolve.domain.errors import InputError
from devolve.interfaces.api.errors import NotFound
from devolve.interfaces.api.models import ERRORS, MeOut, NewToken, NewTokenOut, NewUser, TokenOut, UserActive, UserOut
from devolve.interfaces.api.security import ManagesUsers, OwnTokens, Principal, Published, SeesUsers, State
from devolve.services import accounts

Username = Path(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def me_json(who: Principal) -> dict[str, Any]:
    user = who.user
    return {"username": who.username, "display_name": user.display_name if user else None, "role": who.role.value,
            "organisation": who.organisation, "seat": user.seat if user else None, "via": who.via,
            "permissions": who.permissions()}


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["accounts"], responses=ERRORS)

    @api.get("/me", response_model=MeOut, summary="Who the request is from, and what they may do")
    def me(who: Published) -> dict[str, Any]:
        return me_json(who)

    @api.get("/me/tokens", response_model=list[TokenOut], summary="Your API tokens")
    def tokens(who: OwnTokens, state: State) -> list[dict[str, Any]]:
        return [t.to_json() for t in state.accounts.list_tokens(who.username)]

    @api.post("/me/tokens", status_code=201, response_model=NewTokenOut,
              summary="Make an API token for a script (the secret is shown once)")
    def new_token(body: NewToken, who: OwnTokens, state: State) -> dict[str, Any]:
        secret, token = state.accounts.create_token(who.username, body.name)
        return {**token.to_json(), "token": secret}

    @api.delete("/me/tokens/{token_id}", status_code=204, summary="Revoke one of your API tokens")
    def revoke(token_id: int, who: OwnTokens, state: State) -> None:
        if not state.accounts.revoke_token(who.username, token_id):
            raise NotFound(f"you have no active token {token_id}")

    @api.get("/users", response_model=list[UserOut], summary="Every user, with role and organisation")
    def users(who: SeesUsers, state: State) -> list[dict[str, Any]]:
        return [u.to_json() for u in state.accounts.list_users()]

    @api.post("/users", status_code=201, response_model=UserOut, summary="Add a user of a partner organisation")
    def add(body: NewUser, who: ManagesUsers, state: State) -> dict[str, Any]:
        return accounts.add_user(state.accounts, state.deal, body.username, body.password, role=body.role,
                                 organisation=body.organisation, seat=body.seat, display_name=body.display_name)

    @api.put("/users/{username}/active", response_model=UserOut, summary="Activate or deactivate a user")
    def set_active(body: UserActive, who: ManagesUsers, state: State, username: str = Username) -> dict[str, Any]:
        if state.accounts.get_user(username) is None:
            raise NotFound(f"there is no user called '{username}'")
        if username.lower() == who.username and not body.active:
            raise InputError("you cannot deactivate yourself: ask another administrator")
        return state.accounts.set_active(username, body.active).to_json()

    return api


__all__ = ["me_json", "router"]
