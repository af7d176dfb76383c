"""The shared solver module (devolve.engines.solver): models as data, one backend, one shape of answer."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from test_optimise_bruteforce import SOLVER, random_problem

from devolve.domain.errors import InputError
from devolve.engines.optimise.formulation import build
from devolve.engines.solver import HighsSolver, InfeasibleModelError, MipModel, SolverError, solve_to_optimality


def knapsack() -> MipModel:
    # max 5a + 4b + 3c subject to 2a + 3b + c <= 4, a, b, c binary: a and c (value 8)
    return MipModel.from_matrix("knapsack", [5.0, 4.0, 3.0], sparse.csr_matrix([[2.0, 3.0, 1.0]]), [-np.inf], [4.0],
                                np.zeros(3), np.ones(3), np.ones(3, dtype=bool), maximise=True, group="weight")


def test_a_model_solves_to_its_optimum():
    solution = HighsSolver().solve(knapsack())
    assert solution.status == "optimal"
    assert solution.x.round().tolist() == [1.0, 0.0, 1.0]
    assert solution.objective == pytest.approx(8.0)
    assert solution.gap == 0.0
    assert solve_to_optimality(HighsSolver(), knapsack()).round().tolist() == [1.0, 0.0, 1.0]


def test_rows_one_at_a_time_or_as_a_block_are_the_same_model():
    model = MipModel(np.array([5.0, 4.0, 3.0]), np.zeros(3), np.ones(3), np.ones(3, dtype=bool), True, "same")
    model.add_row([0, 1, 2], [2.0, 3.0, 1.0], -np.inf, 4.0, "weight")
    assert (model.matrix().toarray() == knapsack().matrix().toarray()).all()
    assert model.groups() == knapsack().groups() == ["weight"]


def test_an_infeasible_model_raises_naming_it():
    model = knapsack()
    model.add_row([0], [1.0], 2.0, np.inf, "impossible")     # a binary at least 2
    with pytest.raises(InfeasibleModelError, match="knapsack: no point meets every constraint"):
        HighsSolver().solve(model)
    assert issubclass(InfeasibleModelError, SolverError)


def test_bad_settings_are_refused():
    with pytest.raises(InputError, match="time limit"):
        HighsSolver(time_limit=0)
    with pytest.raises(InputError, match="optimality gap"):
        HighsSolver(mip_rel_gap=1.5)


def test_an_answer_from_a_start_is_the_value_of_its_point():
    # HiGHS 1.16, given a start that its presolve reduces, returned the start with another point's
    # objective (here 13.64 for a point worth 1.84); the solver checks and solves again without it
    problem = random_problem(855, 6, 2, rules=True)
    first, layout = build(problem, "balance")
    found = SOLVER.solve(first)
    second, _ = build(problem, "balance", at_least=int(problem.balanced(layout.x(found.x)).sum()), secondary=True)
    second.start = found.x
    answer = SOLVER.solve(second)
    assert answer.objective == pytest.approx(second.objective_of(answer.x), rel=1e-9)
    assert answer.objective == pytest.approx(13.642921070133205)
