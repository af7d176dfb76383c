"""The portfolio problem as a mixed-integer programme, for each objective.

Columns: ``x_s`` (scale of scheme s, continuous in [0, max_scale]; binary for all-or-nothing),
``z_s`` (binary: scheme s is in the portfolio), and for the balance objectives ``y_r`` (binary: the
portfolio balances in run r). Constraint groups (their names appear in infeasibility reports):

- ``scale``: ``min_scale·z_s ≤ x_s ≤ max_scale·z_s`` (all-or-nothing: ``x_s = z_s``);
- ``required schemes``: ``z_s = 1``;
- ``dependencies``: ``z_a ≤ z_b`` (a needs b); ``exclusions``: ``z_a + z_b ≤ 1``;
- ``fund``: ``Σ_s I_s·x_s ≤ F``;
- ``yearly cash limits``: ``Σ_s Σ_{t'≤t} I_{s,t'}·x_s ≤ Σ_{t'≤t} C_{t'}`` (unspent money carries forward);
- ``fairness floor <group>``: ``Σ_s (w_{s,g} − f_g)·I_s·x_s ≥ 0``;
- ``balance``: ``gap0_r − Σ_s saving_{r,s}·x_s ≤ tol + M_r·(1 − y_r)``, with the tight
  ``M_r = gap0_r − tol − Σ_s min(0, saving_{r,s})·max_scale_s``; runs that balance whatever is
  chosen (``M_r ≤ 0``) have ``y_r = 1`` and runs that cannot balance even with every scheme at its
  largest scale have ``y_r = 0``, without a row;
- ``target probability of balance``: ``Σ_r y_r ≥ ⌈target·R⌉`` (min-fund objective).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from devolve.engines.optimise.milp import INFINITY, Milp
from devolve.engines.optimise.problem import PortfolioProblem

OBJECTIVES = ("benefit", "balance", "min-fund")
#: Margin on each balance row, as a share of its big-M (above HiGHS's tolerances of 1e-6).
SAFETY = 1e-5
#: Relaxable constraint groups, in the order an infeasibility report tries them.
GROUPS = ("fund", "yearly cash limits", "required schemes", "dependencies", "exclusions", "fairness floors",
          "minimum scales", "target probability of balance")


@dataclass(frozen=True)
class Layout:
    """Where each family of columns sits: x at [0, S), z at [S, 2S), y at [2S, 2S + Y)."""

    schemes: int
    free_runs: np.ndarray       # run indices that have a y column
    always: int                 # runs that balance whatever is chosen
    never: int                  # runs that cannot balance

    def x(self, solution: np.ndarray) -> np.ndarray:
        return solution[: self.schemes]


def _knapsack_bound(value: np.ndarray, cost: np.ndarray, top: np.ndarray, budget: float) -> np.ndarray:
    """[R] max Σ_s value[r,s]·x_s over 0 ≤ x ≤ top, Σ_s cost_s·x_s ≤ budget (fractional knapsack, per run)."""
    gain = np.maximum(value, 0.0) * top[None, :]
    spend = np.broadcast_to(cost * top, gain.shape)
    free = spend <= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(free, np.inf, gain / np.where(spend > 0, spend, 1.0))
    order = np.argsort(-ratio, axis=1, kind="stable")
    gain = np.take_along_axis(gain, order, axis=1)
    spend = np.take_along_axis(np.where(free, 0.0, spend), order, axis=1)
    before = np.cumsum(spend, axis=1) - spend
    share = np.clip(np.divide(budget - before, spend, out=np.ones_like(spend), where=spend > 0), 0.0, 1.0)
    return (gain * share).sum(axis=1)


def classify_runs(problem: PortfolioProblem, *, limited: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(big-M [R], always-balanced mask, never-balanced mask) from the data.

    With ``limited`` the bounds respect the fund (and the cash available over the five years): the
    largest saving a run can see, and the largest dis-saving, are fractional knapsacks — still valid
    bounds, and much tighter than "every scheme at its largest scale"."""
    saving = problem.saving
    top = problem.max_scales
    budget = np.inf
    if limited:
        if problem.fund_gbp is not None:
            budget = problem.fund_gbp
        if problem.cash_limits is not None:
            budget = min(budget, float(problem.cash_limits.sum()))
    cost = problem.total_investment
    if np.isfinite(budget):
        most = _knapsack_bound(saving, cost, top, budget)
        least = _knapsack_bound(-saving, cost, top, budget)
    else:
        most = np.maximum(saving * top[None, :], 0.0).sum(axis=1)
        least = np.maximum(-saving * top[None, :], 0.0).sum(axis=1)
    worst = problem.gap_without + least
    best = problem.gap_without - most
    big_m = worst - problem.tolerance_gbp
    always = big_m <= 0.0
    never = (best > problem.tolerance_gbp) & ~always
    return big_m, always, never


def build(problem: PortfolioProblem, objective: str, *, relax: frozenset[str] = frozenset(),
          min_balanced_runs: int | None = None, secondary: bool = False) -> tuple[Milp, Layout]:
    """The programme for ``objective``. ``relax`` drops constraint groups (for infeasibility
    reports); ``min_balanced_runs`` adds ``Σ y ≥ k``; ``secondary`` (balance objective, second stage)
    maximises expected net benefit instead, with ``min_balanced_runs`` holding the first stage's value."""
    S = len(problem.candidates)
    uses_runs = objective in ("balance", "min-fund")
    limited = objective != "min-fund" and not ({"fund", "yearly cash limits"} & relax)
    big_m, always, never = classify_runs(problem, limited=limited)
    free = np.nonzero(~always & ~never)[0] if uses_runs else np.zeros(0, dtype=int)
    Y = free.size
    n = 2 * S + Y
    cost = np.zeros(n)
    lower = np.zeros(n)
    upper = np.ones(n)
    integer = np.zeros(n, dtype=bool)
    integer[S:] = True
    candidates = problem.candidates
    upper[:S] = problem.max_scales
    for s, c in enumerate(candidates):
        if not c.scalable:
            integer[s] = True
    inv = problem.total_investment
    mean_benefit = problem.net_benefit.mean(axis=0)
    if objective == "benefit" or secondary:
        cost[:S] = mean_benefit
        maximise = True
    elif objective == "balance":
        cost[2 * S:] = 1.0
        maximise = True
    else:
        cost[:S] = inv
        maximise = False
    milp = Milp(cost, lower, upper, integer, maximise)
    if objective == "balance" and not secondary:
        milp.offset = float(always.sum())   # the objective is then the number of runs in balance

    for s, c in enumerate(candidates):
        lowest = 0.0 if "minimum scales" in relax else c.min_scale
        if c.scalable:
            milp.add_row([s, S + s], [1.0, -lowest], 0.0, INFINITY, "scale")
            milp.add_row([s, S + s], [1.0, -c.max_scale], -INFINITY, 0.0, "scale")
        else:
            milp.add_row([s, S + s], [1.0, -1.0], 0.0, 0.0, "scale")
        if c.required and "required schemes" not in relax:
            milp.add_row([S + s], [1.0], 1.0, 1.0, "required schemes")
    if "dependencies" not in relax:
        for a, b in problem.dependencies:
            milp.add_row([S + problem.index(a), S + problem.index(b)], [1.0, -1.0], -INFINITY, 0.0, "dependencies")
    if "exclusions" not in relax:
        for a, b in problem.exclusions:
            milp.add_row([S + problem.index(a), S + problem.index(b)], [1.0, 1.0], -INFINITY, 1.0, "exclusions")
    columns = np.arange(S)
    if objective != "min-fund":
        if problem.fund_gbp is not None and "fund" not in relax:
            milp.add_row(columns, inv, -INFINITY, problem.fund_gbp, "fund")
        if problem.cash_limits is not None and "yearly cash limits" not in relax:
            cumulative = np.cumsum(problem.investment, axis=1)
            available = np.cumsum(problem.cash_limits)
            for t in range(cumulative.shape[1]):
                milp.add_row(columns, cumulative[:, t], -INFINITY, available[t], "yearly cash limits")
    if "fairness floors" not in relax:
        for floor in problem.floors:
            weight = np.array([c.groups.get(floor.group, 0.0) for c in candidates])
            milp.add_row(columns, (weight - floor.min_share) * inv, 0.0, INFINITY, "fairness floors")
    if uses_runs:
        saving = problem.saving
        for j, r in enumerate(free):
            # scaled by 1/M_r, with a margin of SAFETY·M_r so that the solver's integrality and
            # feasibility tolerances can never count a run as balanced that is not
            m = big_m[r]
            milp.add_row(np.r_[columns, 2 * S + j], np.r_[-saving[r] / m, 1.0 + SAFETY], -INFINITY,
                         1.0 + (problem.tolerance_gbp - problem.gap_without[r]) / m, "balance")
        fixed = int(always.sum())
        need = min_balanced_runs
        if objective == "min-fund" and "target probability of balance" not in relax:
            target = math.ceil(problem.target_probability * problem.runs - 1e-9)
            need = max(need or 0, target)
        if need is not None and need > fixed:
            if Y == 0 or need - fixed > Y:
                # no free run can help: an impossible count, kept as a row so the solver reports infeasibility
                milp.add_row(np.arange(n)[:1], [0.0], need - fixed, INFINITY,
                             "target probability of balance" if objective == "min-fund" else "balance")
            else:
                milp.add_row(np.arange(2 * S, n), np.ones(Y), need - fixed, INFINITY,
                             "target probability of balance" if objective == "min-fund" else "balance")
    return milp, Layout(S, free, int(always.sum()), int(never.sum()))
