"""Five-year budget rules: the cases in tests/cases/forecast_budget.yaml, and properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from devolve.domain.errors import InputError
from devolve.engines.forecast.budget import BALANCE_TOLERANCE_GBP, apply_budget_rules

CASES = yaml.safe_load((Path(__file__).resolve().parents[2] / "cases" / "forecast_budget.yaml").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_budget_case(case):
    position = apply_budget_rules(np.array([case["gaps"]], dtype=float), np.array(case["budget"], dtype=float),
                                  case["limit"])
    np.testing.assert_allclose(position.carried[0], case["carried"], atol=1e-9)
    np.testing.assert_allclose(position.called[0], case["called"], atol=1e-9)
    np.testing.assert_allclose(position.returned[0], case["returned"], atol=1e-9)
    assert bool(position.balanced[0]) is case["balanced"]


gaps = hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)),
                  elements=st.floats(-5e8, 5e8, allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(gaps=gaps, limit=st.floats(0.0, 0.2), budget=st.floats(1e8, 1e10))
def test_money_is_neither_lost_nor_made(gaps, limit, budget):
    budgets = np.full(gaps.shape[1], budget)
    position = apply_budget_rules(gaps, budgets, limit)
    total = -gaps.sum(axis=1)
    np.testing.assert_allclose(total, position.carried[:, -1] + position.returned.sum(axis=1)
                               - position.called.sum(axis=1), rtol=1e-9, atol=1e-3)
    assert (np.abs(position.carried) <= limit * budget * (1 + 1e-12) + 1e-6).all()
    assert (position.carried[:, -1] >= 0).all()           # no deficit survives the last year
    assert (position.called >= 0).all() and (position.returned >= 0).all()
    np.testing.assert_array_equal(position.balanced, gaps.sum(axis=1) <= BALANCE_TOLERANCE_GBP)


@settings(max_examples=100, deadline=None)
@given(gaps=gaps, budget=st.floats(1e8, 1e10))
def test_with_a_limit_as_large_as_the_budget_only_the_final_deficit_is_called(gaps, budget):
    small = np.clip(gaps, -budget / 10, budget / 10) / gaps.shape[1]
    position = apply_budget_rules(small, np.full(gaps.shape[1], budget), 1.0)
    assert not position.called[:, :-1].any()
    np.testing.assert_allclose(position.called[:, -1], np.maximum(small.sum(axis=1), 0), rtol=1e-9, atol=1e-3)


def test_a_negative_limit_or_a_budget_per_year_missing_is_refused():
    with pytest.raises(InputError):
        apply_budget_rules(np.zeros((1, 2)), np.ones(2), -0.1)
    with pytest.raises(InputError):
        apply_budget_rules(np.zeros((1, 2)), np.ones(3), 0.02)
