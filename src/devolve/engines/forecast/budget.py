"""Five-year fixed budgets: carry under- and over-spends between years within the deal's limit.

Each year the pool's position is ``income − spend`` (the negative of the gap). The balance carried
into the next year is the previous balance plus the year's position, held within
``± limit × the year's budget`` (``governance.carry_forward_limit``). What lies beyond the limit
leaves the pool in that year: an underspend beyond it is returned to the partners, an overspend
beyond it is called from them (under the deal's risk share). At the end of the last year no
deficit may be carried: balance over the five years is required, so any carried deficit is called.

Identity, every run: Σ positions = final balance + Σ returned − Σ called.
The plan balances when the cumulative position over the years is not negative (within a pound).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from devolve.domain.errors import InputError

#: Gaps within a pound of zero count as balanced (the first year reconciles to the budget exactly,
#: up to floating-point rounding of a £6bn sum).
BALANCE_TOLERANCE_GBP = 1.0


@dataclass(frozen=True)
class BudgetPosition:
    cumulative_gap: np.ndarray    # [R, T] running sum of the gaps (positive: overspent so far)
    carried: np.ndarray           # [R, T] balance carried out of each year (positive: reserve)
    called: np.ndarray            # [R, T] overspend beyond the limit, met by the partners
    returned: np.ndarray          # [R, T] underspend beyond the limit, returned to the partners
    balanced: np.ndarray          # [R] the years as a whole are in balance (cumulative gap ≤ 0)
    within_limits: np.ndarray     # [R] and no year needed a call on the partners


def apply_budget_rules(gap: np.ndarray, budget: np.ndarray, carry_forward_limit: float) -> BudgetPosition:
    """The position under the rules, for gaps [R, T] against budgets [T] (pounds)."""
    gap = np.atleast_2d(np.asarray(gap, dtype=float))
    budget = np.asarray(budget, dtype=float)
    if not 0.0 <= carry_forward_limit <= 1.0:
        raise InputError(f"the carry-forward limit must be a share between 0 and 1, not {carry_forward_limit}")
    if budget.shape != gap.shape[1:] or np.any(budget < 0):
        raise InputError("budgets must be one non-negative amount for each year of the gaps")
    runs, years = gap.shape
    carried = np.zeros((runs, years))
    called = np.zeros((runs, years))
    returned = np.zeros((runs, years))
    balance = np.zeros(runs)
    for t in range(years):  # a handful of years; every run at once
        limit = carry_forward_limit * budget[t]
        floor = 0.0 if t == years - 1 else -limit
        before = balance - gap[:, t]
        balance = np.clip(before, floor, limit)
        called[:, t] = np.maximum(balance - before, 0.0)
        returned[:, t] = np.maximum(before - balance, 0.0)
        carried[:, t] = balance
    cumulative = np.cumsum(gap, axis=1)
    return BudgetPosition(cumulative, carried, called, returned, cumulative[:, -1] <= BALANCE_TOLERANCE_GBP,
                          (called <= BALANCE_TOLERANCE_GBP).all(axis=1))
