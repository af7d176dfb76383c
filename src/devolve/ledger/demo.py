"""A seeded, synthetic year of a deal's books, for demonstration (``devolve ledger init DEAL --demo``).

Every transaction, reference, decision and cost return it makes is labelled synthetic: descriptions
begin ``SYNTHETIC demo:``, references and decision ids begin ``SYN-``. What it books, for the deal's
first financial year:

* contributions: each partner's planned contribution in twelve monthly instalments, and the
  transformation fund received from the national body;
* the budget: the pool less the risk reserve (``risk_reserve_share`` of the agreement) split into
  service × district lines — districts by the allocation engine's fair shares when it is given,
  else by population; services within a district by expected cost (the deal's activity rates ×
  residents × unit costs); the reserve set aside; each scheme's investment for the year;
* contracts (commitments) for 95% of each line: hospital, community, mental health, primary care
  and prescribing lines with the NHS providers (a seeded assignment, each provider at least one
  contract), social care lines with the district's council; schemes with their accountable partner;
* one virement above the delegation limit, with a (synthetic) decision;
* monthly payments drawing the contracts down; demand-led lines over-perform, and their March
  activity is accrued unpaid; overspends carry a (synthetic) board decision;
* monthly cost returns from every provider for every contract (staff, non-pay, overheads);
* sized so that the year ends in an overspend that reaches every step of an overspend order.

The year-end close itself is left to :func:`devolve.ledger.year_end.plan_year_end`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from devolve.domain.money import split_largest_remainder
from devolve.domain.periods import FinancialYear
from devolve.ledger import accounts as acc
from devolve.ledger.budgets import budget_transaction, plan_budget
from devolve.ledger.records import BookRules, CostReturn, Entry, Kind, Posting, Transaction

SEED = 20160401
LABEL = "SYNTHETIC demo:"
COMMITTED_SHARE = 0.95
SCHEME_COMMITTED_SHARE = 0.9
DEMAND_LED = ("emergency_admission", "excess_bed_day", "residential_care_week", "home_care_hour")
NHS_SETTINGS = ("hospital", "community", "mental_health", "primary_care", "prescribing")
PARTNER_TOP_UP_SHARE = 0.002     # of the pool: what the overspend leaves for partners after the reserve
VIREMENT_PENCE = 250_000_000     # £2.5m, above a £1m delegation limit
VIREMENT_PERIOD = 6              # booked on the first day of period 7 (October)
COST_SPLIT = (0.62, 0.24)        # staff and non-pay shares of cost; overheads take the rest


@dataclass(frozen=True)
class DemoYear:
    year: str
    entries: tuple[Entry, ...]
    district_split: str
    notes: tuple[str, ...]


def _council_of(rules: BookRules, deal, district: str) -> str:
    for p in deal.partners:
        if p.type.value == "local_authority" and district in p.districts:
            return p.id
    return rules.host_partner


def _t(key, kind, day, year, postings, **kw) -> Transaction:
    return Transaction(key=key, kind=kind, date=day, year=year, period=(day.month - 4) % 12 + 1,
                       postings=tuple(postings), **kw)


def generate_demo(deal, rules: BookRules, district_weights: Mapping[str, float], district_split: str,
                  seed: int = SEED) -> DemoYear:
    rng = np.random.default_rng(seed)
    fy = FinancialYear.parse(rules.years[0])
    year = fy.label
    months = fy.months()
    entries: list[Entry] = []
    pool = rules.pooled_budget.get(year, 0)
    fund = rules.transformation_fund.get(year, 0)
    national = next(iter(rules.partners_of_type("national_body")), rules.pool_manager)

    # Contributions, monthly; the transformation fund in April.
    for partner, total in sorted(rules.contributions.get(year, {}).items()):
        for month, part in zip(months, split_largest_remainder(total, [1] * 12)):
            day = date(month.year, month.month, 1)
            entries.append(_t(f"demo:{year}:contribution:{partner}:{month.label}", Kind.CONTRIBUTION.value, day,
                              year, [Posting(acc.BANK, part), Posting(acc.contribution(partner), -part)],
                              partner=partner, reference=f"SYN-CONTRIB-{partner}-{month.label}",
                              description=f"{LABEL} monthly contribution to the pooled budget"))
    if fund:
        entries.append(_t(f"demo:{year}:fund", Kind.CONTRIBUTION.value, fy.start, year,
                          [Posting(acc.BANK, fund), Posting(acc.scheme_fund(national), -fund)], partner=national,
                          reference=f"SYN-FUND-{year}", description=f"{LABEL} transformation fund for the year"))

    # The budget: lines by district × service, the risk reserve, the schemes.
    plan = plan_budget(deal, rules, year, district_weights)
    budgets, schemes, reserve = dict(plan.lines), dict(plan.schemes), plan.reserve
    districts, services = sorted(rules.districts), list(rules.service_lines)
    entries.append(budget_transaction(plan, f"demo:{year}:budget", partner=rules.pool_manager,
                                      reference=f"SYN-BUDGET-{year}", decision=f"SYN-DEC-{year}-01 budget approved",
                                      description=f"{LABEL} the {year} pooled budget by service and district "
                                                  f"(districts split by {district_split}); the risk reserve set aside"))

    # Contracts.
    providers = list(rules.partners_of_type("nhs_provider")) or [rules.host_partner]
    nhs_lines = [acc.pool_line(s, d) for d in districts for s in services
                 if rules.service_lines[s] in NHS_SETTINGS]
    order = rng.permutation(len(nhs_lines))
    first = rng.permutation(len(providers))
    provider_of = {nhs_lines[i]: providers[first[n % len(providers)]] for n, i in enumerate(order)}
    for d in districts:
        for s in services:
            line = acc.pool_line(s, d)
            provider_of.setdefault(line, _council_of(rules, deal, d))
    for line in schemes:
        provider_of[line] = rules.schemes.get(line.split(":", 1)[1]) or rules.pool_manager
    committed = {line: math.floor(v * COMMITTED_SHARE) for line, v in budgets.items()}
    committed.update({line: math.floor(v * SCHEME_COMMITTED_SHARE) for line, v in schemes.items()})
    for line, amount in committed.items():
        if amount:
            p = provider_of[line]
            entries.append(_t(f"demo:{year}:contract:{line}", Kind.COMMITMENT.value, fy.start, year,
                              [Posting(acc.commitment(line), amount), Posting(acc.contract(p), -amount)],
                              partner=p, reference=f"SYN-CONTRACT-{p}-{line}",
                              decision=f"SYN-DEC-{year}-02 contracts awarded",
                              description=f"{LABEL} annual contract for {line}"))

    # One virement, from the largest line that is not demand-led to reablement in the same district.
    source = max((line for line in budgets if line.split(":")[1] not in DEMAND_LED), key=lambda x: budgets[x])
    target = acc.pool_line("reablement_episode", source.split(":")[2]) if "reablement_episode" in services else None
    moved = min(VIREMENT_PENCE, budgets[source] - committed[source]) if target in budgets else 0
    if moved > 0:
        entries.append(_t(f"demo:{year}:virement", Kind.VIREMENT.value, months[VIREMENT_PERIOD].start, year,
                          [Posting(acc.budget(target), moved), Posting(acc.budget(source), -moved)],
                          partner=rules.pool_manager, reference=f"SYN-VIREMENT-{year}",
                          decision=f"SYN-DEC-{year}-07 virement approved",
                          description=f"{LABEL} virement from {source} to {target}"))
        budgets[source] -= moved
        budgets[target] += moved

    # Actual spending for the year: under budget on most lines, over on demand-led lines, sized so the
    # overspend reaches the partners after the risk reserve and the uncommitted scheme money.
    actual = {line: math.floor(v * rng.uniform(0.985, 1.0)) for line, v in budgets.items()}
    over_lines = [line for line in budgets if line.split(":")[1] in DEMAND_LED and rng.random() < 0.6]
    for line in over_lines:
        actual[line] = budgets[line]
    underspend = sum(budgets[line] - actual[line] for line in budgets)
    scheme_left = fund - sum(committed[line] for line in schemes)      # received, not spent or committed
    ordered = rules.risk_share.get("method") == "overspend_order"      # then the reserve and scheme money come first
    target_overspend = (reserve + scheme_left if ordered else 0) + math.floor(PARTNER_TOP_UP_SHARE * pool)
    extra = split_largest_remainder(underspend + target_overspend, [budgets[line] for line in over_lines])
    for line, more in zip(over_lines, extra):
        actual[line] += more
    actual.update({line: committed[line] for line in schemes})

    # Monthly payments (March accrued on lines over budget), drawing the contracts down.
    for line, total in actual.items():
        p = provider_of[line]
        open_commitment = committed.get(line, 0)
        paid = 0
        for month, part in zip(months, split_largest_remainder(total, [1] * 12)):
            if not part:
                continue
            release = min(part, open_commitment)
            open_commitment -= release
            paid += part
            budget_then = budgets.get(line, schemes.get(line, 0))
            if month.period <= VIREMENT_PERIOD and moved > 0:
                budget_then += moved if line == source else -moved if line == target else 0
            overspent = budget_then - open_commitment - paid < 0
            accrue = month.period == 12 and line in over_lines
            credit = acc.payable(p) if accrue else acc.BANK
            postings = [Posting(acc.actual(line), part), Posting(credit, -part)]
            if release:
                postings += [Posting(acc.commitment(line), -release), Posting(acc.contract(p), release)]
            entries.append(_t(f"demo:{year}:{'accrual' if accrue else 'payment'}:{line}:{month.label}",
                              Kind.ACCRUAL.value if accrue else Kind.PAYMENT.value,
                              date(month.year, month.month, 15), year, postings, partner=p,
                              reference=f"SYN-INV-{p}-{month.label}",
                              decision=f"SYN-DEC-{year}-11 activity above plan" if overspent else None,
                              description=f"{LABEL} {'activity accrued' if accrue else 'payment'} for {line}"))
            entries.append(_cost_return(rng, deal, year, month, line, p, part))
    notes = (f"districts split by {district_split}",
             "contracts assigned to providers by a seeded draw (real contracts are not modelled)",
             "spending, over-performance and providers' costs are drawn from a seeded generator")
    return DemoYear(year=year, entries=tuple(entries), district_split=district_split, notes=notes)


def _cost_return(rng, deal, year: str, month, line: str, provider: str, price: int) -> CostReturn:
    parts = line.split(":")
    service, district = parts[1], (parts[2] if len(parts) > 2 else None)
    cost = math.floor(price * rng.uniform(0.9, 1.06))
    staff, non_pay = math.floor(cost * COST_SPLIT[0]), math.floor(cost * COST_SPLIT[1])
    path = f"unit_costs.{service}"
    activity = None
    if path in deal.parameters:
        unit = float(deal.parameters.at(path, month.start))
        activity = int(round(price / 100 / unit)) if unit > 0 else None
    return CostReturn(key=f"demo:{year}:cost:{provider}:{line}:{month.label}", provider=provider, year=year,
                      period=month.period, service_line=service, staff=staff, non_pay=non_pay,
                      overheads=cost - staff - non_pay, district=district, activity=activity,
                      reference=f"SYN-COST-{provider}-{month.label}")
