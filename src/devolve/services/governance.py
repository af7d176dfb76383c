"""Use cases of the partnership board: what `devolve board …` (and the web app) call.

The board's decision log lives in the same database as the books (:mod:`devolve.governance.store`).
Each function takes the database URL and returns JSON-ready data. The financial effect a proposal
carries is worked out here by the relevant engine: the forecast (the gap with and without a scheme,
or with and without a parameter change), the books (available funds on the lines of a virement)
and the estate register (a building's running cost).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from devolve.domain.errors import DevolveError
from devolve.domain.records import Deal
from devolve.domain.scenario import ParameterChange, Scenario
from devolve.governance.accountability import accountability_table
from devolve.governance.demo import demo_plan
from devolve.governance.exports import EXPORT_FORMATS, log_csv, log_html
from devolve.governance.log import BoardState, LogEntry
from devolve.governance.proposals import build_proposal, proposal_doc, read_proposal_file
from devolve.governance.records import DELEGABLE, BoardRules, GovernanceError, Proposal
from devolve.governance.store import BoardLog
from devolve.governance.voting import check_vote, tally
from devolve.ledger import accounts as acc
from devolve.ledger import queries
from devolve.ledger.records import Posting, Transaction, year_end, year_start
from devolve.ledger.store import Books
from devolve.packs.loader import load_deal

#: Monte Carlo runs behind a proposal's financial effect (a board paper, not the full forecast).
EFFECT_RUNS = 200


def members(deal_ref: str | Path, *, data_dir: str | Path | None = None) -> dict[str, Any]:
    """The board of a deal as its pack sets it: members, rules and each member's group."""
    deal = load_deal(deal_ref, data_dir=data_dir)
    return _describe(BoardRules.from_deal(deal))


def _describe(rules: BoardRules) -> dict[str, Any]:
    rows = []
    for m in rules.members:
        group = rules.group_of(m)
        rows.append({"member": m.partner, "name": m.name, "type": m.type, "representative": m.representative,
                     "weight": m.weight, "group": None if group is None else " / ".join(rules.double_majority_groups[group])})
    return {"deal": rules.deal_id, "board": rules.board, "chair": rules.chair, "voting_rule": rules.voting_rule,
            "quorum": rules.quorum, "reserved_matters": list(rules.reserved_matters),
            "national_consent": rules.national_consent, "delegation_limit_gbp": rules.delegation_limit / 100,
            "double_majority_groups": [list(g) for g in rules.double_majority_groups],
            "weights_from": rules.weights_from, "transformation_fund_gbp": rules.fund_total / 100,
            "source": rules.source, "members": rows}


def setup(db_url: str, deal: Deal, on: date) -> bool:
    """Set up the deal's board beside its books (once); whether it was set up now."""
    log = BoardLog.connect(db_url)
    try:
        return log.setup(BoardRules.from_deal(deal), on)
    finally:
        log.dispose()


def _open(db_url: str) -> BoardLog:
    return BoardLog.connect(db_url)


def _fund_used(books: Books, state: BoardState, exclude: str | None = None) -> int:
    """Pence of the transformation fund budgeted to schemes, or approved for them and not yet enacted."""
    with books.engine.connect() as connection:
        used = sum(balance for account, _year, balance in queries.balance_rows(connection)
                   if account.startswith("Budget:Schemes:"))
    for pid, s in state.proposals.items():
        if pid != exclude and s.proposal.kind == "fund_scheme" and s.status in ("open", "draft", "approved"):
            used += s.proposal.amount
    return used


def propose(db_url: str, source: str | Path | dict, *, on: date, data_dir: str | Path | None = None,
            effect_runs: int = EFFECT_RUNS, deal: Deal | None = None) -> dict[str, Any]:
    """Record a proposal (from a YAML file, or a mapping) with its financial effect; open it unless a draft."""
    doc = proposal_doc(source) if isinstance(source, dict) else read_proposal_file(source)
    log = _open(db_url)
    books = Books.open(db_url)
    try:
        snapshot = log.state()
        if deal is None or deal.id != snapshot.rules.deal_id:
            deal = load_deal(snapshot.rules.deal_id, data_dir=data_dir)

        def build(state: BoardState, pid: str) -> tuple[Proposal, bool]:
            left = state.rules.fund_total - _fund_used(books, state)
            return build_proposal(doc, pid=pid, deal=deal, rules=state.rules, books=books.rules, on=on, fund_left=left)

        draft_proposal, _ = build(snapshot, snapshot.next_id())          # check first (outside the lock) …
        effect = financial_effect(deal, books, snapshot, draft_proposal, runs=effect_runs)

        def step(state: BoardState, seq: int):
            proposal, draft = build(state, state.next_id())           # … and again under it
            proposal = replace(proposal, financial_effect=effect)
            status = "draft" if draft else "open"
            return [LogEntry(seq, "propose", proposal.id, proposal.proposed_on,
                             {"proposal": proposal.to_dict(), "status": status})], proposal.id

        pid = log.write(step)
        return _proposal(log, pid)
    finally:
        books.dispose()
        log.dispose()


def financial_effect(deal: Deal, books: Books, state: BoardState, proposal: Proposal, *, runs: int) -> dict[str, Any]:
    """What the relevant engine says ``proposal`` is worth (pounds)."""
    if proposal.kind == "fund_scheme":
        scheme = proposal.changes[0]["scheme"]
        left = state.rules.fund_total - _fund_used(books, state)
        effect = _forecast_pair(deal, runs, without=replace(deal, schemes=tuple(s for s in deal.schemes if s.id != scheme)))
        row = next((r for r in effect.pop("with_schemes") if r["id"] == scheme), {})
        return {**effect, "scheme": scheme, "scheme_net_benefit_p50_gbp": row.get("net_benefit_p50_gbp"),
                "scheme_roi_p50": row.get("roi_p50"), "fund_left_before_gbp": left / 100,
                "fund_left_after_gbp": (left - proposal.amount) / 100,
                "synthetic": "the scheme's costs and effects are synthetic (schemes.yaml)"}
    if proposal.kind == "change_parameter":
        changes = tuple(ParameterChange(c["path"], date.fromisoformat(c["from"]), c["value"], c["note"])
                        for c in proposal.changes)
        effect = _forecast_pair(deal, runs, extra=Scenario(proposal.id, changes))
        effect.pop("with_schemes")
        return effect
    if proposal.kind == "virement":
        t = proposal.transactions[0]
        (to_account, pence), (from_account, _) = t["postings"]
        with books.engine.connect() as connection:
            balances = {(a, y): b for a, y, b in queries.balance_rows(connection)}

        def available(line: str) -> float:
            year = t["year"]
            return (balances.get((acc.budget(line), year), 0) - balances.get((acc.commitment(line), year), 0)
                    - balances.get((acc.actual(line), year), 0)) / 100

        src, dst = from_account.removeprefix("Budget:"), to_account.removeprefix("Budget:")
        return {"engine": "ledger", "year": t["year"], "amount_gbp": pence / 100,
                "from_line": src, "from_available_before_gbp": available(src),
                "from_available_after_gbp": available(src) - pence / 100,
                "to_line": dst, "to_available_before_gbp": available(dst),
                "to_available_after_gbp": available(dst) + pence / 100}
    if proposal.kind == "estate_change":
        c = proposal.changes[0]
        return {"engine": "estate", "action": c["action"], "building": c["building"],
                "running_cost_gbp_a_year": c["running_cost_gbp"],
                "saving_gbp_a_year": c["running_cost_gbp"] if c["action"] == "release" else None,
                "synthetic": "the estate register is synthetic" if c["synthetic"] else ""}
    return {"engine": None, "note": "no direct financial effect: a target or exemption changes what is measured"}


def _forecast_pair(deal: Deal, runs: int, *, without: Deal | None = None, extra: Scenario | None = None) -> dict:
    from devolve.services.forecast import resolve_scenario, run_forecast, scenario_names
    base = resolve_scenario(deal, "plan" if "plan" in scenario_names(deal) else None)
    if without is not None:
        a, b = run_forecast(deal, scenario=base, runs=runs), run_forecast(without, scenario=base, runs=runs)
    else:
        a, b = run_forecast(deal, scenario=base + extra, runs=runs), run_forecast(deal, scenario=base, runs=runs)
    ja, jb = a.to_json(), b.to_json()
    last = ja["years"][-1]["year"]
    return {"engine": "forecast", "scenario": base.name, "runs": runs, "final_year": last,
            "cumulative_gap_p50_gbp_with": round(ja["years"][-1]["cumulative_gap_p50_gbp"], 2),
            "cumulative_gap_p50_gbp_without": round(jb["years"][-1]["cumulative_gap_p50_gbp"], 2),
            "probability_of_balance_with": ja["probability_of_balance"],
            "probability_of_balance_without": jb["probability_of_balance"],
            "data": ja["data"], "with_schemes": ja["schemes"]}


def _proposal(log: BoardLog, pid: str) -> dict[str, Any]:
    return log.state().get(pid).as_dict()


def _record(db_url: str, pid: str, step) -> dict[str, Any]:
    """Append what ``step`` returns for proposal ``pid`` under the log's write lock; the proposal after."""
    log = _open(db_url)
    try:
        log.write(step)
        return _proposal(log, pid)
    finally:
        log.dispose()


def open_proposal(db_url: str, pid: str, *, on: date) -> dict[str, Any]:
    """Open a draft for votes."""
    def step(state: BoardState, seq: int):
        s = state.get(pid)
        if s.status != "draft":
            raise GovernanceError(f"{pid} is {s.status}, not a draft: only drafts are opened")
        return [LogEntry(seq, "open", pid, on, {})], None
    return _record(db_url, pid, step)


def vote(db_url: str, pid: str, member: str, choice: str, *, on: date) -> dict[str, Any]:
    """Record ``member``'s vote for their seat on an open proposal."""
    def step(state: BoardState, seq: int):
        s = state.get(pid)
        if s.status != "open":
            raise GovernanceError(f"{pid} is {s.status}: votes are taken only while a proposal is open")
        check_vote(state.rules, member, choice, set(s.proposal.interests))
        if member in s.votes:
            raise GovernanceError(f"{member} has already voted on {pid} ({s.votes[member]})")
        m = state.rules.member(member)
        return [LogEntry(seq, "vote", pid, on, {"member": member, "choice": choice,
                                                "representative": m.representative})], None
    return _record(db_url, pid, step)


def close(db_url: str, pid: str, *, on: date, officer: str | None = None) -> dict[str, Any]:
    """Close the vote and record the outcome; or, with ``officer``, approve under delegation."""
    def step(state: BoardState, seq: int):
        s = state.get(pid)
        if s.status != "open":
            raise GovernanceError(f"{pid} is {s.status}: only an open proposal can be closed")
        rules, p = state.rules, s.proposal
        reserved = p.kind in rules.reserved_matters
        if officer:
            if reserved or p.kind not in DELEGABLE:
                raise GovernanceError(f"{pid} ({p.kind}) is not delegated to officers: the board must vote")
            if p.amount >= rules.delegation_limit:
                raise GovernanceError(f"{pid} is for £{p.amount / 100:,.2f}, not below the delegation limit of "
                                      f"£{rules.delegation_limit / 100:,.2f}: the board must vote")
            result = {"outcome": "approved", "reasons": [f"approved under delegation by {officer} (below "
                                                         f"£{rules.delegation_limit / 100:,.0f})"],
                      "entitled": 0, "voted": 0, "yes": 0, "no": 0, "abstain": 0, "quorum_met": True,
                      "weight_yes": 0.0, "weight_no": 0.0, "groups": []}
            return [LogEntry(seq, "close", pid, on, {"tally": result, "decided_by": f"officer: {officer}"})], None
        result = tally(rules, s.votes, reserved=reserved, conflicted=set(p.interests)).as_dict()
        return [LogEntry(seq, "close", pid, on, {"tally": result, "decided_by": "board"})], None
    return _record(db_url, pid, step)


def _transactions(p: Proposal, on: date) -> list[Transaction]:
    out = []
    for t in p.transactions:
        first, last = year_start(t["year"]), year_end(t["year"])
        if on > last:
            raise GovernanceError(f"{p.id} moves money in {t['year']}, which ended on {last}: it can no longer be enacted")
        day = max(on, first)
        out.append(Transaction(key=t["key"], kind=t["kind"], date=day, year=t["year"], period=(day.month - 4) % 12 + 1,
                               postings=tuple(Posting(a, int(v)) for a, v in t["postings"]), partner=t["partner"],
                               reference=t["reference"], decision=t["decision"], description=t["description"]))
    return out


def enact(db_url: str, pid: str, *, on: date) -> dict[str, Any]:
    """Carry out an approved proposal: post exactly the ledger transactions it described (linked to the
    decision) or adopt its changes. A retry is a no-op: the transactions' keys are the decision's."""
    log = _open(db_url)
    books = Books.open(db_url)
    try:
        s = log.state().get(pid)
        if s.status == "enacted":
            return {**s.as_dict(), "already_enacted": True}
        if s.status != "approved":
            raise GovernanceError(f"{pid} is {s.status}: only an approved proposal can be enacted")
        if on < s.decided_on:
            raise GovernanceError(f"{pid} was decided on {s.decided_on}; it cannot be enacted before that")
        entries = _transactions(s.proposal, on)
        if s.proposal.kind == "fund_scheme":
            state = log.state()
            left = state.rules.fund_total - _fund_used(books, state, exclude=pid)
            if s.proposal.amount > left:
                raise GovernanceError(f"{pid} draws £{s.proposal.amount / 100:,.2f}, more than the £{left / 100:,.2f} "
                                      "the transformation fund has left")
        posted = books.append(entries) if entries else None

        def step(state: BoardState, seq: int):
            current = state.get(pid)
            if current.status == "enacted":           # enacted by someone else meanwhile: nothing to add
                return [], None
            ledger = [{"key": t.key, "seq": posted.seqs[t.key]} for t in entries] if posted else []
            return [LogEntry(seq, "enact", pid, on, {"ledger": ledger, "adopted": list(s.proposal.changes)})], None
        log.write(step)
        return {**_proposal(log, pid), "already_enacted": False}
    finally:
        books.dispose()
        log.dispose()


def seed_demo(db_url: str, deal: Deal, *, data_dir: str | Path | None = None,
              effect_runs: int = EFFECT_RUNS) -> dict[str, Any]:
    """Record the board's synthetic demo year (:mod:`devolve.governance.demo`) once."""
    log = _open(db_url)
    try:
        state = log.state()
    finally:
        log.dispose()
    if state.proposals:
        return {"already_recorded": True, "proposals": len(state.proposals)}
    done = []
    for step in demo_plan(deal, state.rules):
        p = propose(db_url, step.proposal, on=date.fromisoformat(step.proposal["date"]), data_dir=data_dir,
                    effect_runs=effect_runs, deal=deal)
        for member, choice in step.votes:
            vote(db_url, p["id"], member, choice, on=step.vote_on)
        closed = close(db_url, p["id"], on=step.close_on)
        if closed["outcome"] != step.expect:
            raise GovernanceError(f"the demo's votes on {p['id']} gave {closed['outcome']}, not {step.expect}: "
                                  f"{'; '.join(closed['reasons'])}")
        if step.enact_on is not None:
            closed = enact(db_url, p["id"], on=step.enact_on)
        done.append({"id": p["id"], "kind": p["kind"], "outcome": closed["outcome"], "enacted": closed["enacted"],
                     "ledger_transactions": closed["ledger_transactions"]})
    return {"synthetic": True, "proposals": done}


def decisions(db_url: str, *, include_open: bool = False) -> list[dict[str, Any]]:
    """The decision log: every decided proposal (with ``include_open``, every proposal)."""
    log = _open(db_url)
    try:
        state = log.state()
    finally:
        log.dispose()
    return [s.as_dict() for s in state.proposals.values() if include_open or s.outcome is not None]


def proposal(db_url: str, pid: str) -> dict[str, Any]:
    log = _open(db_url)
    try:
        return _proposal(log, pid)
    finally:
        log.dispose()


def verify(db_url: str, *, expect_hash: str | None = None) -> dict[str, Any]:
    """Recompute the decision log's chain, and check that every enacted decision's ledger transactions
    are in the books, carrying the decision."""
    log = _open(db_url)
    try:
        result = log.verify(expect_hash).as_dict()
        links: list[str] = []
        if result["ok"]:
            books = Books.open(db_url)
            try:
                with books.engine.connect() as connection:
                    linked = queries.entries_with_decision(connection)
            finally:
                books.dispose()
            state = log.state()
            for pid, s in state.proposals.items():
                for t in s.ledger:
                    if linked.get(t["key"]) != (t["seq"], pid):
                        links.append(f"{pid}'s ledger transaction {t['key']} (entry {t['seq']}) is not in the books "
                                     "as the decision recorded it")
                keys = {t["key"] for t in s.ledger}
                stray = [k for k, (_seq, d) in linked.items() if d == pid and k not in keys and s.status != "enacted"]
                links += [f"ledger transaction {k} cites {pid}, which is {s.status}, not enacted" for k in stray]
            result["ledger_links_ok"] = not links
            result["ledger_link_problems"] = links
            if links:
                result["ok"] = False
                result["problem"] = links[0]
        return result
    finally:
        log.dispose()


def approved_decisions(db_url: str) -> dict[str, frozenset[str]] | None:
    """Approved or enacted decisions: id → the keys of the transactions it described (empty when it
    described none); None when the database has no board."""
    log = _open(db_url)
    try:
        if not log.exists():
            return None
        return {pid: frozenset(t["key"] for t in s.proposal.transactions)
                for pid, s in log.state().proposals.items() if s.status in ("approved", "enacted")}
    finally:
        log.dispose()


def adopted(db_url: str) -> dict[str, Any]:
    """What enacted decisions adopted: the board's scenario (parameter changes), targets, exemptions, estate."""
    out: dict[str, Any] = {"parameter_changes": [], "targets": [], "exemptions": [], "estate": [], "schemes": []}
    for d in decisions(db_url):
        if not d["enacted"]:
            continue
        key = {"change_parameter": "parameter_changes", "adopt_target": "targets", "adopt_exemption": "exemptions",
               "estate_change": "estate", "fund_scheme": "schemes"}.get(d["kind"])
        if key:
            out[key] += [{**c, "decision": d["id"]} for c in d["adopted"]]
    return out


def adopted_scenario(db_url: str) -> dict[str, Any]:
    """The parameter changes enacted decisions adopted, as a scenario document (the format
    ``devolve forecast --scenario FILE`` reads)."""
    changes = adopted(db_url)["parameter_changes"]
    return {"name": "board-adopted",
            "description": "Parameter changes adopted by the board's enacted decisions: "
                           + (", ".join(sorted({c["decision"] for c in changes})) or "none yet"),
            "changes": [{"path": c["path"], "from": c["from"], "value": c["value"],
                         "note": f"{c['decision']}: {c['note']}".rstrip(": ")} for c in changes]}


def accountability(db_url: str, *, data_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Every budget line and scheme with its accountable partner and officer, and the decisions on it."""
    log = _open(db_url)
    try:
        state = log.state()
    finally:
        log.dispose()
    deal = load_deal(state.rules.deal_id, data_dir=data_dir)
    rows = accountability_table(deal, state.rules)
    on_line: dict[str, list[str]] = {}
    for pid, s in state.proposals.items():
        for t in s.proposal.transactions:
            for account, _ in t["postings"]:
                if account.startswith("Budget:") and account != acc.BUDGET_FUNDING:
                    on_line.setdefault(account.removeprefix("Budget:"), []).append(f"{pid} ({s.status})")
    return [{**r, "decisions": sorted(set(on_line.get(r["line"], [])))} for r in rows]


def export_log(db_url: str, fmt: str) -> tuple[str, dict[str, Any]]:
    """The decision log as CSV or HTML text (``fmt``), carrying the log's head hash; and a summary."""
    if fmt not in EXPORT_FORMATS:
        raise GovernanceError(f"the decision log exports as {' or '.join(EXPORT_FORMATS)}, not '{fmt}'")
    rows = decisions(db_url, include_open=True)
    check = verify(db_url)
    text = (log_csv if fmt == "csv" else log_html)(rows, check)
    return text, {"decisions": len(rows), "head_hash": check["head_hash"], "ok": check["ok"], "format": fmt}


__all__ = ["DevolveError", "accountability", "adopted", "adopted_scenario", "approved_decisions", "close", "seed_demo", "decisions", "enact",
           "export_log", "members", "open_proposal", "propose", "proposal", "setup", "verify", "vote"]
