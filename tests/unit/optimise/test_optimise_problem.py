"""Bad input gets a clear error; infeasible problems say which constraint binds."""

from __future__ import annotations

import numpy as np
import pytest

from devolve.domain.errors import InputError
from devolve.engines.optimise import (Candidate, Floor, HighsSolver, InfeasibleError, PortfolioProblem, evaluate,
                                      one_at_a_time, solve)
from devolve.engines.optimise.synthetic import synthetic_problem

SOLVER = HighsSolver(time_limit=20, mip_rel_gap=0.0)


def small(**rules) -> PortfolioProblem:
    investment = rules.pop("investment", [[10.0, 10.0], [5.0, 5.0], [8.0, 0.0]])
    candidates = rules.pop("candidates", ["a", "b", "c"])
    net_benefit = rules.pop("net_benefit", [[5.0, 1.0, 2.0], [7.0, 3.0, -1.0]])
    return PortfolioProblem.from_arrays(net_benefit, investment, rules.pop("gap", [30.0, 10.0]),
                                        candidates=candidates, **rules)


def test_negative_cost_is_refused():
    with pytest.raises(InputError, match=r"scheme 'b': investment in year 2 is negative"):
        small(investment=[[10.0, 10.0], [5.0, -5.0], [8.0, 0.0]])


def test_dependency_cycle_is_refused():
    with pytest.raises(InputError, match=r"cycle: a needs b needs c needs a"):
        small(dependencies=[("a", "b"), ("b", "c"), ("c", "a")])


@pytest.mark.parametrize("rules, message", [
    ({"dependencies": [("a", "zzz")]}, "unknown scheme 'zzz'"),
    ({"exclusions": [("nope", "a")]}, "unknown scheme 'nope'"),
    ({"floors": [Floor("partner:x", 0.1)]}, "unknown group 'partner:x'"),
    ({"candidates": ["a", "a", "c"]}, "listed twice"),
    ({"fund_gbp": -1.0}, "non-negative"),
    ({"cash_limits": [1.0]}, "one non-negative amount for each"),
    ({"net_benefit": [[np.nan, 1.0, 2.0], [7.0, 3.0, -1.0]]}, "not finite"),
    ({"gap": [1.0]}, "shapes disagree"),
    ({"target_probability": 1.5}, "between 0 and 1"),
])
def test_bad_input_says_what_is_wrong(rules, message):
    with pytest.raises(InputError, match=message):
        small(**rules)


def test_bad_scales_are_refused():
    with pytest.raises(InputError, match="min_scale 2, max_scale 1"):
        Candidate("a", scalable=True, min_scale=2.0, max_scale=1.0)


def test_unknown_objective():
    with pytest.raises(InputError, match="unknown objective 'cheapest'"):
        solve(small(), "cheapest", SOLVER)


def test_required_scheme_above_the_fund_names_the_fund():
    problem = small(candidates=[Candidate("a", required=True), "b", "c"], fund_gbp=15.0)
    with pytest.raises(InfeasibleError, match="the fund constraint binds: the cheapest portfolio meeting the other "
                                              r"constraints costs £20, above the fund of £15") as caught:
        solve(problem, "benefit", SOLVER)
    assert caught.value.constraint == "fund"
    assert isinstance(caught.value, InputError)


def test_required_scheme_spending_too_early_names_the_yearly_limits():
    problem = small(candidates=["a", "b", Candidate("c", required=True)], fund_gbp=100.0, cash_limits=[5.0, 50.0])
    with pytest.raises(InfeasibleError, match="yearly cash limits constraint binds") as caught:
        solve(problem, "balance", SOLVER)
    assert caught.value.constraint == "yearly cash limits"


def test_a_floor_against_a_required_scheme_names_both():
    # b is required (£10) and p's only scheme (a, £20) does not fit beside it: 90% for p is unreachable
    problem = small(candidates=[Candidate("a", groups={"partner:p": 1.0}), Candidate("b", required=True), "c"],
                    floors=[Floor("partner:p", 0.9)], fund_gbp=15.0)
    with pytest.raises(InfeasibleError, match=r"the required schemes constraint binds \(relaxing fairness floors "
                                              r"alone would also do\)"):
        solve(problem, "benefit", SOLVER)


def test_unreachable_target_says_how_far():
    problem = small(target_probability=1.0, gap=[1000.0, 0.0])
    with pytest.raises(InfeasibleError, match=r"at most 50.0% of runs can balance whatever the fund, below the "
                                              r"target of 100.0%"):
        solve(problem, "min-fund", SOLVER)


def test_dependencies_and_exclusions_hold():
    problem = small(dependencies=[("b", "c")], exclusions=[("a", "c")], fund_gbp=100.0)
    x = solve(problem, "benefit", SOLVER).scales
    assert not (x[1] > 0 and x[2] == 0)
    assert not (x[0] > 0 and x[2] > 0)


def test_evaluate_counts_balance_and_benefit():
    problem = small()
    e = evaluate(problem, [1.0, 0.0, 0.0])
    # saving = net benefit + investment (20): runs 25 and 27 against gaps 30 and 10
    assert e.probability_of_balance == 0.5
    assert e.expected_net_benefit_gbp == 6.0
    assert e.investment_gbp == 20.0


def test_one_at_a_time_respects_the_fund_and_the_rules():
    problem = synthetic_problem(12, 50, seed=3)
    x = one_at_a_time(problem, "benefit")
    assert evaluate(problem, x).feasible
    assert solve(problem, "benefit", SOLVER).portfolio.expected_net_benefit_gbp >= \
        evaluate(problem, x).expected_net_benefit_gbp - 1e-6


def test_the_solver_is_replaceable():
    class Counting:
        def __init__(self):
            self.calls = 0
            self.inner = HighsSolver()

        def solve(self, model):
            self.calls += 1
            return self.inner.solve(model)

    backend = Counting()
    solve(small(fund_gbp=30.0), "balance", backend)
    # a starting portfolio (the expected-benefit optimum), the most runs in balance, then the most benefit
    assert backend.calls == 3
