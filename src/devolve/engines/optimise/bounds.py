"""Bounds on what any allowed portfolio can do to each run, used to shrink and tighten the programme.

Run *r* balances when the portfolio's saving ``σ_r·x`` reaches ``need_r = gap_without_r − tolerance``
(:meth:`PortfolioProblem.balanced`). For every portfolio within the fund,
``least_r ≤ σ_r·x ≤ most_r``: the largest saving, and the largest dis-saving, a portfolio can bring
are fractional knapsacks (schemes at their largest scales, cost = five-year investment, budget =
the fund, or the cash available over the five years if that is less).

A run with ``least_r ≥ need_r`` balances whatever is chosen; one with ``most_r < need_r`` never does;
neither needs a binary. The rest get the big-M row with the tightest ``M_r = need_r − least_r``.
Each comparison keeps a rounding allowance (:data:`ROUNDING`) on the safe side, so that a run
classified here is classified the same way by :meth:`PortfolioProblem.balanced` in floating point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from devolve.engines.optimise.problem import PortfolioProblem

#: Relative rounding allowance on a run's saving (of the sum of the absolute terms).
ROUNDING = 1e-9
#: The smallest big-M, as a share of the run's scale (the sum of the absolute terms of its gap).
SMALLEST_BIG_M = 1e-3


@dataclass(frozen=True)
class RunBounds:
    """``least ≤ σ_r·x ≤ most`` for every portfolio the rules allow; ``need`` the saving that balances."""

    need: np.ndarray       # [R]
    least: np.ndarray      # [R]
    most: np.ndarray       # [R]
    allowance: np.ndarray  # [R] rounding allowance in pounds

    @property
    def always(self) -> np.ndarray:
        """[R] runs that balance whatever is chosen."""
        return self.least - self.allowance >= self.need

    @property
    def never(self) -> np.ndarray:
        """[R] runs that cannot balance (and do not always balance)."""
        return (self.most + self.allowance < self.need) & ~self.always

    @property
    def free(self) -> np.ndarray:
        """Indices of the runs that need a binary."""
        return np.nonzero(~self.always & ~self.never)[0]

    @property
    def big_m(self) -> np.ndarray:
        """[R] ``need − least`` with the allowance: the row ``σ_r·x ≥ need_r − M_r·(1 − y_r)`` is
        then valid for every portfolio considered. At least :data:`SMALLEST_BIG_M` of the run's
        scale (a larger M is still valid), so that no row, divided by its M, has huge coefficients."""
        return np.maximum(self.need - self.least + self.allowance, SMALLEST_BIG_M * self.allowance / ROUNDING)


def budget_of(problem: PortfolioProblem, *, limited: bool) -> float:
    """The most a portfolio can spend over five years (infinite when not ``limited`` or no fund)."""
    budget = np.inf
    if limited:
        if problem.fund_gbp is not None:
            budget = problem.fund_gbp
        if problem.cash_limits is not None:
            budget = min(budget, float(problem.cash_limits.sum()))
    return float(budget)


def knapsack_most(value: np.ndarray, cost: np.ndarray, top: np.ndarray, budget: float) -> np.ndarray:
    """[N] ``max Σ_s value[i,s]·x_s`` over ``0 ≤ x ≤ top``, ``Σ_s cost_s·x_s ≤ budget``, for each row i
    (fractional knapsack: items by value per pound, free items first, the last one cut)."""
    gain = np.maximum(value, 0.0) * top[None, :]
    if not np.isfinite(budget):
        return gain.sum(axis=1)
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


def fund_bounds(problem: PortfolioProblem, *, limited: bool = True) -> RunBounds:
    """Bounds from the fund alone (see module docstring); ``limited`` False ignores the fund."""
    saving = problem.saving
    top = problem.max_scales
    budget = budget_of(problem, limited=limited)
    cost = problem.total_investment
    most = knapsack_most(saving, cost, top, budget)
    least = -knapsack_most(-saving, cost, top, budget)
    need = problem.gap_without - problem.tolerance_gbp
    allowance = ROUNDING * (np.abs(problem.gap_without) + np.abs(saving) @ top + abs(problem.tolerance_gbp)) + 1e-12
    return RunBounds(need, least, most, allowance)
