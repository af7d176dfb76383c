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
- ``balance``: ``σ_r·x − ε_r·w ≥ need_r − M_r·(1 − y_r)`` with ``need_r = gap0_r − tol`` and
  ``w ≥ z_s`` for each scalable scheme (``w`` is 1 when a scalable scheme is chosen): when
  ``y_r = 1`` and no scalable scheme is chosen, exactly :meth:`PortfolioProblem.balanced`; with
  one, a margin ``ε_r = SCALABLE_MARGIN·M_r`` (see below). ``M_r`` is the tightest the bounds of
  :mod:`devolve.engines.optimise.bounds` give. Runs that balance whatever is chosen count without a
  column or a row; runs that cannot balance have neither;
- ``count``: ``Σ_r y_r ≥ n`` — the count of a portfolio already known (balance objective: it cuts
  off the worse portfolios at once), the first stage's count (second stage), or the min-fund target
  ``⌈target·R⌉`` (group ``target probability of balance``); and ``Σ_r y_r ≤ u`` when a bound ``u``
  on the count is known (it caps the relaxation's bound).

Each row is divided by its ``M_r`` (or its need) so that the solver sees numbers near one.

**Why a margin only with scalable schemes.** The solver accepts a row broken by its feasibility
tolerance (about 10⁻⁶ of the row). With only all-or-nothing schemes chosen, a run's gap is fixed by
the data, and a run exactly on the line (gap = tolerance) must count — a margin would refuse it,
and the brute-force tests found optima missed that way. With a scalable scheme chosen, the solver
can set its scale to put a run on the line and a hair beyond; the margin (above the tolerance)
stops that, at the price of moving a scale by a few millionths. Any answer is still checked by
:mod:`devolve.engines.optimise.solve`; a ``margin`` (pounds, per run) raises a run's need when an
answer has to be repaired.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from devolve.engines.optimise.bounds import fund_bounds
from devolve.engines.optimise.problem import PortfolioProblem
from devolve.engines.solver import INFINITY, MipModel

OBJECTIVES = ("benefit", "balance", "min-fund")
#: Margin each counted run is asked for per scalable scheme chosen, as a share of its big-M.
SCALABLE_MARGIN = 1e-5
#: Relaxable constraint groups, in the order an infeasibility report tries them.
GROUPS = ("fund", "yearly cash limits", "required schemes", "dependencies", "exclusions", "fairness floors",
          "minimum scales", "target probability of balance")


@dataclass(frozen=True)
class Layout:
    """Where each family of columns sits: x at [0, S), z at [S, 2S), y at [2S, 2S + Y), and, when
    the runs have rows and a scheme is scalable, w (a scalable scheme is chosen) last."""

    schemes: int
    free_runs: np.ndarray       # run indices that have a y column
    always: int                 # runs that balance whatever is chosen
    never: int                  # runs that cannot balance
    flexible: bool = False      # whether there is a w column

    def x(self, solution: np.ndarray) -> np.ndarray:
        return solution[: self.schemes]

    def y(self, solution: np.ndarray) -> np.ndarray:
        return solution[2 * self.schemes: 2 * self.schemes + self.free_runs.size]

    def point(self, problem: PortfolioProblem, scales: np.ndarray) -> np.ndarray:
        """The full column vector for the portfolio ``scales`` (z from the scales, y from the runs)."""
        x = np.asarray(scales, dtype=float)
        chosen = x > 0
        w = [float((chosen & np.array([c.scalable for c in problem.candidates])).any())] if self.flexible else []
        return np.r_[x, chosen.astype(float), problem.balanced(x)[self.free_runs].astype(float), w]


def limited_by_fund(objective: str, relax: frozenset[str] = frozenset()) -> bool:
    """Whether the fund bounds a portfolio in this programme (not for min-fund, which sizes it)."""
    return objective != "min-fund" and not ({"fund", "yearly cash limits"} & relax)


def build(problem: PortfolioProblem, objective: str, *, relax: frozenset[str] = frozenset(),
          at_least: int | None = None, at_most: int | None = None, secondary: bool = False,
          margin: np.ndarray | None = None) -> tuple[MipModel, Layout]:
    """The programme for ``objective``. ``relax`` drops constraint groups (for infeasibility reports);
    ``at_least`` adds the count row ``Σ y ≥ at_least`` (runs in balance, all told); ``secondary``
    (balance objective, second stage) maximises expected net benefit instead, with ``at_least``
    holding the first stage's count. ``at_most`` adds ``Σ y ≤ at_most`` (all told): a bound on the
    count known from elsewhere (the groups of runs of :mod:`devolve.engines.optimise.solve`). ``margin`` [R] raises the need of the runs with a row, in
    pounds."""
    S = len(problem.candidates)
    uses_runs = objective in ("balance", "min-fund")
    bounds = fund_bounds(problem, limited=limited_by_fund(objective, relax))
    always, never = bounds.always, bounds.never
    free = bounds.free if uses_runs else np.zeros(0, dtype=int)
    Y = free.size
    candidates = problem.candidates
    scalable = np.array([c.scalable for c in candidates])
    flexible = bool(uses_runs and scalable.any())
    n = 2 * S + Y + int(flexible)
    cost = np.zeros(n)
    lower = np.zeros(n)
    upper = np.ones(n)
    integer = np.zeros(n, dtype=bool)
    integer[S: 2 * S + Y] = True
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
        cost[2 * S: 2 * S + Y] = 1.0
        maximise = True
    else:
        cost[:S] = inv
        maximise = False
    model = MipModel(cost, lower, upper, integer, maximise, name=f"portfolio ({objective})")
    counted = int(always.sum()) if uses_runs else 0
    if objective == "balance" and not secondary:
        model.offset = float(counted)   # the objective is then the number of runs in balance

    for s, c in enumerate(candidates):
        lowest = 0.0 if "minimum scales" in relax else c.min_scale
        if c.scalable:
            model.add_row([s, S + s], [1.0, -lowest], 0.0, INFINITY, "scale")
            model.add_row([s, S + s], [1.0, -c.max_scale], -INFINITY, 0.0, "scale")
        else:
            model.add_row([s, S + s], [1.0, -1.0], 0.0, 0.0, "scale")
        if c.required and "required schemes" not in relax:
            model.add_row([S + s], [1.0], 1.0, 1.0, "required schemes")
    if "dependencies" not in relax:
        for a, b in problem.dependencies:
            model.add_row([S + problem.index(a), S + problem.index(b)], [1.0, -1.0], -INFINITY, 0.0, "dependencies")
    if "exclusions" not in relax:
        for a, b in problem.exclusions:
            model.add_row([S + problem.index(a), S + problem.index(b)], [1.0, 1.0], -INFINITY, 1.0, "exclusions")
    columns = np.arange(S)
    if objective != "min-fund":
        if problem.fund_gbp is not None and "fund" not in relax:
            model.add_row(columns, inv, -INFINITY, problem.fund_gbp, "fund")
        if problem.cash_limits is not None and "yearly cash limits" not in relax:
            cumulative = np.cumsum(problem.investment, axis=1)
            available = np.cumsum(problem.cash_limits)
            for t in range(cumulative.shape[1]):
                model.add_row(columns, cumulative[:, t], -INFINITY, available[t], "yearly cash limits")
    if "fairness floors" not in relax:
        for floor in problem.floors:
            weight = np.array([c.groups.get(floor.group, 0.0) for c in candidates])
            model.add_row(columns, (weight - floor.min_share) * inv, 0.0, INFINITY, "fairness floors")
    if not uses_runs:
        return model, Layout(S, free, int(always.sum()), int(never.sum()))

    saving = problem.saving
    extra = np.zeros(problem.runs) if margin is None else np.asarray(margin, dtype=float)
    need = bounds.need + extra
    # the margin when a scalable scheme is chosen (w ≥ z_s; none when all chosen are all-or-nothing)
    w = n - 1
    if flexible:
        for s in np.nonzero(scalable)[0]:
            model.add_row([w, S + s], [1.0, -1.0], 0.0, INFINITY, "scale")
    per_run = SCALABLE_MARGIN * bounds.big_m if flexible else np.zeros(problem.runs)
    big_m = bounds.big_m + extra + per_run
    for j, r in enumerate(free):
        m = big_m[r]
        model.add_row(np.r_[columns, 2 * S + j, w], np.r_[saving[r] / m, -1.0, -per_run[r] / m], (need[r] - m) / m,
                      INFINITY, "balance")
    wanted = [] if at_least is None else [at_least]
    group = "balance"
    if objective == "min-fund" and "target probability of balance" not in relax:
        wanted.append(math.ceil(problem.target_probability * problem.runs - 1e-9))
        group = "target probability of balance"
    if wanted and max(wanted) > counted:
        need_free = max(wanted) - counted
        if need_free > Y:
            # no portfolio reaches the count: an impossible row, so the solver reports infeasibility
            model.add_row([0], [0.0], need_free, INFINITY, group)
        else:
            model.add_row(np.arange(2 * S, 2 * S + Y), np.ones(Y), need_free, INFINITY, group)
    if at_most is not None and at_most - counted < Y:
        model.add_row(np.arange(2 * S, 2 * S + Y), np.ones(Y), -INFINITY, float(max(at_most - counted, 0)), "balance")
    return model, Layout(S, free, int(always.sum()), int(never.sum()), flexible)
