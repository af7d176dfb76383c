"""The Monte Carlo kernel: reproducible, central run 0, calibration, schemes, unit costs, decomposition."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from devolve.domain.scenario import ParameterChange, Scenario
from devolve.engines.forecast import RunArrays, driver_names, simulate
from devolve.packs.loader import load_deal
from devolve.services.forecast import prepare, run_forecast

START = date(2016, 4, 1)


@pytest.fixture(scope="module")
def deal(tmp_path_factory):
    return load_deal("greater-manchester-2016", data_dir=tmp_path_factory.mktemp("no-data"))


def _scenario(*changes, name="test") -> Scenario:
    return Scenario(name, tuple(ParameterChange(path, when, value) for path, when, value in changes))


@pytest.fixture(scope="module")
def plan_model(deal):
    return prepare(deal, _scenario(("forecast.plan_efficiencies", START, 0.044),
                                   ("fiscal.health_precept.gbp_per_band_d", date(2017, 4, 1), 40),
                                   ("fiscal.rates_discount.discount", date(2018, 4, 1), 0.2)))


def test_a_runs_numbers_depend_only_on_the_seed_and_its_index(plan_model):
    whole = simulate(plan_model, np.arange(12), seed=11)
    parts = RunArrays.concat([simulate(plan_model, [7, 8, 9, 10, 11], 11), simulate(plan_model, np.arange(7), 11)])
    order = np.argsort(parts.run)
    np.testing.assert_array_equal(parts.gap[order], whole.gap)
    np.testing.assert_array_equal(parts.drivers[order], whole.drivers)
    alone = simulate(plan_model, [9], 11)
    np.testing.assert_array_equal(alone.activity[0], whole.activity[9])


def test_the_seed_changes_the_runs_but_not_the_central_run(plan_model):
    a, b = simulate(plan_model, np.arange(4), 1), simulate(plan_model, np.arange(4), 2)
    np.testing.assert_array_equal(a.gap[0], b.gap[0])
    assert not np.array_equal(a.gap[1:], b.gap[1:])


def test_the_first_years_do_nothing_spend_is_the_pooled_budget_in_every_run(deal, plan_model):
    arrays = simulate(plan_model, np.arange(20), 3)
    budget = deal.pooled_budget[deal.financial_years[0]] / 100
    np.testing.assert_allclose(arrays.do_nothing_spend[:, 0], budget, rtol=1e-12)
    assert len(set(np.round(arrays.calibration, 9))) > 1   # the calibration follows each run's need draw


def test_the_decomposition_adds_up_to_the_final_years_gap(plan_model):
    arrays = simulate(plan_model, np.arange(30), 5)
    np.testing.assert_allclose(arrays.drivers.sum(axis=1), arrays.gap[:, -1], rtol=0, atol=1e-3)
    names = driver_names(plan_model)
    assert names[0] == "first-year gap" and "lever: health tax" in names and "budget change" in names
    by_name = dict(zip(names, arrays.drivers[0]))
    assert by_name["lever: health tax"] < 0 and by_name["lever: rates discount"] > 0
    assert by_name["plan efficiencies"] < 0 and by_name["demography"] > 0


def test_the_decomposition_table_adds_up_in_exact_pence(deal):
    result = run_forecast(deal, scenario=_scenario(("forecast.plan_efficiencies", START, 0.03)), runs=40, seed=2)
    pence = result.decomposition["pence"].to_list()
    assert all(isinstance(p, int) for p in pence)
    central = result.years["gap_central_gbp"][-1]
    assert abs(sum(pence) - central * 100) <= 1   # one rounding of the running total, to the penny


def test_a_scheme_with_zero_effect_changes_nothing(deal):
    scheme = next(s for s in deal.schemes if s.effects)
    zero = [(f"schemes.{scheme.id}.effects.{n}.{side}", START, 0.0)
            for n in range(1, len(scheme.effects) + 1) for side in ("low", "high")]
    with_zero = simulate(prepare(deal, _scenario(*zero)), np.arange(10), 4)
    without = simulate(prepare(deal, _scenario((f"schemes.{scheme.id}.scale", START, 0.0))), np.arange(10), 4)
    index = [s.id for s in deal.schemes].index(scheme.id)
    assert not with_zero.scheme_cost[:, index].any() and not with_zero.scheme_substitution[:, index].any()
    np.testing.assert_array_equal(with_zero.service_spend, without.service_spend)
    np.testing.assert_array_equal(with_zero.activity, without.activity)
    np.testing.assert_allclose(with_zero.gap, without.gap, rtol=0, atol=1e-3)   # its investment is funded


def _unit_costs(deal, factor):
    return [(f"unit_costs.{s.id}", START, deal.parameters.at(f"unit_costs.{s.id}", START) * factor)
            for s in deal.service_lines]


def test_doubling_unit_costs_doubles_cost(deal):
    off = ("forecast.reconcile_baseline", START, False)
    single = simulate(prepare(deal, _scenario(off)), np.arange(8), 9)
    double = simulate(prepare(deal, _scenario(off, *_unit_costs(deal, 2.0))), np.arange(8), 9)
    np.testing.assert_allclose(double.do_nothing_spend, 2 * single.do_nothing_spend, rtol=1e-12)
    np.testing.assert_allclose(double.service_spend, 2 * single.service_spend, rtol=1e-12)
    np.testing.assert_allclose(double.scheme_cost, 2 * single.scheme_cost, rtol=1e-9, atol=1e-6)
    assert (single.calibration == 1).all()


def test_reconciling_to_the_budget_absorbs_a_uniform_change_in_unit_costs(deal):
    single = simulate(prepare(deal, Scenario.baseline()), np.arange(5), 9)
    double = simulate(prepare(deal, _scenario(*_unit_costs(deal, 2.0))), np.arange(5), 9)
    np.testing.assert_allclose(double.service_spend, single.service_spend, rtol=1e-9)
    np.testing.assert_allclose(double.calibration, single.calibration / 2, rtol=1e-12)


def test_do_nothing_has_no_scheme_money_and_no_scheme_effect(deal):
    arrays = simulate(prepare(deal, _scenario(("forecast.schemes_enabled", START, False))), np.arange(5), 1)
    assert not arrays.investment.any() and not arrays.fund_drawn.any()
    assert not arrays.scheme_cost.any() and not arrays.admissions_avoided.any()
    np.testing.assert_array_equal(arrays.service_spend, arrays.do_nothing_spend)


def test_care_moved_is_not_care_vanished(deal):
    arrays = simulate(prepare(deal, Scenario.baseline()), np.arange(5), 1)
    index = [s.id for s in deal.schemes].index("neighbourhood-teams")
    assert (arrays.scheme_substitution[:, index, -1] > 0).all()
    assert (arrays.scheme_cost[:, index, -1] + arrays.scheme_substitution[:, index, -1] < 0).all()
    lines = [s.id for s in deal.service_lines]
    community = lines.index("community_contact")
    assert (arrays.activity[:, -1, community] > arrays.activity_do_nothing[:, -1, community]).all()


def test_uncertainty_widens_the_gap_and_no_uncertainty_collapses_it(deal):
    spread = simulate(prepare(deal, Scenario.baseline()), np.arange(60), 8)
    assert np.percentile(spread.gap[:, -1], 90) - np.percentile(spread.gap[:, -1], 10) > 1e8
    halves = [p for p in deal.parameters if p.startswith(("forecast.uncertainty.", "fiscal.uncertainty."))]
    flat_effects = []
    for scheme in deal.schemes:
        for n, effect in enumerate(scheme.effects, start=1):
            middle = (effect.low + effect.high) / 2
            flat_effects += [(f"schemes.{scheme.id}.effects.{n}.low", START, middle),
                             (f"schemes.{scheme.id}.effects.{n}.high", START, middle)]
    certain = prepare(deal, _scenario(*[(p, START, 0.0) for p in halves], *flat_effects))
    arrays = simulate(certain, np.arange(6), 8)
    np.testing.assert_allclose(arrays.gap, np.broadcast_to(arrays.gap[0], arrays.gap.shape), rtol=1e-12, atol=1e-3)
