"""The board's pages: members and the decision log (anyone), a proposal with its votes (staff), the
vote form (a board member, for their own seat), closing and enacting (administrators)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from devolve.domain.errors import InputError
from devolve.interfaces.api.routes_board import ProposalId, board_members, db, seat_of
from devolve.interfaces.api.security import Governs, Internal, Proposes, Published, State, Votes
from devolve.interfaces.web.pages import render
from devolve.services import governance

DateField = Annotated[str, Form(max_length=10)]
TextField = Annotated[str, Form(max_length=2000)]
KINDS = {"fund_scheme": "Fund a scheme from the transformation fund", "virement": "Move budget between lines"}


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else date.today()
    except ValueError:
        raise InputError(f"the date must be written YYYY-MM-DD; got '{text}'") from None


def router() -> APIRouter:
    web = APIRouter(include_in_schema=False)

    @web.get("/board", response_class=HTMLResponse)
    def board(request: Request, who: Published, state: State) -> HTMLResponse:
        from devolve.accounts.roles import Permission
        everything = who.can(Permission.VIEW_INTERNAL)
        return render(request, "board.html", who=who, title="Board", m=board_members(state),
                      proposals=governance.decisions(db(state), include_open=everything), everything=everything)

    @web.get("/board/verify", response_class=HTMLResponse)
    def verify(request: Request, who: Published, state: State) -> HTMLResponse:
        return render(request, "board_verify.html", who=who, title="Check the decision log",
                      v=governance.verify(db(state)))

    @web.get("/board/proposals/{pid}", response_class=HTMLResponse)
    def proposal(request: Request, who: Internal, state: State, pid: str = ProposalId) -> HTMLResponse:
        p = governance.proposal(db(state), pid)
        seat = who.user.seat if who.user else None
        voted = {v["member"]: v["choice"] for v in p.get("vote_log", [])}
        return render(request, "board_proposal.html", who=who, title=f"Proposal {pid}", p=p, seat=seat,
                      my_vote=voted.get(seat), today=date.today().isoformat())

    @web.get("/board/propose", response_class=HTMLResponse)
    def propose_form(request: Request, who: Proposes, state: State) -> HTMLResponse:
        deal = state.deal
        return render(request, "board_propose.html", who=who, title="Table a proposal", kinds=KINDS,
                      schemes=[(s.id, s.name) for s in deal.schemes], years=[y.label for y in deal.financial_years],
                      seat=who.user.seat if who.user else None, today=date.today().isoformat())

    @web.post("/board/propose")
    def propose(who: Proposes, state: State, kind: Annotated[str, Form(max_length=20)], title: TextField,
                on: DateField = "", year: Annotated[str, Form(max_length=7)] = "",
                amount_gbp: Annotated[str, Form(max_length=20)] = "", scheme: Annotated[str, Form(max_length=80)] = "",
                line_from: Annotated[str, Form(max_length=120)] = "", line_to: Annotated[str, Form(max_length=120)] = "",
                description: TextField = "", evidence: TextField = "", draft: Annotated[str, Form(max_length=5)] = ""
                ) -> RedirectResponse:
        if kind not in KINDS:
            raise InputError(f"choose what the proposal does: {', '.join(KINDS.values())}")
        document = {"kind": kind, "title": title, "proposer": seat_of(who), "description": description,
                    "evidence": evidence, "draft": draft == "yes"}
        if kind == "fund_scheme":
            document.update(scheme=scheme, amounts_gbp={year: amount_gbp})
        else:
            document.update({"year": year, "from": line_from, "to": line_to, "amount_gbp": amount_gbp})
        made = governance.propose(db(state), document, on=_date(on), data_dir=state.settings.data_dir, deal=state.deal)
        return RedirectResponse(f"/board/proposals/{made['id']}", status_code=303)

    @web.post("/board/proposals/{pid}/vote")
    def vote(who: Votes, state: State, choice: Annotated[str, Form(max_length=10)], on: DateField = "",
             pid: str = ProposalId) -> RedirectResponse:
        if choice not in ("yes", "no", "abstain"):
            raise InputError("choose yes, no or abstain")
        governance.vote(db(state), pid, seat_of(who), choice, on=_date(on))
        return RedirectResponse(f"/board/proposals/{pid}", status_code=303)

    @web.post("/board/proposals/{pid}/close")
    def close(who: Governs, state: State, on: DateField = "", pid: str = ProposalId) -> RedirectResponse:
        governance.close(db(state), pid, on=_date(on))
        return RedirectResponse(f"/board/proposals/{pid}", status_code=303)

    @web.post("/board/proposals/{pid}/enact")
    def enact(who: Governs, state: State, on: DateField = "", pid: str = ProposalId) -> RedirectResponse:
        governance.enact(db(state), pid, on=_date(on))
        return RedirectResponse(f"/board/proposals/{pid}", status_code=303)

    return web
