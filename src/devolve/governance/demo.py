"""A seeded, synthetic year of the board's decisions (``devolve ledger init DEAL --demo``).

Every proposal is labelled: ``synthetic: true`` and a title beginning ``SYNTHETIC demo:``; the votes
are made up. For the deal's first two years it records:

1. a **virement** in the first year, from emergency admissions to home care in the first district,
   above the delegation limit, which the board **rejects** — the councils vote for it, the NHS
   bodies against (no majority of NHS bodies) — so nothing reaches the books;
2. a proposal to **fund a scheme** (the one with the largest second-year investment) from the
   transformation fund for the second year, approved by the board's rule (for Greater Manchester:
   a double majority of councils and NHS bodies) and then **enacted**: its budget drawdown is posted
   to the books, citing the decision.

:func:`demo_plan` returns the steps as data; the service carries them out (propose, vote, close,
enact), so the demo goes through exactly the checks a real board's work does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from devolve.domain.records import Deal
from devolve.governance.records import BoardRules

LABEL = "SYNTHETIC demo:"


@dataclass(frozen=True)
class DemoProposal:
    proposal: dict[str, Any]
    votes: tuple[tuple[str, str], ...]       # (member, choice) in the order cast
    vote_on: date
    close_on: date
    expect: str                              # the outcome the votes are made to give
    enact_on: date | None = None


def _lines(deal: Deal) -> tuple[str, str]:
    services = [s.id for s in deal.service_lines]
    source = "emergency_admission" if "emergency_admission" in services else services[0]
    target = "home_care_hour" if "home_care_hour" in services else services[-1]
    district = deal.districts[0].code
    return f"Pool:{source}:{district}", f"Pool:{target}:{district}"


def _member_votes(rules: BoardRules, yes_group: int | None, skip_every: int = 9) -> list[tuple[str, str]]:
    """Votes for every member but a few (quorum met): ``yes_group`` (0 or 1) votes yes and the rest no;
    with ``yes_group`` None, almost everyone votes yes (a few abstain or vote no)."""
    votes = []
    for i, m in enumerate(rules.members):
        if i % skip_every == skip_every - 1:
            continue                                   # did not vote
        group = rules.group_of(m)
        if yes_group is not None:
            choice = "yes" if group == yes_group else ("abstain" if i % 13 == 6 else "no")
        else:
            choice = "abstain" if i % 11 == 4 else ("no" if i % 8 == 5 else "yes")
        votes.append((m.partner, choice))
    return votes


def demo_plan(deal: Deal, rules: BoardRules) -> list[DemoProposal]:
    years = [y for y in deal.financial_years]
    first, second = years[0], years[1] if len(years) > 1 else years[0]
    source, target = _lines(deal)
    proposer = next((m.partner for m in rules.members if m.type == "local_authority"), rules.members[0].partner)
    virement = {
        "kind": "virement", "synthetic": True, "proposer": proposer,
        "title": f"{LABEL} move £3m from emergency admissions to home care in {deal.districts[0].name}",
        "date": date(first.start.year, 11, 10).isoformat(), "year": first.label, "from": source, "to": target,
        "amount_gbp": 3_000_000,
        "description": "Shift budget to home care as admissions fall (made up for the demonstration).",
        "evidence": "SYNTHETIC: month-7 budget monitoring (demo)",
    }
    groups = len(rules.double_majority_groups)
    against = _member_votes(rules, yes_group=0 if groups else None) if groups else \
        [(m.partner, "no") for m in rules.members]
    schemes = sorted(deal.schemes, key=lambda s: (-s.investment.get(second, 0), s.id))
    steps = [DemoProposal(virement, tuple(against), date(first.start.year, 11, 24), date(first.start.year, 11, 24),
                          "rejected")]
    if schemes and schemes[0].investment.get(second, 0) > 0:
        scheme = schemes[0]
        pm = deal.governance.pool_manager
        proposer = pm if any(m.partner == pm for m in rules.members) else rules.members[0].partner
        fund = {
            "kind": "fund_scheme", "synthetic": True, "proposer": proposer,
            "title": f"{LABEL} fund '{scheme.name}' from the transformation fund for {second.label}",
            "date": date(second.start.year, 2, 20).isoformat(), "scheme": scheme.id,
            "amounts_gbp": {second.label: scheme.investment[second] / 100},
            "description": "The scheme's second-year tranche (its costs and effects are synthetic, schemes.yaml).",
            "evidence": "SYNTHETIC: scheme business case (demo); the forecast's gap with and without the scheme",
        }
        reserved = "fund_scheme" in rules.reserved_matters
        votes = [(m.partner, "yes") for m in rules.members] if reserved else _member_votes(rules, None)
        steps.append(DemoProposal(fund, tuple(votes), date(second.start.year, 3, 1), date(second.start.year, 3, 9),
                                  "approved", enact_on=second.start))
    return steps
