"""Solve a portfolio problem for one objective; evaluate any portfolio on the same runs.

``solve(problem, objective, solver)`` builds the programme, hands it to the solver (passed in),
and returns a :class:`PortfolioResult`, or raises:

- :class:`InfeasibleError` when no portfolio meets every constraint — it names the constraint that
  binds, found by relaxing the constraint groups one at a time (and, for the fund and the target
  probability, says how far off they are);
- :class:`SolverLimitError` when the solver stopped (time limit) before finding any portfolio.

A result stopped by the time limit with a portfolio in hand is returned with status
``time_limit`` and its optimality gap.

The balance objective is lexicographic: first the most runs in balance, then, among portfolios
with that many, the largest expected net benefit (the second stage starts from the first's answer
and has the time left of the solver's limit, at least a second).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import polars as pl

from devolve.domain.errors import InputError
from devolve.engines.optimise.formulation import GROUPS, OBJECTIVES, build
from devolve.engines.optimise.milp import HighsSolver, MilpSolution
from devolve.engines.optimise.problem import PortfolioProblem

SCALE_EPSILON = 1e-6


class InfeasibleError(InputError):
    """No portfolio meets every constraint. ``constraint`` names the one that binds."""

    def __init__(self, message: str, constraint: str | None):
        super().__init__(message)
        self.constraint = constraint


class SolverLimitError(InputError):
    """The solver stopped (time limit) before it found any portfolio."""


@dataclass(frozen=True)
class Evaluation:
    """A portfolio measured on the problem's runs."""

    scales: np.ndarray                 # [S]
    investment_gbp: float
    expected_net_benefit_gbp: float
    probability_of_balance: float
    net_benefit_by_run: np.ndarray     # [R]
    gap_by_run: np.ndarray             # [R] cumulative five-year gap with the portfolio
    feasible: bool
    violations: tuple[str, ...]


@dataclass(frozen=True)
class PortfolioResult:
    """The optimiser's answer."""

    objective: str
    status: str                  # optimal | time_limit
    optimality_gap: float | None
    solve_seconds: float
    portfolio: Evaluation
    problem: PortfolioProblem
    nodes: int = 0

    @property
    def scales(self) -> np.ndarray:
        return self.portfolio.scales

    def table(self) -> pl.DataFrame:
        return portfolio_table(self.problem, self.portfolio.scales)


def evaluate(problem: PortfolioProblem, scales) -> Evaluation:
    """Expected net benefit, probability of balance and constraint check of ``scales`` [S]."""
    x = np.asarray(scales, dtype=float).reshape(-1)
    if x.size != len(problem.candidates):
        raise InputError(f"a portfolio needs one scale per candidate ({len(problem.candidates)}), not {x.size}")
    x = np.where(np.abs(x) < SCALE_EPSILON, 0.0, x)
    nb = problem.net_benefit @ x
    gap = problem.gap_without - problem.saving @ x
    investment = float(problem.total_investment @ x)
    return Evaluation(x, investment, float(nb.mean()), float((gap <= problem.tolerance_gbp).mean()), nb, gap,
                      not violations(problem, x), tuple(violations(problem, x)))


def violations(problem: PortfolioProblem, x: np.ndarray) -> list[str]:
    """The constraints ``x`` breaks, in words (empty: it meets them all)."""
    out = []
    tol = 1e-6
    on = x > SCALE_EPSILON
    for s, c in enumerate(problem.candidates):
        if on[s] and not c.min_scale - tol <= x[s] <= c.max_scale + tol:
            out.append(f"scheme '{c.id}' at scale {x[s]:g} is outside [{c.min_scale:g}, {c.max_scale:g}]")
        if c.required and not on[s]:
            out.append(f"required scheme '{c.id}' is missing")
    for a, b in problem.dependencies:
        if on[problem.index(a)] and not on[problem.index(b)]:
            out.append(f"'{a}' needs '{b}'")
    for a, b in problem.exclusions:
        if on[problem.index(a)] and on[problem.index(b)]:
            out.append(f"'{a}' and '{b}' exclude each other")
    inv = problem.total_investment @ x
    if problem.fund_gbp is not None and inv > problem.fund_gbp * (1 + 1e-9) + 1e-6:
        out.append(f"investment £{inv:,.0f} is above the fund of £{problem.fund_gbp:,.0f}")
    if problem.cash_limits is not None:
        spent = np.cumsum(problem.investment.T @ x)
        available = np.cumsum(problem.cash_limits)
        over = np.nonzero(spent > available * (1 + 1e-9) + 1e-6)[0]
        if over.size:
            t = int(over[0])
            out.append(f"by {problem.years[t]} investment £{spent[t]:,.0f} is above the cash available "
                       f"£{available[t]:,.0f}")
    total = problem.total_investment * x
    for floor in problem.floors:
        share = sum(c.groups.get(floor.group, 0.0) * v for c, v in zip(problem.candidates, total))
        if share < floor.min_share * total.sum() * (1 - 1e-9) - 1e-6:
            out.append(f"{floor.group} gets less than its floor of {floor.min_share:.0%} of the investment")
    return out


def portfolio_table(problem: PortfolioProblem, scales) -> pl.DataFrame:
    """One row per candidate: chosen scale, investment, expected net benefit and saving."""
    x = np.asarray(scales, dtype=float)
    inv = problem.total_investment
    return pl.DataFrame({
        "scheme": list(problem.ids),
        "name": [c.name or c.id for c in problem.candidates],
        "scalable": [c.scalable for c in problem.candidates],
        "min_scale": [c.min_scale for c in problem.candidates],
        "max_scale": [c.max_scale for c in problem.candidates],
        "scale": x,
        "chosen": x > SCALE_EPSILON,
        "investment_gbp": inv * x,
        "expected_net_benefit_gbp": problem.net_benefit.mean(axis=0) * x,
        "expected_saving_gbp": problem.saving.mean(axis=0) * x,
        "net_benefit_per_pound_at_scale_1": np.divide(problem.net_benefit.mean(axis=0), inv,
                                                      out=np.zeros_like(inv), where=inv > 0),
        "synthetic": [c.synthetic for c in problem.candidates],
    })


def solve(problem: PortfolioProblem, objective: str = "benefit", solver=None) -> PortfolioResult:
    """The best portfolio for ``objective`` (``benefit``, ``balance`` or ``min-fund``) with ``solver``
    (default :class:`HighsSolver`)."""
    if objective not in OBJECTIVES:
        raise InputError(f"unknown objective '{objective}'; choose one of {', '.join(OBJECTIVES)}")
    solver = solver if solver is not None else HighsSolver()
    milp, layout = build(problem, objective)
    first = solver.solve(milp)
    _check(problem, objective, first, solver)
    status, gap, seconds, nodes = first.status, first.gap, first.seconds, first.nodes
    x = layout.x(first.x)
    if objective == "balance":
        balanced = int(round(first.objective))
        second_milp, _ = build(problem, objective, min_balanced_runs=balanced, secondary=True)
        second_milp.start = first.x
        second = _within(solver, first.seconds).solve(second_milp)
        seconds += second.seconds
        nodes += second.nodes
        if second.x is not None:
            candidate = layout.x(second.x)
            if evaluate(problem, candidate).probability_of_balance >= evaluate(problem, x).probability_of_balance:
                x = candidate
    x = _clean(problem, x)
    return PortfolioResult(objective, status, gap, seconds, evaluate(problem, x), problem, nodes)


def _within(solver, spent: float):
    """The solver with the time left of its limit (at least a second), when it has a time limit."""
    limit = getattr(solver, "time_limit", None)
    if limit is None or not dataclasses.is_dataclass(solver):
        return solver
    return dataclasses.replace(solver, time_limit=max(1.0, float(limit) - spent))


def _clean(problem: PortfolioProblem, x: np.ndarray) -> np.ndarray:
    """Round binaries and clip scales to their bounds (solver tolerances)."""
    out = np.array(x, dtype=float)
    for s, c in enumerate(problem.candidates):
        if out[s] < SCALE_EPSILON:
            out[s] = 0.0
        elif not c.scalable:
            out[s] = 1.0
        else:
            out[s] = min(max(out[s], c.min_scale), c.max_scale)
    return out


def _check(problem: PortfolioProblem, objective: str, solution: MilpSolution, solver) -> None:
    if solution.status == "infeasible":
        raise explain_infeasibility(problem, objective, solver)
    if solution.status == "no_solution":
        raise SolverLimitError(f"the solver stopped after {solution.seconds:.1f} s without finding any portfolio; "
                               "allow more time (--time-limit) or use fewer runs")


def _feasible(problem: PortfolioProblem, objective: str, relax: frozenset[str], solver) -> bool:
    milp, _ = build(problem, objective, relax=relax)
    milp.cost[:] = 0.0
    return solver.solve(milp).status in ("optimal", "time_limit")


def explain_infeasibility(problem: PortfolioProblem, objective: str, solver) -> InfeasibleError:
    """An :class:`InfeasibleError` naming the constraint group whose relaxation alone restores feasibility."""
    present = _present_groups(problem, objective)
    binding = [g for g in present if _feasible(problem, objective, frozenset({g}), solver)]
    if not binding:
        return InfeasibleError("no portfolio meets every constraint, and no single constraint explains it: "
                               f"{', '.join(present)} conflict together", None)
    name = binding[0]
    detail = ""
    if name == "fund" and problem.fund_gbp is not None:
        cheapest = _cheapest(problem, objective, frozenset({"fund"}), solver)
        if cheapest is not None:
            detail = (f": the cheapest portfolio meeting the other constraints costs £{cheapest:,.0f}, above the "
                      f"fund of £{problem.fund_gbp:,.0f}")
    elif name == "target probability of balance":
        unlimited = problem.with_fund(None)
        milp, _ = build(unlimited, "balance")
        best = solver.solve(milp)
        if best.objective is not None:
            reachable = best.objective / problem.runs
            detail = (f": at most {reachable:.1%} of runs can balance whatever the fund, below the target "
                      f"of {problem.target_probability:.1%}")
    elif name == "yearly cash limits":
        detail = ": the schemes that must be funded spend faster than the fund's yearly profile allows"
    also = binding[1:]
    tail = f" (relaxing {', '.join(also)} alone would also do)" if also else ""
    return InfeasibleError(f"no portfolio meets every constraint: the {name} constraint binds{detail}{tail}", name)


def _cheapest(problem, objective, relax, solver) -> float | None:
    milp, _ = build(problem, objective, relax=relax)
    S = len(problem.candidates)
    milp.cost[:] = 0.0
    milp.cost[:S] = problem.total_investment
    milp.maximise = False
    solution = solver.solve(milp)
    return None if solution.objective is None else float(solution.objective)


def _present_groups(problem: PortfolioProblem, objective: str) -> list[str]:
    present = []
    for group in GROUPS:
        if group == "fund" and (problem.fund_gbp is None or objective == "min-fund"):
            continue
        if group == "yearly cash limits" and (problem.cash_limits is None or objective == "min-fund"):
            continue
        if group == "required schemes" and not any(c.required for c in problem.candidates):
            continue
        if group == "dependencies" and not problem.dependencies:
            continue
        if group == "exclusions" and not problem.exclusions:
            continue
        if group == "fairness floors" and not problem.floors:
            continue
        if group == "minimum scales" and not any(c.scalable and c.min_scale > 0 for c in problem.candidates):
            continue
        if group == "target probability of balance" and objective != "min-fund":
            continue
        present.append(group)
    return present

