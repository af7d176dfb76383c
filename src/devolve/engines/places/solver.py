"""Mixed-integer programmes and the backend that solves them (HiGHS, through highspy).

Models in this package build a :class:`MipProblem` and call ``solver.solve(problem)``; the solver
is passed in, so a test or a user can swap it. A solve that does not end optimal raises
:class:`SolverError` with the model's name and the solver's status.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import sparse

from devolve.domain.errors import DevolveError


class SolverError(DevolveError):
    """A model could not be solved to optimality (infeasible, unbounded, or the solver stopped)."""


@dataclass(frozen=True)
class MipProblem:
    """``min (or max) cost·x`` subject to ``row_lower ≤ A x ≤ row_upper``, ``lower ≤ x ≤ upper``."""

    name: str
    cost: np.ndarray
    matrix: sparse.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray           # bool per column
    maximise: bool = False


class MipSolver(Protocol):
    name: str

    def solve(self, problem: MipProblem) -> np.ndarray: ...


@contextmanager
def _quiet_stdout():
    """HiGHS prints a banner from C++ when the first solver is made; keep it off stdout (JSON goes there)."""
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
    """The HiGHS MIP solver. ``time_limit`` in seconds per model; ``gap`` the relative MIP gap."""

    time_limit: float = 60.0
    gap: float = 1e-9
    name: str = "highs"

    def solve(self, problem: MipProblem) -> np.ndarray:
        import highspy

        n = len(problem.cost)
        if n == 0:
            return np.zeros(0)
        with _quiet_stdout():
            highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("time_limit", float(self.time_limit))
        highs.setOptionValue("mip_rel_gap", float(self.gap))
        lp = highspy.HighsLp()
        lp.num_col_ = n
        lp.num_row_ = problem.matrix.shape[0]
        lp.col_cost_ = np.asarray(problem.cost, dtype=float)
        lp.col_lower_ = np.asarray(problem.lower, dtype=float)
        lp.col_upper_ = np.asarray(problem.upper, dtype=float)
        lp.row_lower_ = np.asarray(problem.row_lower, dtype=float)
        lp.row_upper_ = np.asarray(problem.row_upper, dtype=float)
        matrix = sparse.csc_matrix(problem.matrix)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data.astype(float)
        lp.a_matrix_.num_col_ = n
        lp.a_matrix_.num_row_ = matrix.shape[0]
        lp.integrality_ = [highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
                           for flag in problem.integer]
        if problem.maximise:
            lp.sense_ = highspy.ObjSense.kMaximize
        highs.passModel(lp)
        highs.run()
        status = highs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolverError(f"{problem.name}: HiGHS ended with status '{highs.modelStatusToString(status)}', "
                              "not an optimal solution")
        return np.asarray(highs.getSolution().col_value, dtype=float)
