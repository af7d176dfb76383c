"""Capacity planning: sweeps one pathway at a time, and the least-cost mix meeting a target."""

from __future__ import annotations

import pytest

from devolve.domain.errors import InputError
from devolve.engines.flow import example_model
from devolve.engines.flow.plan import capacity_grid, plan_capacity


@pytest.fixture(scope="module")
def plan():
    return plan_capacity(example_model(days=180), target_fraction=0.5, replications=12, steps=5, verify=3, seed=4)


def test_each_pathway_is_swept_around_its_load_including_todays_capacity(plan):
    model = plan.baseline.model
    for p in model.pathways:
        rows = plan.sweep.filter(plan.sweep["pathway"] == p.name)
        assert p.capacity in rows["capacity"].to_list()
        assert rows.height >= 3
        today = rows.filter(rows["capacity"] == p.capacity)
        assert today["delayed_days_mean"][0] == pytest.approx(plan.baseline.summary.delayed_days.mean)


def test_delays_fall_as_a_pathways_places_rise(plan):
    rows = plan.sweep.filter(plan.sweep["pathway"] == "home_support").sort("capacity")
    delays = rows["pathway_delayed_days_mean"].to_list()
    assert delays[0] > delays[-1]
    assert all(later <= earlier + 1e-9 for earlier, later in zip(delays, delays[1:]))


def test_the_least_cost_mix_meets_the_target_and_is_the_cheapest_verified(plan):
    assert plan.target_delayed_days == pytest.approx(0.5 * plan.baseline.summary.delayed_days.mean)
    assert plan.best is not None
    assert plan.best.delayed_days.mean <= plan.target_delayed_days
    assert plan.best.meets_target
    meeting = [c for c in plan.candidates if c.meets_target]
    assert plan.best.total_cost.mean == min(c.total_cost.mean for c in meeting)
    assert plan.best.reduction.mean > 0          # paired against the baseline
    costs = plan.baseline.model.with_capacity(**plan.best.capacities).community_cost_per_day() * 180
    assert plan.best.community_cost == pytest.approx(costs)


def test_the_grid_reaches_above_the_offered_load():
    model = example_model()
    grid = capacity_grid(model, "home_support", 6)
    assert max(grid) > model.offered_load()["home_support"]
    assert min(grid) >= 0 and grid == sorted(set(grid))


@pytest.mark.parametrize("kwargs,message", [
    ({"target_fraction": 1.5}, "target must be a fraction"),
    ({"steps": 1}, "sweep steps"),
    ({"verify": 0}, "mixes to verify"),
])
def test_bad_plan_settings_are_refused(kwargs, message):
    with pytest.raises(InputError, match=message):
        plan_capacity(example_model(), replications=2, **kwargs)
