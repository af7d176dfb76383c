"""Runs the SII/RII cases in tests/cases/indicators_inequality.yaml (hand-computed and PHE's published
worked examples) and checks local deprivation deciles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from devolve.engines.indicators import IndicatorError, assign_deciles, slope_index

CASES_FILE = Path(__file__).resolve().parents[2] / "cases" / "indicators_inequality.yaml"
CASES = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))["cases"]


def _index(case):
    return slope_index(case["values"], case["standard_errors"], case["population"])


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_inequality_case(case):
    if "error" in case:
        with pytest.raises(IndicatorError, match=case["error"]):
            _index(case)
        return
    result = _index(case)
    tolerance = case.get("tolerance", 1e-6)
    for key, expected in case["expected"].items():
        got = getattr(result, key)
        if key in ("sii_lower", "sii_upper") and "ci_tolerance" in case:
            assert got == pytest.approx(expected, rel=case["ci_tolerance"]), key
        else:
            assert got == pytest.approx(expected, abs=tolerance), key


def test_simulated_interval_agrees_with_the_analytic_one():
    case = CASES[2]  # PHE area1
    analytic = _index(case)
    simulated = slope_index(case["values"], case["standard_errors"], case["population"], method="simulation",
                            repetitions=20_000, seed=7)
    assert simulated.sii == analytic.sii
    assert simulated.sii_lower == pytest.approx(analytic.sii_lower, rel=0.03)
    assert simulated.sii_upper == pytest.approx(analytic.sii_upper, rel=0.03)
    assert simulated.rii_lower == pytest.approx(analytic.rii_lower, rel=0.05)
    again = slope_index(case["values"], case["standard_errors"], case["population"], method="simulation",
                        repetitions=20_000, seed=7)
    assert again == simulated


def test_a_flat_profile_has_no_slope():
    result = slope_index([5.0] * 10, [0.2] * 10, list(range(100, 1100, 100)))
    assert result.sii == pytest.approx(0.0, abs=1e-9)
    assert result.rii == pytest.approx(0.0, abs=1e-9)
    assert result.sii_lower < 0 < result.sii_upper


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=5000), min_size=10, max_size=60),
       st.integers(min_value=1, max_value=4), st.randoms(use_true_random=False))
def test_local_deciles_follow_deprivation_within_each_unit(populations, units, rnd):
    n = len(populations)
    unit = np.array([rnd.randrange(units) for _ in range(n)])
    rank = np.array(rnd.sample(range(1, 10 * n), n), dtype=float)
    pop = np.array(populations, dtype=float)
    decile = assign_deciles(unit, rank, pop)
    assert decile.min() >= 1 and decile.max() <= 10
    for u in np.unique(unit):
        members = np.flatnonzero(unit == u)
        ordered = members[np.argsort(rank[members])]
        assert np.all(np.diff(decile[ordered]) >= 0)  # more deprived areas never in a later decile
        # each area's decile holds the midpoint of its population share
        cumulative = np.cumsum(pop[ordered])
        midpoint = (cumulative - pop[ordered] / 2) / cumulative[-1]
        assert np.all(decile[ordered] == np.minimum(10, np.floor(midpoint * 10) + 1))
