"""Yardsticks for the optimiser: ranking schemes one at a time, and the efficient frontier.

**One at a time** is how portfolios are often chosen by hand: score each scheme alone, then take
schemes in rank order at their largest scale that still fits the fund and yearly cash limits,
skipping any whose prerequisites are not yet in or that an earlier choice excludes. The score is the
objective's own measure per pound: expected net benefit per pound (benefit; schemes with a negative
expected net benefit are left out), or the probability of balance with the scheme alone at its
largest scale, ties broken by expected saving per pound (balance and min-fund).

**The efficient frontier** solves the balance objective at a range of fund sizes (the yearly cash
limits scale with the fund): the most probable balance each fund size can buy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from devolve.engines.optimise.problem import PortfolioProblem
from devolve.engines.optimise.infeasibility import InfeasibleError
from devolve.engines.optimise.solve import evaluate, solve
from devolve.engines.solver import HighsSolver

FRONTIER_POINTS = 9


def one_at_a_time(problem: PortfolioProblem, objective: str = "benefit") -> np.ndarray:
    """[S] scales chosen by ranking schemes one at a time (see module docstring)."""
    S = len(problem.candidates)
    inv = problem.total_investment
    mean_nb = problem.net_benefit.mean(axis=0)
    per_pound = np.divide(mean_nb, inv, out=np.full(S, np.inf), where=inv > 0)
    if objective == "benefit":
        order = sorted(range(S), key=lambda s: (-per_pound[s], problem.ids[s]))
        eligible = [s for s in order if mean_nb[s] > 0 or problem.candidates[s].required]
    else:
        saving = problem.saving
        alone = [float(problem.balanced(np.eye(S)[s] * problem.candidates[s].max_scale).mean()) for s in range(S)]
        save_per_pound = np.divide(saving.mean(axis=0), inv, out=np.full(S, np.inf), where=inv > 0)
        order = sorted(range(S), key=lambda s: (-alone[s], -save_per_pound[s], problem.ids[s]))
        eligible = [s for s in order if saving[:, s].mean() > 0 or problem.candidates[s].required]
    required = [s for s in eligible if problem.candidates[s].required]
    eligible = required + [s for s in eligible if s not in required]
    x = np.zeros(S)
    fund = problem.fund_gbp if problem.fund_gbp is not None else np.inf
    available = np.cumsum(problem.cash_limits) if problem.cash_limits is not None else None
    cumulative = np.cumsum(problem.investment, axis=1)
    for s in eligible:
        c = problem.candidates[s]
        if any(a == c.id and x[problem.index(b)] == 0 for a, b in problem.dependencies):
            continue
        if any(x[problem.index(b if a == c.id else a)] > 0 for a, b in problem.exclusions if c.id in (a, b)):
            continue
        room = fund - inv @ x
        scale = c.max_scale if inv[s] <= 0 else min(c.max_scale, room / inv[s])
        if available is not None:
            left = available - cumulative.T @ x
            need = cumulative[s]
            with np.errstate(divide="ignore", invalid="ignore"):
                ratios = np.where(need > 0, left / need, np.inf)
            scale = min(scale, float(ratios.min()))
        if not c.scalable:
            scale = 1.0 if scale >= 1.0 - 1e-9 else 0.0
        if scale < max(c.min_scale, 1e-9):
            continue
        x[s] = scale
    return x


def frontier(problem: PortfolioProblem, funds: Sequence[float] | None = None, solver=None) -> pl.DataFrame:
    """Fund size against the best probability of balance (and that portfolio's expected net benefit).

    ``funds`` default: ``FRONTIER_POINTS`` sizes from nothing to the cost of every candidate at its
    largest scale, plus the problem's own fund."""
    solver = solver if solver is not None else HighsSolver()
    if funds is None:
        most = float(problem.total_investment @ problem.max_scales)
        funds = list(np.linspace(0.0, most, FRONTIER_POINTS))
        if problem.fund_gbp is not None:
            funds.append(problem.fund_gbp)
    rows = []
    for fund in sorted(set(float(f) for f in funds)):
        sized = problem.with_fund(fund)
        try:
            result = solve(sized, "balance", solver)
        except InfeasibleError as exc:
            rows.append({"fund_gbp": fund, "status": "infeasible", "probability_of_balance": None,
                         "expected_net_benefit_gbp": None, "investment_gbp": None, "optimality_gap": None,
                         "constraint": exc.constraint})
            continue
        p = result.portfolio
        rows.append({"fund_gbp": fund, "status": result.status, "probability_of_balance": p.probability_of_balance,
                     "expected_net_benefit_gbp": p.expected_net_benefit_gbp, "investment_gbp": p.investment_gbp,
                     "optimality_gap": result.optimality_gap, "constraint": None})
    schema = {"fund_gbp": pl.Float64, "status": pl.Utf8, "probability_of_balance": pl.Float64,
              "expected_net_benefit_gbp": pl.Float64, "investment_gbp": pl.Float64, "optimality_gap": pl.Float64,
              "constraint": pl.Utf8}
    return pl.DataFrame(rows, schema=schema)


def comparison(problem: PortfolioProblem, optimised: np.ndarray, objective: str) -> pl.DataFrame:
    """The optimiser's portfolio beside the deal's own and the one-at-a-time ranking, on the same runs."""
    entries = [("optimiser", optimised)]
    if problem.baseline_scales is not None:
        entries.append(("deal's own portfolio", problem.baseline_scales))
    entries.append(("one at a time", one_at_a_time(problem, objective)))
    entries.append(("no schemes", np.zeros(len(problem.candidates))))
    rows = []
    for name, scales in entries:
        e = evaluate(problem, scales)
        rows.append({"portfolio": name, "schemes": int((e.scales > 0).sum()), "investment_gbp": e.investment_gbp,
                     "expected_net_benefit_gbp": e.expected_net_benefit_gbp,
                     "probability_of_balance": e.probability_of_balance, "meets_constraints": e.feasible,
                     "violations": "; ".join(e.violations)})
    return pl.DataFrame(rows)
