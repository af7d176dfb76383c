"""The hand-solved portfolio cases in tests/cases/optimise_portfolios.yaml."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from devolve.engines.optimise import Candidate, HighsSolver, PortfolioProblem, solve

CASES = yaml.safe_load((Path(__file__).parents[2] / "cases" / "optimise_portfolios.yaml").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case):
    scalable = case.get("scalable", {})
    candidates = [Candidate(s, scalable=s in scalable, min_scale=scalable.get(s, [1, 1])[0],
                            max_scale=scalable.get(s, [1, 1])[1]) for s in case["schemes"]]
    problem = PortfolioProblem.from_arrays(
        case["net_benefit"], case["investment"], case["gap"], candidates=candidates, fund_gbp=case.get("fund"),
        cash_limits=case.get("cash_limits"), dependencies=[tuple(p) for p in case.get("dependencies", [])],
        exclusions=[tuple(p) for p in case.get("exclusions", [])], target_probability=case.get("target", 0.8),
        tolerance_gbp=0.0)
    result = solve(problem, case["objective"], HighsSolver(mip_rel_gap=0.0))
    assert result.status == "optimal"
    assert np.allclose(result.scales, case["scales"], atol=1e-6)
    if "expected_net_benefit" in case:
        assert result.portfolio.expected_net_benefit_gbp == pytest.approx(case["expected_net_benefit"])
    if "probability_of_balance" in case:
        assert result.portfolio.probability_of_balance == pytest.approx(case["probability_of_balance"])
    if "fund_needed" in case:
        assert result.portfolio.investment_gbp == pytest.approx(case["fund_needed"])
