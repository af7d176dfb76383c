"""A proposal file, read and checked, and what its enactment would do.

A proposal is a YAML file (or the same mapping from the web app)::

    kind: fund_scheme                  # fund_scheme | virement | change_parameter | adopt_target
                                       # | adopt_exemption | estate_change
    title: Fund integrated neighbourhood teams for 2017/18
    proposer: ca-greater-manchester    # a member of the board
    date: 2017-03-01                   # when it is proposed (default: the command's --on date)
    description: …
    evidence: …                        # papers the board had (the financial effect is added)
    interests: [nhs-rbv]               # members with a conflict of interest (they may not vote)
    draft: false                       # true: recorded as a draft, opened later
    synthetic: false                   # true: a made-up proposal (demo, training)

and, by kind:

* ``fund_scheme``: ``scheme`` (a scheme of the deal) and ``amounts_gbp`` by financial year — enacted
  as one ``budget`` transaction a year moving budget authority to the scheme's line
  (``Budget:Schemes:<scheme>`` debit, ``Budget:Funding`` credit). Refused when it asks for more
  than the transformation fund has left;
* ``virement``: ``year``, ``from`` and ``to`` budget lines and ``amount_gbp`` — enacted as one
  ``virement`` transaction;
* ``change_parameter``: ``changes`` — parameter changes as in a scenario file (``path``, ``from``,
  ``value``, ``note``) — enacted into the board's adopted scenario;
* ``adopt_target``: ``target`` — ``id``, ``indicator``, ``value``, ``unit``, ``direction``;
* ``adopt_exemption``: ``target`` (a national target's id) and ``reason``;
* ``estate_change``: ``building`` (an id in the estate register) and ``action`` (release | share).

A member whose partner would be paid by the proposal (the scheme's accountable partner, when it is a
provider) is added to ``interests`` automatically.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from devolve.domain.errors import PackError, ScenarioError
from devolve.domain.periods import FinancialYear
from devolve.domain.records import Deal
from devolve.domain.scenario import Scenario
from devolve.governance.accountability import accountable_for
from devolve.governance.records import KINDS, PROVIDER_TYPES, BoardRules, GovernanceError, Proposal
from devolve.ledger import accounts as acc
from devolve.ledger.records import BookRules
from devolve.packs import fields as f
from devolve.packs.files import YamlDoc, read_yaml
from devolve.packs.scenarios import apply_scenario, read_change

COMMON = ("kind", "title", "proposer", "date", "description", "evidence", "interests", "draft", "synthetic")
BY_KIND = {
    "fund_scheme": ("scheme", "amounts_gbp"),
    "virement": ("year", "from", "to", "amount_gbp"),
    "change_parameter": ("changes",),
    "adopt_target": ("target",),
    "adopt_exemption": ("target", "reason"),
    "estate_change": ("building", "action"),
}
TARGET_KEYS = ("id", "indicator", "value", "unit", "direction")


def read_proposal_file(path: str | Path) -> YamlDoc:
    file = Path(path).expanduser()
    if not file.is_file():
        raise GovernanceError(f"proposal file {file} does not exist")
    try:
        return read_yaml(file.parent, file.name)
    except PackError as exc:
        raise GovernanceError(f"proposal {exc}") from None


def proposal_doc(data: dict[str, Any], name: str = "(proposal)") -> YamlDoc:
    """A proposal given as a mapping (the web app, the demo), read like a file."""
    return YamlDoc(name, data, {})


def build_proposal(doc: YamlDoc, *, pid: str, deal: Deal, rules: BoardRules, books: BookRules | None,
                   on: date, fund_left: int) -> tuple[Proposal, bool]:
    """The proposal in ``doc`` as ``pid``, checked against the deal, the board and the books;
    and whether it is a draft. Raises :class:`GovernanceError` (naming file, line and field)."""
    try:
        return _build(doc, pid=pid, deal=deal, rules=rules, books=books, on=on, fund_left=fund_left)
    except PackError as exc:
        raise GovernanceError(f"proposal {exc}") from None
    except ScenarioError as exc:
        raise GovernanceError(f"proposal {doc.file}: {exc}") from None


def _build(doc: YamlDoc, *, pid, deal, rules, books, on, fund_left) -> tuple[Proposal, bool]:
    data = f.mapping(doc.data, lambda e, x: doc.fail("(document)", e, x))
    fail = lambda key: (lambda e, x: doc.fail(key, e, x))  # noqa: E731
    kind = f.choice(data.get("kind"), KINDS, fail("kind"))
    allowed = COMMON + BY_KIND[kind]
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise doc.fail(unknown[0], f"only the keys {', '.join(allowed)} for a {kind} proposal", f.show(unknown[0]))
    member_ids = [m.partner for m in rules.members]
    proposer = f.choice(data.get("proposer"), member_ids, fail("proposer"))
    proposed_on = f.iso_date(data["date"], fail("date")) if data.get("date") is not None else on
    interests = {f.choice(m, member_ids, fail(f"interests.{i}"))
                 for i, m in enumerate(f.sequence(data.get("interests", []), fail("interests")))}
    common = dict(
        id=pid, kind=kind, title=f.text(data.get("title"), fail("title")), proposer=proposer,
        proposed_on=proposed_on, description=f.text(data.get("description", ""), fail("description"), allow_empty=True),
        evidence=f.text(data.get("evidence", ""), fail("evidence"), allow_empty=True),
        synthetic=f.boolean(data.get("synthetic", False), fail("synthetic")))
    draft = f.boolean(data.get("draft", False), fail("draft"))
    effect = KIND_READERS[kind](doc, data, fail, pid=pid, deal=deal, rules=rules, books=books, fund_left=fund_left,
                                title=common["title"])
    types = {m.partner: m.type for m in rules.members}
    beneficiary = effect["accountable"]["partner"]
    if kind == "fund_scheme" and types.get(beneficiary) in PROVIDER_TYPES:
        interests.add(beneficiary)
    return Proposal(**common, amount=effect.get("amount", 0), interests=tuple(sorted(interests)),
                    transactions=tuple(effect.get("transactions", ())), changes=tuple(effect.get("changes", ())),
                    accountable=effect["accountable"]), draft


def _year(value, fail, deal: Deal) -> FinancialYear:
    year = f.financial_year(value, fail)
    if year not in deal.financial_years:
        raise fail(f"a year of the deal ({deal.financial_years[0].label} to {deal.financial_years[-1].label})",
                   year.label)
    return year


def _transaction(pid: str, n: int, kind: str, year: str, postings, partner: str, title: str) -> dict[str, Any]:
    return {"key": f"board:{pid}:{n}", "kind": kind, "year": year, "postings": [list(p) for p in postings],
            "partner": partner, "reference": pid, "decision": pid, "description": f"{title} (board decision {pid})"}


def _fund_scheme(doc, data, fail, *, pid, deal, rules, books, fund_left, title):
    schemes = {s.id: s for s in deal.schemes}
    scheme = f.choice(data.get("scheme"), schemes, fail("scheme"))
    amounts = f.mapping(data.get("amounts_gbp"), fail("amounts_gbp"))
    if not amounts:
        raise doc.fail("amounts_gbp", "the amount to draw from the fund in at least one year", "none")
    line = acc.scheme_line(scheme)
    who = accountable_for(deal, rules, line)
    transactions, total = [], 0
    for n, (label, value) in enumerate(sorted(amounts.items(), key=lambda kv: str(kv[0])), start=1):
        year = _year(label, fail(f"amounts_gbp.{label}"), deal)
        pence = f.money(value, fail(f"amounts_gbp.{label}"))
        if pence == 0:
            raise doc.fail(f"amounts_gbp.{label}", "an amount above zero", f.show(value))
        total += pence
        transactions.append(_transaction(pid, n, "budget", year.label,
                                         [(acc.budget(line), pence), (acc.BUDGET_FUNDING, -pence)], who["partner"], title))
    if total > fund_left:
        raise doc.fail("amounts_gbp", f"at most the £{fund_left / 100:,.2f} the transformation fund has left "
                                      "(its total less what is budgeted to schemes or approved for them)",
                       f"£{total / 100:,.2f}")
    return {"amount": total, "transactions": transactions, "accountable": who,
            "changes": [{"scheme": scheme, "amounts_gbp": {t["year"]: -t["postings"][1][1] / 100 for t in transactions}}]}


def _virement(doc, data, fail, *, pid, deal, rules, books, fund_left, title):
    year = _year(data.get("year"), fail("year"), deal)
    lines = []
    for key in ("from", "to"):
        line = f.text(data.get(key), fail(key))
        if books is not None:
            account, problem = acc.parse_account(acc.budget(line), books)
            if account is None or account.line is None:
                raise doc.fail(key, "a budget line of the books (e.g. Pool:home_care_hour:E08000003)",
                               f"{f.show(line)}: {problem or 'not a budget line'}")
        lines.append(line)
    if lines[0] == lines[1]:
        raise doc.fail("to", "a budget line other than the one the money comes from", f.show(lines[1]))
    pence = f.money(data.get("amount_gbp"), fail("amount_gbp"))
    if pence == 0:
        raise doc.fail("amount_gbp", "an amount above zero", "0")
    who = accountable_for(deal, rules, lines[1])
    t = _transaction(pid, 1, "virement", year.label, [(acc.budget(lines[1]), pence), (acc.budget(lines[0]), -pence)],
                     who["partner"], title)
    return {"amount": pence, "transactions": [t], "accountable": who}


def _change_parameter(doc, data, fail, *, pid, deal, rules, books, fund_left, title):
    items = f.sequence(data.get("changes"), fail("changes"))
    if not items:
        raise doc.fail("changes", "at least one parameter change", "none")
    first = deal.financial_years[0].start
    changes = tuple(read_change(doc, item, f"changes.{i}", first) for i, item in enumerate(items))
    apply_scenario(deal, Scenario(pid, changes))      # unknown path, date outside the deal, wrong unit: an error
    return {"changes": [{"path": c.path, "from": c.start.isoformat(), "value": c.value, "note": c.note}
                        for c in changes],
            "accountable": {"partner": deal.governance.pool_manager,
                            "officer": rules.accountable_officers.get(_type(deal, deal.governance.pool_manager), "")}}


def _adopt_target(doc, data, fail, *, pid, deal, rules, books, fund_left, title):
    target = f.mapping(data.get("target"), fail("target"))
    unknown = sorted(set(target) - set(TARGET_KEYS))
    if unknown:
        raise doc.fail(f"target.{unknown[0]}", f"only the keys {', '.join(TARGET_KEYS)}", f.show(unknown[0]))
    if any(t.id == target.get("id") for t in deal.targets):
        raise doc.fail("target.id", "a new target id", f"'{target.get('id')}', a target the deal already has")
    adopted = {"target": f.identifier(target.get("id"), fail("target.id")),
               "indicator": f.text(target.get("indicator"), fail("target.indicator")),
               "value": f.number(target.get("value"), fail("target.value")),
               "unit": f.text(target.get("unit"), fail("target.unit")),
               "direction": f.choice(target.get("direction"), ("higher_is_better", "lower_is_better"),
                                     fail("target.direction")), "scope": "local"}
    return {"changes": [adopted], "accountable": _pool_manager(deal, rules)}


def _adopt_exemption(doc, data, fail, *, pid, deal, rules, books, fund_left, title):
    national = {t.id: t for t in deal.targets if t.scope == "national"}
    target = f.choice(data.get("target"), national, fail("target"))
    if national[target].exempt:
        raise doc.fail("target", "a national target the deal is not yet exempt from", target)
    reason = f.text(data.get("reason"), fail("reason"))
    return {"changes": [{"exemption": target, "indicator": national[target].indicator, "reason": reason}],
            "accountable": _pool_manager(deal, rules)}


def _estate_change(doc, data, fail, *, pid, deal, rules, books, fund_left, title):
    estate = deal.estate
    ids = set(estate["id"].to_list()) if estate.height else set()
    building = f.choice(data.get("building"), ids, fail("building")) if ids else None
    if building is None:
        raise doc.fail("building", f"a building of {deal.id}'s estate register", "an empty register")
    action = f.choice(data.get("action"), ("release", "share"), fail("action"))
    row = estate.filter(estate["id"] == building).row(0, named=True)
    owner = row.get("owner") or deal.governance.pool_manager
    return {"changes": [{"building": building, "action": action, "name": row.get("name"),
                         "running_cost_gbp": row.get("running_cost_gbp"), "synthetic": bool(row.get("synthetic"))}],
            "accountable": {"partner": owner, "officer": rules.accountable_officers.get(_type(deal, owner), "")}}


def _type(deal: Deal, partner: str) -> str:
    return next((p.type.value for p in deal.partners if p.id == partner), "other")


def _pool_manager(deal: Deal, rules: BoardRules) -> dict[str, str]:
    pm = deal.governance.pool_manager
    return {"partner": pm, "officer": rules.accountable_officers.get(_type(deal, pm), "")}


KIND_READERS = {"fund_scheme": _fund_scheme, "virement": _virement, "change_parameter": _change_parameter,
                "adopt_target": _adopt_target, "adopt_exemption": _adopt_exemption, "estate_change": _estate_change}
