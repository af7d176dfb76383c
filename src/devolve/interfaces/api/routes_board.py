"""``/api/v1/board…``: the partnership board — its members and rules, proposals, votes, decisions.

Published: the board's members and rules, the decision log (every decided proposal) and the log's
audit check. Staff read every proposal, open ones included. Board members table proposals and vote
**for their own seat only** (the seat is their account's; no request can name another). The board's
secretariat (administrators) closes votes and enacts decisions. Every step goes through
:mod:`devolve.services.governance`, so the rules (quorum, reserved matters, conflicts of interest,
delegation, the double majority) are the same as ``devolve board …``'s.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from devolve.interfaces.api.models import ERRORS
from devolve.interfaces.api.security import Forbidden, Governs, Internal, Principal, Proposes, Published, State, Votes
from devolve.interfaces.api.state import AppState
from devolve.services import governance
from devolve.services.workspace import Memo

ProposalId = Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")


class Dated(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: date | None = Field(None, description="The date it happens (default: today)")


class NewProposal(Dated):
    proposal: dict[str, Any] = Field(description="The proposal, as a proposal file holds it (docs/web.md)")


class Vote(Dated):
    choice: Literal["yes", "no", "abstain"]


class Close(Dated):
    delegated: bool = Field(False, description="Approve under the officers' delegation (below its limit) "
                                               "instead of counting the board's votes")


_members = Memo()


def board_members(state: AppState) -> dict[str, Any]:
    return _members.get(state.deal.id, lambda: governance.members(state.deal.pack_path,
                                                                   data_dir=state.settings.data_dir))


def seat_of(who: Principal) -> str:
    if who.user is None or not who.user.seat:
        raise Forbidden("your account has no seat on the board")
    return who.user.seat


def db(state: AppState) -> str:
    return state.settings.db_url


def today(on: date | None) -> date:
    return on or date.today()


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1/board", tags=["board"], responses=ERRORS)

    @api.get("", summary="The board: members, seats, weights, groups and voting rules")
    def members(who: Published, state: State) -> dict[str, Any]:
        return board_members(state)

    @api.get("/decisions", summary="The decision log: every decided proposal, with votes and what it enacted")
    def decisions(who: Published, state: State) -> list[dict[str, Any]]:
        return governance.decisions(db(state))

    @api.get("/verify", summary="Recompute the decision log's hash chain and its links to the books")
    def verify(who: Published, state: State) -> dict[str, Any]:
        return governance.verify(db(state))

    @api.get("/proposals", summary="Every proposal, open and draft ones included")
    def proposals(who: Internal, state: State) -> list[dict[str, Any]]:
        return governance.decisions(db(state), include_open=True)

    @api.get("/proposals/{pid}", summary="One proposal: its financial effect, votes and status")
    def proposal(who: Internal, state: State, pid: str = ProposalId) -> dict[str, Any]:
        return governance.proposal(db(state), pid)

    @api.post("/proposals", status_code=201, summary="Table a proposal (opened for votes unless a draft)")
    def propose(body: NewProposal, who: Proposes, state: State) -> dict[str, Any]:
        return governance.propose(db(state), body.proposal, on=today(body.on), data_dir=state.settings.data_dir,
                                  deal=state.deal)

    @api.post("/proposals/{pid}/open", summary="Open a draft for votes")
    def open_draft(body: Dated, who: Proposes, state: State, pid: str = ProposalId) -> dict[str, Any]:
        return governance.open_proposal(db(state), pid, on=today(body.on))

    @api.post("/proposals/{pid}/votes", status_code=201, summary="Vote for your own seat")
    def vote(body: Vote, who: Votes, state: State, pid: str = ProposalId) -> dict[str, Any]:
        return governance.vote(db(state), pid, seat_of(who), body.choice, on=today(body.on))

    @api.post("/proposals/{pid}/close", summary="Close the vote and record the outcome")
    def close(body: Close, who: Governs, state: State, pid: str = ProposalId) -> dict[str, Any]:
        return governance.close(db(state), pid, on=today(body.on), officer=who.username if body.delegated else None)

    @api.post("/proposals/{pid}/enact", summary="Carry out an approved decision (its ledger entries or changes)")
    def enact(body: Dated, who: Governs, state: State, pid: str = ProposalId) -> dict[str, Any]:
        return governance.enact(db(state), pid, on=today(body.on))

    return api


__all__ = ["board_members", "router", "seat_of", "today"]
