"""Mixed-integer linear programmes as data, and the backend that solves them (HiGHS, through highspy).

Every optimisation model in devolve has one shape: it is **built** from its inputs as a
:class:`MipModel`, **solved** by a backend passed in (any object with ``solve(model) -> MipSolution``;
:class:`HighsSolver` is the default), and the solve either **raises** or **returns a result**:

- :class:`InfeasibleModelError` when no point meets every constraint;
- :class:`SolverError` when the solver stopped (time limit) before it found any feasible point, or
  the model is unbounded;
- otherwise a :class:`MipSolution` with status ``optimal`` or ``time_limit`` (a feasible point whose
  optimality gap is not closed), the point, its objective, the solver's bound and the relative gap.

Models that must be solved to optimality (the places models) call :func:`solve_to_optimality`, which
also raises :class:`SolverError` on ``time_limit``. The portfolio optimiser reads the status and gap.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from scipy import sparse

from devolve.domain.errors import DevolveError, InputError

INFINITY = float("inf")


class SolverError(DevolveError):
    """A model could not be solved: infeasible, unbounded, or stopped before any feasible point."""


class InfeasibleModelError(SolverError):
    """No point meets every constraint of the model."""


@dataclass
class MipModel:
    """``optimise cost·x + offset`` subject to ``row_lower ≤ A·x ≤ row_upper``, ``lower ≤ x ≤ upper``,
    the columns flagged in ``integer`` whole numbers.

    Rows are added one at a time (:meth:`add_row`) or as a block (:meth:`add_rows`), each with a
    group name: the constraint family it belongs to (e.g. ``"fund"``), which infeasibility reports
    use. ``start`` is an optional feasible point to start from."""

    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    maximise: bool = False
    name: str = "model"
    offset: float = 0.0
    start: np.ndarray | None = None
    _index: list[np.ndarray] = field(default_factory=list, repr=False)
    _value: list[np.ndarray] = field(default_factory=list, repr=False)
    _row_lower: list[float] = field(default_factory=list, repr=False)
    _row_upper: list[float] = field(default_factory=list, repr=False)
    _group: list[str] = field(default_factory=list, repr=False)

    @classmethod
    def from_matrix(cls, name: str, cost, matrix, row_lower, row_upper, lower, upper, integer, *,
                    maximise: bool = False, group: str = "constraints") -> MipModel:
        """A model from a whole constraint matrix (any scipy sparse format or a dense array)."""
        model = cls(np.asarray(cost, dtype=float), np.asarray(lower, dtype=float), np.asarray(upper, dtype=float),
                    np.asarray(integer, dtype=bool), maximise, name)
        model.add_rows(matrix, row_lower, row_upper, group)
        return model

    @property
    def columns(self) -> int:
        return int(self.cost.size)

    @property
    def rows(self) -> int:
        return len(self._group)

    def add_row(self, index, value, lower: float, upper: float, group: str) -> None:
        index = np.asarray(index, dtype=np.int32).reshape(-1)
        value = np.asarray(value, dtype=float).reshape(-1)
        keep = value != 0.0
        self._index.append(index[keep])
        self._value.append(value[keep])
        self._row_lower.append(float(lower))
        self._row_upper.append(float(upper))
        self._group.append(group)

    def add_rows(self, matrix, lower, upper, group: str) -> None:
        rows = sparse.csr_matrix(matrix)
        lower = np.broadcast_to(np.asarray(lower, dtype=float), (rows.shape[0],))
        upper = np.broadcast_to(np.asarray(upper, dtype=float), (rows.shape[0],))
        for i in range(rows.shape[0]):
            span = slice(rows.indptr[i], rows.indptr[i + 1])
            self.add_row(rows.indices[span], rows.data[span], lower[i], upper[i], group)

    def groups(self) -> list[str]:
        """The constraint groups present, in the order first added."""
        return list(dict.fromkeys(self._group))

    def row_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self._row_lower, dtype=float), np.array(self._row_upper, dtype=float)

    def matrix(self) -> sparse.csr_matrix:
        """The constraint matrix, one row per constraint added."""
        starts = np.zeros(self.rows + 1, dtype=np.int64)
        starts[1:] = np.cumsum([i.size for i in self._index])
        index = np.concatenate(self._index) if self._index else np.zeros(0, np.int32)
        value = np.concatenate(self._value) if self._value else np.zeros(0)
        return sparse.csr_matrix((value, index, starts), shape=(self.rows, self.columns))

    def objective_of(self, x: np.ndarray) -> float:
        """``cost·x + offset`` at the point ``x``."""
        return float(np.dot(self.cost, x) + self.offset)


@dataclass(frozen=True)
class MipSolution:
    """A feasible point a backend found. ``status``: ``optimal``, or ``time_limit`` (the gap is not
    closed). ``gap`` is the relative optimality gap ``|bound − objective| / |objective|`` (0 when
    optimal)."""

    status: str
    x: np.ndarray
    objective: float
    bound: float | None
    gap: float | None
    seconds: float
    nodes: int = 0


class MipSolver(Protocol):
    def solve(self, model: MipModel) -> MipSolution: ...


def solve_to_optimality(solver: MipSolver, model: MipModel) -> np.ndarray:
    """The optimal point of ``model``; :class:`SolverError` (naming the model) when the solver stops
    with the gap still open."""
    solution = solver.solve(model)
    if solution.status != "optimal":
        gap = "unknown" if solution.gap is None else f"{solution.gap:.2%}"
        raise SolverError(f"{model.name}: the solver stopped at its time limit ({solution.seconds:.1f} s) "
                          f"before proving the answer optimal (gap {gap})")
    return solution.x


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
    """HiGHS (branch and cut, through ``highspy``). ``time_limit`` in seconds per model; ``mip_rel_gap``
    the relative gap at which it stops (default: solve to optimality); ``threads`` None lets HiGHS
    choose.

    A starting point (``model.start``) is handed to HiGHS. HiGHS 1.16 can mishandle one when its
    presolve reduces the model: it then reports an objective that is not the value of the point it
    returns (and may stop early on that false value). Every answer from a start is therefore
    checked, ``cost·x + offset`` against the reported objective, and on a mismatch the model is
    solved again without the start."""

    time_limit: float = 60.0
    mip_rel_gap: float = 1e-9
    threads: int | None = None
    verbose: bool = False

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise InputError(f"the solver's time limit must be positive, not {self.time_limit}")
        if not 0 <= self.mip_rel_gap < 1:
            raise InputError(f"the optimality gap must be a share between 0 and 1, not {self.mip_rel_gap}")

    def solve(self, model: MipModel) -> MipSolution:
        started = time.perf_counter()
        if model.start is None:
            return self._run(model, None, self.time_limit, started)
        solution = self._run(model, model.start, self.time_limit, started)
        if _consistent(model, solution):
            return solution
        left = max(1.0, self.time_limit - (time.perf_counter() - started))
        try:
            return self._run(model, None, left, started)
        except InfeasibleModelError:
            raise
        except SolverError:
            # no time left to find a point afresh: the start itself, with no bound
            x = np.asarray(model.start, dtype=float)
            return MipSolution("time_limit", x, model.objective_of(x), None, None, time.perf_counter() - started)

    def _run(self, model: MipModel, start: np.ndarray | None, time_limit: float, started: float) -> MipSolution:
        import highspy

        with _banner_off_stdout():
            h = highspy.Highs()
        h.setOptionValue("output_flag", bool(self.verbose))
        h.setOptionValue("time_limit", float(time_limit))
        h.setOptionValue("mip_rel_gap", float(self.mip_rel_gap))
        h.setOptionValue("random_seed", 0)
        if self.threads is not None:
            h.setOptionValue("threads", int(self.threads))
        n = model.columns
        if n == 0:
            return MipSolution("optimal", np.zeros(0), float(model.offset), float(model.offset), 0.0, 0.0)
        matrix = model.matrix()
        row_lower, row_upper = model.row_bounds()
        lp = highspy.HighsLp()
        lp.num_col_ = n
        lp.num_row_ = model.rows
        lp.col_cost_ = np.asarray(model.cost, dtype=float)
        lp.col_lower_ = np.asarray(model.lower, dtype=float)
        lp.col_upper_ = np.asarray(model.upper, dtype=float)
        lp.row_lower_ = row_lower
        lp.row_upper_ = row_upper
        lp.offset_ = float(model.offset)
        lp.sense_ = highspy.ObjSense.kMaximize if model.maximise else highspy.ObjSense.kMinimize
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_ = n
        lp.a_matrix_.num_row_ = model.rows
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data.astype(float)
        integer_model = bool(np.asarray(model.integer).any())
        if integer_model:
            lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                               for i in model.integer]
        h.passModel(lp)
        if start is not None:
            point = highspy.HighsSolution()
            point.col_value = list(np.asarray(start, dtype=float) + 0.0)   # + 0.0: no negative zeros
            h.setSolution(point)
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        seconds = time.perf_counter() - started
        states = highspy.HighsModelStatus
        has_point = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
        if status == states.kInfeasible or (status == states.kUnboundedOrInfeasible and not has_point):
            raise InfeasibleModelError(f"{model.name}: no point meets every constraint "
                                       f"(HiGHS status '{h.modelStatusToString(status)}')")
        if status == states.kUnbounded:
            raise SolverError(f"{model.name}: the objective is unbounded")
        if not has_point:
            raise SolverError(f"{model.name}: the solver stopped after {seconds:.1f} s (HiGHS status "
                              f"'{h.modelStatusToString(status)}') without finding any feasible point")
        x = np.array(h.getSolution().col_value, dtype=float)
        objective = float(info.objective_function_value)
        bound = float(info.mip_dual_bound) if integer_model else objective
        gap = float(info.mip_gap) if integer_model else 0.0
        name = "optimal" if status == states.kOptimal else "time_limit"
        if not np.isfinite(gap):
            gap = 0.0 if name == "optimal" else None
        return MipSolution(name, x, objective, bound, gap, seconds,
                           int(info.mip_node_count) if integer_model else 0)


def _consistent(model: MipModel, solution: MipSolution) -> bool:
    """Whether the reported objective is the value of the returned point."""
    value = model.objective_of(solution.x)
    return abs(value - solution.objective) <= 1e-7 * max(1.0, abs(value), abs(solution.objective))
