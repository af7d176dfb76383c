"""Invariants of fair shares and pace of change (Hypothesis).

Shares add up to one and money to the pool exactly at every level; raising an area's need never
lowers its share; scaling every population count leaves shares unchanged; the pace of change never
breaks its floors and caps.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devolve.domain.parameters import ParameterSet
from devolve.engines.allocate import allocate, pace
from devolve.engines.allocate.policy import PaceOfChange
from devolve.packs.synthetic import generate_deal

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DISJOINT = ("area", "district", "ccg")


@lru_cache(maxsize=1)
def small_deal():
    return generate_deal(districts=3, areas_per_district=12, seed=7)


def _with(deal, values: dict[str, float]):
    parameters = deal.parameters
    for path, value in values.items():
        parameters = parameters.replaced(path, parameters[path].with_value(deal.start, value))
    return replace(deal, parameters=ParameterSet(parameters.parameters))


weights = st.lists(st.floats(0.01, 1.0), min_size=8, max_size=8)


@SETTINGS
@given(raw=weights, elasticity=st.floats(0.0, 0.5), hi=st.floats(0.0, 1.0), gradient=st.floats(0.0, 1.0))
def test_shares_add_up_to_one_and_money_to_the_pool_at_every_level(raw, elasticity, hi, gradient):
    deal = small_deal()
    components = sorted({p.split(".")[2] for p in deal.parameters.under("allocation.components")})
    total = sum(raw)
    changes = {f"allocation.components.{c}.weight": w / total for c, w in zip(components, raw)}
    changes["allocation.need.general_acute.income"] = elasticity
    changes["allocation.health_inequalities.weight"] = hi
    changes["allocation.health_inequalities.gradient"] = gradient
    changed = _with(deal, changes)
    for level in ("area", "district", "ccg", "partner"):
        result = allocate(changed, level=level)
        pool = result.pool_pence
        assert result.table["target_share"].sum() == pytest.approx(1.0, abs=1e-9)
        for column in ("target_pence", "current_pence", "allocation_pence"):
            assert int(result.table[column].sum()) == pool, (level, column)
        for year, group in result.path.group_by("year"):
            assert int(group["allocation_pence"].sum()) == changed.pooled_budget[
                next(y for y in changed.financial_years if y.label == year[0])]


@SETTINGS
@given(area=st.integers(0, 35), column=st.sampled_from(["illness_ratio", "acute_morbidity", "mood_anxiety", "ypll",
                                                          "income_numerator", "older_income_numerator",
                                                          "employment_numerator"]),
       increase=st.floats(0.01, 200.0))
def test_raising_an_areas_need_never_lowers_its_share(area, column, increase):
    deal = small_deal()
    before = allocate(deal, level="area").table["target_share"][area]
    small = deal.small_areas
    values = small[column].to_numpy(allow_copy=True).astype(float)
    values = np.nan_to_num(values)
    values[area] += increase if small[column].dtype == pl.Float64 else round(increase)
    raised = replace(deal, small_areas=small.with_columns(pl.Series(column, values).cast(small[column].dtype)))
    after = allocate(raised, level="area").table["target_share"][area]
    assert after >= before - 1e-12


@SETTINGS
@given(factor=st.integers(2, 9))
def test_scaling_every_population_count_leaves_shares_unchanged(factor):
    deal = small_deal()
    counts = ["population", "pop_0_15", "pop_16_59", "pop_60_plus", "income_numerator", "employment_numerator",
              "older_income_numerator"]
    scaled = replace(deal,
                     small_areas=deal.small_areas.with_columns(pl.col(c) * factor for c in counts),
                     population=deal.population.with_columns(pl.col("population") * factor))
    for level in DISJOINT:
        a = allocate(deal, level=level).table["target_share"].to_numpy()
        b = allocate(scaled, level=level).table["target_share"].to_numpy()
        assert b == pytest.approx(a, rel=1e-9, abs=1e-15)


@st.composite
def pace_inputs(draw):
    n = draw(st.integers(1, 12))
    prev = np.array(draw(st.lists(st.floats(1.0, 1000.0), min_size=n, max_size=n)))
    shares = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=n, max_size=n)))
    min_growth = draw(st.floats(-0.05, 0.03))
    growth = draw(st.floats(min_growth, 0.10))            # the pool's growth: at least the floor's
    pool = float(prev.sum() * (1 + growth))
    target = pool * shares / shares.sum()
    policy = PaceOfChange(min_growth, draw(st.floats(0.0, 0.2)), draw(st.floats(min_growth, 0.1)),
                          draw(st.floats(0.0, 1.0)))
    return prev, target, pool, policy


@settings(max_examples=300, deadline=None)
@given(pace_inputs())
def test_pace_of_change_never_exceeds_its_caps(inputs):
    prev, target, pool, policy = inputs
    got = pace.step(prev, target, pool, policy)
    tol = 1e-7 * pool
    assert got.sum() == pytest.approx(pool, abs=tol)
    assert np.all(got >= prev * (1 + policy.min_growth) - tol), "minimum growth"
    over = prev >= target
    assert np.all(got[over] <= np.maximum(target, prev * (1 + policy.over_target_growth_cap))[over] + tol), \
        "limit for those over target"
    under = ~over
    assert np.all(got[under] <= np.maximum(target, prev * (1 + policy.min_growth))[under] + tol), \
        "under-target units do not overshoot their target"
    floors = np.maximum(prev * (1 + policy.min_growth), target * (1 - policy.max_under_target))
    if floors.sum() <= pool - tol:
        assert np.all(got >= target * (1 - policy.max_under_target) - tol), "cap on distance under target"


@settings(max_examples=100, deadline=None)
@given(pace_inputs())
def test_the_worst_distance_under_target_never_gets_worse_than_the_floors_force(inputs):
    prev, target, pool, policy = inputs
    got = pace.step(prev, target, pool, policy)
    base = prev * (1 + policy.min_growth)
    worst_before = np.max(1 - base / target)
    worst_after = np.max(1 - got / target)
    assert worst_after <= worst_before + 1e-9
