"""The optimiser against every subset enumerated (all-or-nothing schemes, small random problems)."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from devolve.engines.optimise import Candidate, HighsSolver, InfeasibleError, PortfolioProblem, evaluate, solve
from devolve.engines.optimise.solve import violations

SOLVER = HighsSolver(time_limit=30, mip_rel_gap=0.0)


def random_problem(seed: int, schemes: int, runs: int, *, rules: bool) -> PortfolioProblem:
    rng = np.random.default_rng(seed)
    investment = rng.uniform(1.0, 10.0, (schemes, 3)).round(2)
    total = investment.sum(axis=1)
    saving = total[None, :] * rng.uniform(0.2, 2.0, schemes)[None, :] * (1 + 0.5 * rng.standard_normal((runs, schemes)))
    gap = rng.uniform(-5.0, 1.2 * total.sum(), runs)
    fund = float(rng.uniform(0.2, 0.8) * total.sum())
    dependencies, exclusions = (), ()
    if rules and schemes >= 4:
        dependencies = (("s0", "s1"),)
        exclusions = (("s2", "s3"),)
    return PortfolioProblem.from_arrays(saving - total[None, :], investment, gap,
                                        candidates=[Candidate(f"s{i}") for i in range(schemes)], fund_gbp=fund,
                                        cash_limits=np.full(3, fund / 2.5), dependencies=dependencies,
                                        exclusions=exclusions, tolerance_gbp=0.0, target_probability=0.5)


def subsets(problem: PortfolioProblem):
    for chosen in itertools.product((0.0, 1.0), repeat=len(problem.candidates)):
        x = np.array(chosen)
        if not violations(problem, x):
            yield x, evaluate(problem, x)


def balanced(problem: PortfolioProblem, x: np.ndarray) -> int:
    return int((problem.gap_without - problem.saving @ x <= problem.tolerance_gbp).sum())


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), schemes=st.integers(1, 7), runs=st.integers(1, 25), rules=st.booleans())
def test_benefit_matches_brute_force(seed, schemes, runs, rules):
    problem = random_problem(seed, schemes, runs, rules=rules)
    best = max(e.expected_net_benefit_gbp for _, e in subsets(problem))
    result = solve(problem, "benefit", SOLVER)
    assert result.status == "optimal"
    assert result.portfolio.feasible
    assert math.isclose(result.portfolio.expected_net_benefit_gbp, best, rel_tol=1e-7, abs_tol=1e-6)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), schemes=st.integers(1, 7), runs=st.integers(1, 25), rules=st.booleans())
def test_balance_matches_brute_force(seed, schemes, runs, rules):
    problem = random_problem(seed, schemes, runs, rules=rules)
    table = [(balanced(problem, x), e.expected_net_benefit_gbp) for x, e in subsets(problem)]
    most = max(count for count, _ in table)
    best_benefit = max(benefit for count, benefit in table if count == most)
    result = solve(problem, "balance", SOLVER)
    assert result.portfolio.feasible
    assert balanced(problem, result.scales) == most
    assert math.isclose(result.portfolio.expected_net_benefit_gbp, best_benefit, rel_tol=1e-6, abs_tol=1e-6)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), schemes=st.integers(1, 7), runs=st.integers(1, 25))
def test_min_fund_matches_brute_force(seed, schemes, runs):
    problem = random_problem(seed, schemes, runs, rules=False).with_fund(None)
    need = math.ceil(problem.target_probability * problem.runs - 1e-9)
    costs = [e.investment_gbp for x, e in subsets(problem) if balanced(problem, x) >= need]
    if not costs:
        try:
            solve(problem, "min-fund", SOLVER)
        except InfeasibleError as exc:
            assert exc.constraint == "target probability of balance"
            return
        raise AssertionError("an unreachable target was not reported")
    result = solve(problem, "min-fund", SOLVER)
    assert balanced(problem, result.scales) >= need
    assert math.isclose(result.portfolio.investment_gbp, min(costs), rel_tol=1e-7, abs_tol=1e-6)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), schemes=st.integers(1, 7), runs=st.integers(1, 25))
def test_more_fund_never_lowers_the_optimum(seed, schemes, runs):
    problem = random_problem(seed, schemes, runs, rules=True)
    fund = problem.fund_gbp
    previous_benefit, previous_balance = -np.inf, -1
    for factor in (0.5, 1.0, 1.5, 3.0):
        bigger = problem.with_fund(fund * factor)
        benefit = solve(bigger, "benefit", SOLVER).portfolio.expected_net_benefit_gbp
        count = balanced(bigger, solve(bigger, "balance", SOLVER).scales)
        assert benefit >= previous_benefit - 1e-6
        assert count >= previous_balance
        previous_benefit, previous_balance = benefit, count


def test_scalable_schemes_fill_the_fund_in_order_of_return():
    # two scalable schemes, one run: the LP answer is known by hand
    problem = PortfolioProblem.from_arrays(
        [[10.0, 3.0]], [[10.0], [10.0]], [100.0],
        candidates=[Candidate("a", scalable=True, min_scale=0.5, max_scale=2.0),
                    Candidate("b", scalable=True, min_scale=0.5, max_scale=2.0)], fund_gbp=25.0)
    result = solve(problem, "benefit", SOLVER)
    # a returns 1.0 per pound, b 0.3: a at its largest (£20), b takes the remaining £5 (scale 0.5)
    assert np.allclose(result.scales, [2.0, 0.5])
    assert math.isclose(result.portfolio.expected_net_benefit_gbp, 21.5)
