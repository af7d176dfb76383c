"""Choosing the transformation portfolio under uncertainty (sample average approximation, MILP).

Build a :class:`PortfolioProblem` from a forecast's Monte Carlo runs (:meth:`PortfolioProblem.from_forecast`)
or plain arrays (:meth:`PortfolioProblem.from_arrays`); :func:`solve` it for one objective —
``benefit`` (expected five-year net benefit), ``balance`` (probability of balance over five years,
a chance constraint with one binary per run) or ``min-fund`` (the least fund that reaches a target
probability of balance) — with a solver passed in (:class:`HighsSolver` by default). Compare with
the deal's own portfolio and with ranking schemes one at a time (:func:`comparison`), and trace the
efficient frontier of fund size against probability of balance (:func:`frontier`).

The method, with formulas and assumptions, is in ``docs/method/optimise.md``.
"""

from devolve.engines.optimise.compare import comparison, frontier, one_at_a_time
from devolve.engines.optimise.formulation import OBJECTIVES
from devolve.engines.optimise.problem import Candidate, Floor, PortfolioProblem
from devolve.engines.optimise.infeasibility import InfeasibleError
from devolve.engines.optimise.solve import (Evaluation, PortfolioResult, SolverLimitError, evaluate, portfolio_table,
                                            solve)
from devolve.engines.solver import HighsSolver, MipModel, MipSolution

__all__ = ["OBJECTIVES", "Candidate", "Evaluation", "Floor", "HighsSolver", "InfeasibleError", "MipModel",
           "MipSolution", "PortfolioProblem", "PortfolioResult", "SolverLimitError", "comparison", "evaluate",
           "frontier", "one_at_a_time", "portfolio_table", "solve"]
