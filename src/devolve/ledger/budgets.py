"""A year's budget for the pooled fund, from fair shares: lines by service × district, the risk
reserve, the schemes — pure.

* the risk reserve: ``⌊risk_reserve_share × pooled budget⌋`` under an overspend order, else none;
* districts: the rest of the pooled budget split by the weights given — the allocation engine's fair
  shares (``devolve.services.allocation``), or populations where that is not available;
* services within a district: split by expected cost, residents × the deal's activity rates ×
  unit costs (``unit_costs.<service>`` at the start of the year);
* schemes: each scheme's investment for the year, from the transformation fund.

All splits use the largest-remainder method, so every line is whole pence and the lines add up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import polars as pl

from devolve.domain.money import split_largest_remainder
from devolve.domain.periods import FinancialYear
from devolve.ledger import accounts as acc
from devolve.ledger.records import BookRules, Kind, Posting, Transaction


@dataclass(frozen=True)
class BudgetPlan:
    year: str
    lines: Mapping[str, int]       # pool budget line → pence
    schemes: Mapping[str, int]     # scheme line → pence
    reserve: int

    @property
    def total(self) -> int:
        return sum(self.lines.values()) + sum(self.schemes.values()) + self.reserve

    def postings(self) -> tuple[Posting, ...]:
        out = [Posting(acc.budget(line), v) for line, v in self.lines.items() if v]
        out += [Posting(acc.budget(line), v) for line, v in self.schemes.items() if v]
        if self.reserve:
            out += [Posting(acc.budget(acc.RESERVE_LINE), self.reserve),
                    Posting(acc.actual(acc.RESERVE_LINE), self.reserve), Posting(acc.RISK_RESERVE, -self.reserve)]
        return tuple(out) + (Posting(acc.BUDGET_FUNDING, -self.total),)


def service_weights(deal, districts: list[str], services: list[str], when: date) -> dict[str, list[float]]:
    """Expected cost of each service in each district: residents × activity rate × unit cost."""
    rates = deal.activity_rates.select("service_line", "age_band", "sex", "rate_per_1000")
    pop = deal.population.group_by("district", "age_band", "sex").agg(pl.col("population").sum())
    expected = (pop.join(rates, on=["age_band", "sex"])
                .with_columns((pl.col("population") * pl.col("rate_per_1000") / 1000).alias("activity"))
                .group_by("district", "service_line").agg(pl.col("activity").sum()))
    table = {(r["district"], r["service_line"]): r["activity"] for r in expected.iter_rows(named=True)}
    out = {}
    for d in districts:
        weights = []
        for s in services:
            path = f"unit_costs.{s}"
            unit = float(deal.parameters.at(path, when)) if path in deal.parameters else 1.0
            weights.append(max(table.get((d, s), 0.0) * unit, 0.0) or 1.0)
        out[d] = weights
    return out


def plan_budget(deal, rules: BookRules, year: str, district_weights: Mapping[str, float]) -> BudgetPlan:
    fy = FinancialYear.parse(year)
    pool = rules.pooled_budget.get(fy.label, 0)
    agreement = rules.risk_share
    reserve = (math.floor(float(agreement.get("risk_reserve_share", 0) or 0) * pool)
               if agreement.get("method") == "overspend_order" else 0)
    districts = sorted(rules.districts)
    services = list(rules.service_lines)
    by_district = dict(zip(districts, split_largest_remainder(pool - reserve,
                                                               [district_weights.get(d, 0) or 1 for d in districts])))
    mix = service_weights(deal, districts, services, fy.start)
    lines: dict[str, int] = {}
    for d in districts:
        for s, amount in zip(services, split_largest_remainder(by_district[d], mix[d])):
            lines[acc.pool_line(s, d)] = amount
    schemes = {acc.scheme_line(s.id): int(s.investment.get(fy, 0)) for s in deal.schemes if s.investment.get(fy)}
    return BudgetPlan(fy.label, lines, schemes, reserve)


def budget_transaction(plan: BudgetPlan, key: str, *, decision: str | None, description: str,
                       partner: str | None = None, reference: str = "", day: date | None = None) -> Transaction:
    """The budget-setting transaction for a plan (on the first day of the year unless ``day`` is given)."""
    day = day or FinancialYear.parse(plan.year).start
    return Transaction(key=key, kind=Kind.BUDGET.value, date=day, year=plan.year, period=(day.month - 4) % 12 + 1,
                       postings=plan.postings(), partner=partner, reference=reference, decision=decision,
                       description=description)
