"""A mixed-integer linear programme as plain arrays, and the HiGHS backend that solves it.

The portfolio formulation (:mod:`devolve.engines.optimise.formulation`) writes a :class:`Milp`;
any object with ``solve(milp) -> MilpSolution`` can solve it, so the backend is passed in and
replaceable (:class:`HighsSolver`, through ``highspy``, is the default).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from devolve.domain.errors import InputError

INFINITY = float("inf")


@dataclass
class Milp:
    """``optimise c·x`` subject to ``row_lower ≤ A·x ≤ row_upper``, ``lower ≤ x ≤ upper``, with the
    columns in ``integer`` whole numbers. Rows are added one at a time, each with a group name
    (the constraint family it belongs to, e.g. ``"fund"``)."""

    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    maximise: bool
    rows: list[tuple[np.ndarray, np.ndarray, float, float, str]] = field(default_factory=list)
    start: np.ndarray | None = None   # a feasible point to start from (optional)
    offset: float = 0.0               # constant added to the objective (so the gap is relative to the whole)

    @property
    def columns(self) -> int:
        return self.cost.size

    def add_row(self, index, value, lower: float, upper: float, group: str) -> None:
        index = np.asarray(index, dtype=np.int32)
        value = np.asarray(value, dtype=float)
        keep = value != 0.0
        self.rows.append((index[keep], value[keep], float(lower), float(upper), group))

    def groups(self) -> list[str]:
        return list(dict.fromkeys(group for *_, group in self.rows))


@dataclass(frozen=True)
class MilpSolution:
    """What a backend found. ``status``: ``optimal``, ``time_limit`` (a feasible point, gap not
    closed), ``infeasible`` or ``no_solution`` (stopped before finding any feasible point)."""

    status: str
    x: np.ndarray | None
    objective: float | None
    bound: float | None
    gap: float | None          # relative optimality gap |bound − objective| / |objective| (0 when optimal)
    seconds: float
    nodes: int = 0


@contextlib.contextmanager
def _banner_off_stdout():
    """HiGHS prints a banner from C++ when a solver is made; keep it off stdout (JSON goes there)."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


@dataclass(frozen=True)
class HighsSolver:
    """HiGHS (branch and cut, through ``highspy``). ``time_limit`` in seconds, ``mip_rel_gap`` the
    relative gap at which it stops; ``threads`` None lets HiGHS choose."""

    time_limit: float = 60.0
    mip_rel_gap: float = 1e-4
    threads: int | None = None
    verbose: bool = False

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise InputError(f"the solver's time limit must be positive, not {self.time_limit}")
        if not 0 <= self.mip_rel_gap < 1:
            raise InputError(f"the optimality gap must be a share between 0 and 1, not {self.mip_rel_gap}")

    def solve(self, milp: Milp) -> MilpSolution:
        import highspy

        started = time.perf_counter()
        with _banner_off_stdout():
            h = highspy.Highs()
        h.setOptionValue("output_flag", bool(self.verbose))
        h.setOptionValue("time_limit", float(self.time_limit))
        h.setOptionValue("mip_rel_gap", float(self.mip_rel_gap))
        h.setOptionValue("random_seed", 0)
        if self.threads is not None:
            h.setOptionValue("threads", int(self.threads))
        lp = highspy.HighsLp()
        n = milp.columns
        lp.num_col_ = n
        lp.num_row_ = len(milp.rows)
        lp.col_cost_ = np.asarray(milp.cost, dtype=float)
        lp.col_lower_ = np.asarray(milp.lower, dtype=float)
        lp.col_upper_ = np.asarray(milp.upper, dtype=float)
        lp.row_lower_ = np.array([r[2] for r in milp.rows], dtype=float)
        lp.row_upper_ = np.array([r[3] for r in milp.rows], dtype=float)
        lp.offset_ = float(milp.offset)
        lp.sense_ = highspy.ObjSense.kMaximize if milp.maximise else highspy.ObjSense.kMinimize
        starts = np.zeros(len(milp.rows) + 1, dtype=np.int32)
        starts[1:] = np.cumsum([r[0].size for r in milp.rows])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_ = n
        lp.a_matrix_.num_row_ = len(milp.rows)
        lp.a_matrix_.start_ = starts
        lp.a_matrix_.index_ = np.concatenate([r[0] for r in milp.rows]) if milp.rows else np.zeros(0, np.int32)
        lp.a_matrix_.value_ = np.concatenate([r[1] for r in milp.rows]) if milp.rows else np.zeros(0)
        if milp.integer.any():
            lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                               for i in milp.integer]
        h.passModel(lp)
        if milp.start is not None:
            start = highspy.HighsSolution()
            start.col_value = list(np.asarray(milp.start, dtype=float))
            h.setSolution(start)
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        seconds = time.perf_counter() - started
        states = highspy.HighsModelStatus
        has_point = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
        if status == states.kInfeasible:
            return MilpSolution("infeasible", None, None, None, None, seconds)
        if status == states.kUnboundedOrInfeasible and not has_point:
            return MilpSolution("infeasible", None, None, None, None, seconds)
        if not has_point:
            return MilpSolution("no_solution", None, None, None, None, seconds)
        x = np.array(h.getSolution().col_value)
        objective = float(info.objective_function_value)
        integer_problem = bool(milp.integer.any())
        bound = float(info.mip_dual_bound) if integer_problem else objective
        gap = float(info.mip_gap) if integer_problem else 0.0
        if not np.isfinite(gap):
            gap = None
        name = "optimal" if status == states.kOptimal else "time_limit"
        if gap is None and name == "optimal":
            gap = 0.0
        return MilpSolution(name, x, objective, bound, gap, seconds,
                            int(info.mip_node_count) if integer_problem else 0)
