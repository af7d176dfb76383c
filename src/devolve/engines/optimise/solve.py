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
answer, given at most :data:`SECOND_STAGE_SHARE` of the time limit).

**Groups of runs.** When more than :data:`GROUP_RUNS` runs need a binary and the whole programme
has not closed the gap in :data:`PROBE_SHARE` of the time limit, the first stage splits those runs
into groups and solves each group alone: a portfolio balances at most a group's best count of its
runs, so the sum of the groups' bounds (plus the runs that always balance) bounds every portfolio's
count — the scenario-decomposition bound of Ahmed, Luedtke, Song and Xie (Math. Programming 162,
2017) — and is much tighter than the relaxation of all runs together. The groups' portfolios are
candidates too. If the best is not within the gap of that bound, the programme is solved with its
count capped at the bound: over the schemes of the portfolios found, then whole.

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
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
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
#: The balance objective's runs with a binary, at most this many to a group when they are split.
GROUP_RUNS = 120
#: Share of the time limit the whole programme gets before the runs are split into groups (0: split at once).
PROBE_SHARE = 0.05
#: Share of the time left that the groups get, together.
GROUPS_SHARE = 0.7
#: Share of the time limit the balance objective's second stage gets at most.
SECOND_STAGE_SHARE = 0.1


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
        first = _most_runs(problem, clock, start)
        count = int(problem.balanced(first.x).sum())
        second = _Stage(problem, "balance", at_least=count, secondary=True).run(
            clock, first.x, strict=False, until=_second_stage_until(clock))
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
    bound: float | None = None   # the programme's bound on its objective


class _Clock:
    """The solver, given the time left of its limit at each solve (at least a second)."""

    def __init__(self, solver):
        self.solver = solver
        self.started = time.perf_counter()

    def spent(self) -> float:
        return time.perf_counter() - self.started

    def limited(self) -> bool:
        """Whether each solve's time can be set (a dataclass solver with a ``time_limit``)."""
        return dataclasses.is_dataclass(self.solver) and getattr(self.solver, "time_limit", None) is not None

    def left(self) -> float:
        return float(self.solver.time_limit) - self.spent()

    @property
    def target_gap(self) -> float:
        return float(getattr(self.solver, "mip_rel_gap", 0.0))

    def backend(self, until: float | None = None):
        """The solver with the time left, or up to ``until`` (seconds on this clock) if that is sooner."""
        if not self.limited():
            return self.solver
        left = self.left() if until is None else min(self.left(), until - self.spent())
        return dataclasses.replace(self.solver, time_limit=max(1.0, left))


@dataclass(frozen=True)
class _Stage:
    """One programme: build, solve, check the answer against the runs, repair it if need be."""

    problem: PortfolioProblem
    objective: str
    at_least: int | None = None
    secondary: bool = False
    at_most: int | None = None
    allowed: np.ndarray | None = None    # [S] schemes that may be chosen (None: all)

    def model(self, margin: np.ndarray | None = None) -> tuple[MipModel, Layout]:
        model, layout = build(self.problem, self.objective, at_least=self.at_least, at_most=self.at_most,
                              secondary=self.secondary, margin=margin)
        if self.allowed is not None:
            S, barred = layout.schemes, ~np.asarray(self.allowed, dtype=bool)
            model.upper = np.array(model.upper, dtype=float)
            model.upper[:S] = np.where(barred, 0.0, model.upper[:S])
            model.upper[S: 2 * S] = np.where(barred, 0.0, model.upper[S: 2 * S])
        return model, layout

    def value(self, model: MipModel, layout: Layout, x: np.ndarray) -> float:
        """The programme's objective at the portfolio ``x``, its runs counted by the definition."""
        if self.objective == "balance" and not self.secondary:
            return float(self.problem.balanced(x).sum())
        return float(np.dot(model.cost[: layout.schemes], x))

    def run(self, clock: _Clock, start: np.ndarray | None = None, *, strict: bool = True,
            until: float | None = None) -> _Answer | None:
        """The certified answer (``start``, a portfolio meeting the rules, when the solver's answer
        cannot be repaired in time). ``strict`` False (a second stage): None instead of raising when
        the solver finds nothing. ``until``: stop the solve by then (seconds on the clock)."""
        model, layout = self.model()
        if start is not None:
            model.start = layout.point(self.problem, start)
        try:
            solution = clock.backend(until).solve(model)
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
                       solution.nodes, solution.bound)

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


def _second_stage_until(clock: _Clock) -> float | None:
    """When the balance objective's second stage (a tie-break among the best counts) must stop."""
    if not clock.limited():
        return None
    return clock.spent() + SECOND_STAGE_SHARE * float(clock.solver.time_limit)


def _most_runs(problem: PortfolioProblem, clock: _Clock, start: np.ndarray) -> _Answer:
    """The balance objective's first stage: the most runs in balance (module docstring: groups of runs)."""
    def count(x: np.ndarray) -> int:
        return int(problem.balanced(x).sum())

    groups = _groups(problem)
    whole = _Stage(problem, "balance", at_least=count(start))
    if len(groups) < 2 or not clock.limited():
        return whole.run(clock, start)
    best, bound, nodes = start, float("inf"), 0
    if PROBE_SHARE > 0:
        probe = whole.run(clock, start, strict=False, until=PROBE_SHARE * float(clock.solver.time_limit))
        if probe is not None:
            if probe.status == "optimal" or (probe.gap is not None and probe.gap <= clock.target_gap):
                return probe
            best, nodes = _better(problem, best, probe.x), probe.nodes
            bound = min(bound, probe.bound if probe.bound is not None else bound)
    # each group of runs alone: its best count bounds the group's share of any portfolio's count
    found = [best]
    total = float(fund_bounds(problem, limited=True).always.sum())
    # HiGHS solves concurrently from separate threads (each has its own task scheduler); another
    # solver, whose thread safety is unknown, solves the groups one after another
    lanes = min(len(groups), os.cpu_count() or 1) if isinstance(clock.solver, HighsSolver) else 1
    groups_until = clock.spent() + GROUPS_SHARE * clock.left() / math.ceil(len(groups) / lanes)
    known = best

    def solve_group(runs: np.ndarray) -> _Answer | None:
        group = problem.of_runs(runs)
        return _Stage(group, "balance", at_least=int(group.balanced(known).sum())).run(
            clock, known, strict=False, until=groups_until)

    with ThreadPoolExecutor(max_workers=lanes) as pool:
        answers = list(pool.map(solve_group, groups))      # in group order, whichever finishes first
    for runs, answer in zip(groups, answers):
        if answer is None or answer.bound is None or not np.isfinite(answer.bound):
            total += runs.size
            continue
        total += math.floor(answer.bound + 1e-6)
        found.append(answer.x)
        nodes += answer.nodes
    bound = min(bound, total)
    for x in found:
        best = _better(problem, best, x)
    status = "optimal"
    if _gap(count(best), bound, True) > clock.target_gap:
        # a neighbourhood first (only the schemes of the portfolios found), then the whole programme,
        # each with the count capped at the bound
        allowed = np.any([x > 0 for x in found], axis=0)
        for only, until in ((allowed, clock.spent() + clock.left() / 2), (None, None)):
            answer = _Stage(problem, "balance", at_least=count(best), at_most=int(bound), allowed=only).run(
                clock, best, strict=False, until=until)
            if answer is not None:
                best, nodes = _better(problem, best, answer.x), nodes + answer.nodes
                if only is None and answer.bound is not None:
                    bound = min(bound, answer.bound)
                    status = answer.status
            if _gap(count(best), bound, True) <= clock.target_gap:
                status = "optimal"
                break
            status = "time_limit"
    return _Answer(best, status, _gap(count(best), bound, True), nodes, bound)


def _groups(problem: PortfolioProblem) -> list[np.ndarray]:
    """The runs that need a binary, dealt in a fixed shuffled order into groups of at most
    :data:`GROUP_RUNS` (one group when they are that few)."""
    free = fund_bounds(problem, limited=True).free
    k = math.ceil(free.size / GROUP_RUNS)
    if k < 2:
        return [free]
    order = np.random.default_rng(0).permutation(free)
    return [np.sort(order[g::k]) for g in range(k)]


def _better(problem: PortfolioProblem, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Of two portfolios, the one with more runs in balance (then the larger expected net benefit)."""
    mean = problem.net_benefit.mean(axis=0)
    key = (lambda x: (int(problem.balanced(x).sum()), float(mean @ x)))
    return b if key(b) > key(a) else a


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
