"""Pace of change: how fast each unit moves from what it had towards its fair-share target.

One year's step, given last year's allocation ``prev``, this year's targets ``T`` (adding up to the
pool) and the pool ``P``, in order of priority:

1. **Minimum growth for all** (hard): every unit gets at least ``prev · (1 + min_growth)``;
   ``min_growth`` may be negative (a limit on cash cuts). If the pool cannot pay that, the policy
   cannot be met and :class:`InputError` says so.
2. **Cap on distance under target**: money left lifts the units furthest under target to a common
   distance, until none is more than ``max_under_target`` under (or the money runs out: then the
   worst-off are lifted as far as it goes, all to the same distance).
3. **Faster growth for those under target**: money still left closes each remaining gap to target
   by the same fraction, at most ``convergence`` of it this year.
4. **Growth for all, with a limit for those over**: what is then left goes to every unit in
   proportion to its target — up to its target for a unit under target, and for a unit that was
   over target (``prev >= T``) up to ``prev · (1 + over_target_growth_cap)`` (or its target, if
   higher).

Steps 2–4 are solved exactly (sorting breakpoints), vectorised over units. The caps of step 4 add
up to at least the pool, so all of it is always placed.
"""

from __future__ import annotations

import numpy as np

from devolve.domain.errors import InputError
from devolve.engines.allocate.policy import PaceOfChange

RELATIVE_TOLERANCE = 1e-9


def _level_up(base: np.ndarray, target: np.ndarray, budget: float, ceiling: float) -> np.ndarray:
    """Raise units to ``max(base, target · t)`` for the largest ``t <= ceiling`` the budget pays for."""
    positive = target > 0
    if budget <= 0 or not positive.any():
        return base
    t_unit = np.full(base.shape, np.inf)
    t_unit[positive] = base[positive] / target[positive]
    order = np.argsort(t_unit, kind="stable")
    ts, tt, bb = t_unit[order], target[order], base[order]
    finite = np.isfinite(ts)
    ts, tt, bb = ts[finite], tt[finite], bb[finite]
    cum_t, cum_b = np.cumsum(tt), np.cumsum(bb)
    need_at = ts * cum_t - cum_b                 # money needed to lift everyone below ts[k] to ts[k]
    k = int(np.searchsorted(need_at, budget, side="right")) - 1
    if k < 0:
        return base
    level = (budget + cum_b[k]) / cum_t[k]
    if k + 1 < len(ts):
        level = min(level, ts[k + 1])
    level = min(level, ceiling)
    return np.maximum(base, np.where(positive, target * level, base))


def _fill_to_caps(alloc: np.ndarray, target: np.ndarray, cap: np.ndarray, budget: float) -> tuple[np.ndarray, float]:
    """Add ``λ · target`` to each unit, up to its cap, with λ such that ``budget`` is spent (or all
    are capped); returns the allocation and what could not be placed."""
    room = np.maximum(cap - alloc, 0.0)
    eligible = np.flatnonzero((target > 0) & (room > 0))
    if budget <= 0 or eligible.size == 0:
        return alloc, budget
    lam = room[eligible] / target[eligible]
    order = np.argsort(lam, kind="stable")
    idx, lam = eligible[order], lam[order]
    rooms, targets = room[idx], target[idx]
    filled = np.concatenate(([0.0], np.cumsum(np.where(np.isfinite(rooms), rooms, 0.0))))[:-1]
    rest = np.cumsum(targets[::-1])[::-1]
    spent_at = filled + lam * rest      # money placed at λ = lam[k]: units before k are full
    k = int(np.searchsorted(spent_at, budget, side="left"))
    level = lam[-1] if k >= lam.size else (budget - filled[k]) / rest[k]
    added = np.zeros_like(alloc)
    added[idx] = np.minimum(rooms, level * targets)
    return alloc + added, budget - float(added.sum())


def step(prev: np.ndarray, target: np.ndarray, pool: float, policy: PaceOfChange, year: str = "") -> np.ndarray:
    """This year's allocation of ``pool`` (floats adding up to the pool) under the policy."""
    prev = np.asarray(prev, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    base = prev * (1.0 + policy.min_growth)
    tolerance = RELATIVE_TOLERANCE * max(pool, 1.0)
    if base.sum() > pool + tolerance:
        raise InputError(
            f"the pace-of-change floor cannot be met{' in ' + year if year else ''}: every unit is to get at "
            f"least {policy.min_growth:+.2%} on last year, which needs £{base.sum() / 100:,.0f} but the pool is "
            f"£{pool / 100:,.0f}; lower allocation.pace_of_change.min_growth")
    alloc = _level_up(base, target, pool - base.sum(), 1.0 - policy.max_under_target)
    remaining = max(pool - alloc.sum(), 0.0)
    gap = np.maximum(target - alloc, 0.0)
    if gap.sum() > 0:
        theta = min(policy.convergence, remaining / gap.sum())
        alloc = alloc + theta * gap
    remaining = pool - alloc.sum()
    if remaining <= tolerance:
        return alloc
    over = prev >= target
    cap = np.where(over, np.maximum(target, prev * (1.0 + policy.over_target_growth_cap)), target)
    alloc, left = _fill_to_caps(alloc, target, np.maximum(cap, alloc), remaining)
    if left > tolerance:  # only if no unit has a target: share what is left by allocation
        alloc = alloc + left * alloc / alloc.sum() if alloc.sum() > 0 else alloc + left / alloc.size
    return alloc


def path(baseline: np.ndarray, targets: list[np.ndarray], pools: list[float], policies: list[PaceOfChange],
         years: list[str]) -> list[np.ndarray]:
    """Allocations for consecutive years, each year's step starting from the one before."""
    out, prev = [], np.asarray(baseline, dtype=np.float64)
    for target, pool, policy, year in zip(targets, pools, policies, years):
        prev = step(prev, target, pool, policy, year)
        out.append(prev)
    return out
