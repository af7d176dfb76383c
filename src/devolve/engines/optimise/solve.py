"""Solve a portfolio problem for one objective; evaluate any portfolio on the same runs.

``solve(problem, objective, solver)`` builds the programme, hands it to the solver (passed in),
and returns a :class:`PortfolioResult`, or raises:

- :class:`InfeasibleError` when no portfolio meets every constraint — it names the constraint that
  binds, found by relaxing the constraint groups one at a time (and, for the fund and the target
  probability, says how far off they are);
- :class:`SolverLimitError` when the solver stopped (time limit) before finding any portfolio.

A result stopped by the time limit with a portfolio in hand is returned with status
``time_limit`` and its optimality gap. The solver's time limit covers the whole solve: each
programme solved gets the time left (at least a second).

The balance objective is lexicographic. First the most runs in balance: a starting portfolio (the
best, in runs balanced, of the expected-benefit optimum and the one-at-a-time ranking) is handed to
the solver, and the count it reaches is a row of the programme (``Σ y ≥ n``: the optimum balances
at least as many, and the row cuts off the worse portfolios at once). Then, among portfolios with
that many runs in balance, the largest expected net benefit (started from the first stage's
answer).

**Every answer is checked** against :meth:`PortfolioProblem.balanced`, the one definition of a
balanced run. The programme states that definition exactly when only all-or-nothing schemes are
chosen, and asks a counted run for a tiny margin per scalable scheme chosen
(:mod:`devolve.engines.optimise.formulation`), so the solver's feasibility tolerance (about 10⁻⁶ of
a row) can rarely count a run that misses balance by a few pence. When it does, the answer is
repaired: first the scalable schemes' scales are moved (a linear programme with the schemes and the
runs counted held fixed, asking those runs for a margin); if that cannot work, the programme is
solved again with a margin on those runs alone (margins :data:`MOVE_MARGIN` and
:data:`REPAIR_MARGIN` of their big-M, doubled at each round). The reported probability of balance
is always re-measured on the runs, and the optimality gap is measured between that and the
programme's bound.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import polars as pl

from devolve.domain.errors import InputError
from devolve.engines.optimise.bounds import fund_bounds
from devolve.engines.optimise.formulation import OBJECTIVES, Layout, build, limited_by_fund
from devolve.engines.optimise.infeasibility import explain_infeasibility
from devolve.engines.optimise.problem import PortfolioProblem
from devolve.engines.solver import HighsSolver, InfeasibleModelError, MipModel, MipSolution, SolverError

SCALE_EPSILON = 1e-6
#: Margins a repaired run is asked for, as shares of its big-M: when the scales are moved (ten times
#: the linear solver's feasibility tolerance, 10⁻⁷), and when the programme is solved again (ten
#: times the branch-and-cut tolerance, 10⁻⁶); doubled at each further round.
MOVE_MARGIN = 1e-6
REPAIR_MARGIN = 1e-5
REPAIR_ROUNDS = 3


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
    broken = tuple(violations(problem, x))
    return Evaluation(x, float(problem.total_investment @ x), float(nb.mean()),
                      float(problem.balanced(x).mean()), nb, problem.gaps(x), not broken, broken)


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
    clock = _Clock(solver if solver is not None else HighsSolver())
    if objective == "benefit":
        stage = _Stage(problem, "benefit")
    elif objective == "min-fund":
        stage = _Stage(problem, "min-fund")
    else:
        start = _starting_portfolio(problem, clock)
        first = _Stage(problem, "balance", at_least=int(problem.balanced(start).sum())).run(clock, start)
        count = int(problem.balanced(first.x).sum())
        second = _Stage(problem, "balance", at_least=count, secondary=True).run(clock, first.x, strict=False)
        x = first.x
        if second is not None and problem.balanced(second.x).sum() >= count:
            x = second.x
        nodes = first.nodes + (second.nodes if second is not None else 0)
        return PortfolioResult(objective, first.status, first.gap, clock.spent(), evaluate(problem, x), problem,
                               nodes)
    answer = stage.run(clock)
    return PortfolioResult(objective, answer.status, answer.gap, clock.spent(), evaluate(problem, answer.x),
                           problem, answer.nodes)


@dataclass(frozen=True)
class _Answer:
    x: np.ndarray          # [S] certified portfolio
    status: str
    gap: float | None      # between the portfolio's own value and the exact programme's bound
    nodes: int


class _Clock:
    """The solver, given the time left of its limit at each solve (at least a second)."""

    def __init__(self, solver):
        self.solver = solver
        self.started = time.perf_counter()

    def spent(self) -> float:
        return time.perf_counter() - self.started

    def backend(self):
        limit = getattr(self.solver, "time_limit", None)
        if limit is None or not dataclasses.is_dataclass(self.solver):
            return self.solver
        return dataclasses.replace(self.solver, time_limit=max(1.0, float(limit) - self.spent()))


@dataclass(frozen=True)
class _Stage:
    """One programme: build, solve, check the answer against the runs, repair it if need be."""

    problem: PortfolioProblem
    objective: str
    at_least: int | None = None
    secondary: bool = False

    def model(self, margin: np.ndarray | None = None) -> tuple[MipModel, Layout]:
        return build(self.problem, self.objective, at_least=self.at_least, secondary=self.secondary, margin=margin)

    def value(self, model: MipModel, layout: Layout, x: np.ndarray) -> float:
        """The programme's objective at the portfolio ``x``, its runs counted by the definition."""
        if self.objective == "balance" and not self.secondary:
            return float(self.problem.balanced(x).sum())
        return float(np.dot(model.cost[: layout.schemes], x))

    def run(self, clock: _Clock, start: np.ndarray | None = None, *, strict: bool = True) -> _Answer | None:
        """The certified answer (``start``, a portfolio meeting the rules, when the solver's answer
        cannot be repaired in time). ``strict`` False (a second stage): None instead of raising when
        the solver finds nothing."""
        model, layout = self.model()
        if start is not None:
            model.start = layout.point(self.problem, start)
        try:
            solution = clock.backend().solve(model)
        except InfeasibleModelError:
            if not strict:
                return None
            raise explain_infeasibility(self.problem, self.objective, clock.backend()) from None
        except SolverError as exc:
            if not strict:
                return None
            raise SolverLimitError(f"the solver stopped after {clock.spent():.1f} s without finding any portfolio; "
                                   "allow more time (--time-limit) or use fewer runs") from exc
        x = self._certify(clock, model, layout, solution, start)
        if x is None and start is not None:
            x = start              # repairs found nothing better in time: the portfolio started from
        if x is None:
            if strict:
                raise SolverLimitError("the solver's answers count runs in balance that are not, and repairing "
                                       "them found no portfolio in time; allow more time (--time-limit)")
            return None
        return _Answer(x, solution.status, _gap(self.value(model, layout, x), solution.bound, model.maximise),
                       solution.nodes)

    def _certify(self, clock: _Clock, model: MipModel, layout: Layout, solution: MipSolution,
                 start: np.ndarray | None) -> np.ndarray | None:
        """The solver's portfolio if every run it counts balances; else repaired (module docstring)."""
        x = _clean(self.problem, layout.x(solution.x))
        short = self._short(layout, solution.x, x)
        if not short.any():
            return x
        margin = np.zeros(self.problem.runs)
        bounds = fund_bounds(self.problem, limited=limited_by_fund(self.objective))
        for _ in range(REPAIR_ROUNDS):
            margin[short] = np.maximum(2.0 * margin[short], MOVE_MARGIN * bounds.big_m[short])
            moved = self._move_scales(clock, layout, solution.x, margin)
            if moved is not None and not self._short(layout, solution.x, moved).any():
                return moved
            margin[short] = np.maximum(margin[short], REPAIR_MARGIN * bounds.big_m[short])
            repaired, repaired_layout = self.model(margin)
            if start is not None:
                repaired.start = repaired_layout.point(self.problem, start)
            try:
                solution = clock.backend().solve(repaired)
            except SolverError:
                return None
            layout = repaired_layout
            x = _clean(self.problem, layout.x(solution.x))
            short |= self._short(layout, solution.x, x)
            if not self._short(layout, solution.x, x).any():
                return x
        return None

    def _short(self, layout: Layout, point: np.ndarray, x: np.ndarray) -> np.ndarray:
        """[R] runs the solver counts (a y at one) that do not balance with ``x``."""
        counted = np.zeros(self.problem.runs, dtype=bool)
        if self.objective != "benefit":
            counted[layout.free_runs] = layout.y(point) > 0.5
        return counted & ~self.problem.balanced(x)

    def _move_scales(self, clock: _Clock, layout: Layout, point: np.ndarray, margin: np.ndarray) -> np.ndarray | None:
        """The schemes and the runs counted held fixed, the scalable schemes' scales moved so that the
        counted runs balance with ``margin`` (a linear programme); None if that cannot be done."""
        model, moved_layout = self.model(margin)
        if moved_layout.free_runs.size != layout.free_runs.size:
            return None
        S = layout.schemes
        fixed = np.r_[np.zeros(S, dtype=bool), np.ones(model.columns - S, dtype=bool)]
        fixed[:S] = model.integer[:S]
        values = np.round(point)
        model.lower = np.where(fixed, values, model.lower)
        model.upper = np.where(fixed, values, model.upper)
        model.integer = np.zeros(model.columns, dtype=bool)
        try:
            solution = clock.backend().solve(model)
        except SolverError:
            return None
        return _clean(self.problem, moved_layout.x(solution.x))


def _gap(value: float, bound: float | None, maximise: bool) -> float | None:
    """Relative gap between a portfolio's value and the programme's bound (0 when the bound is met)."""
    if bound is None or not np.isfinite(bound):
        return None
    short = (bound - value) if maximise else (value - bound)
    if short <= 1e-9 * max(1.0, abs(value)):
        return 0.0
    return None if value == 0 else float(short / abs(value))


def _starting_portfolio(problem: PortfolioProblem, clock: _Clock) -> np.ndarray:
    """The best known portfolio in runs balanced: the expected-benefit optimum or the one-at-a-time
    ranking (when it meets the rules)."""
    from devolve.engines.optimise.compare import one_at_a_time

    best = _Stage(problem, "benefit").run(clock).x
    ranked = one_at_a_time(problem, "balance")
    if not violations(problem, ranked) and problem.balanced(ranked).sum() > problem.balanced(best).sum():
        best = ranked
    return best


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
