"""Scenarios are data: dated parameter changes, combined with `+`; the baseline is the empty one."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devolve.domain.errors import ScenarioError
from devolve.domain.parameters import Parameter, ParameterSet
from devolve.domain.scenario import ParameterChange, Scenario

FIRST, LAST = date(2016, 4, 1), date(2021, 3, 31)
PATHS = ("fiscal.health_precept_gbp", "inflation.pay", "tariff.ae")


def _baseline_parameters() -> ParameterSet:
    return ParameterSet({
        "fiscal.health_precept_gbp": Parameter("fiscal.health_precept_gbp", "precept", "GBP_per_head", "s",
                                               ((date(2016, 4, 1), 0),)),
        "inflation.pay": Parameter("inflation.pay", "pay", "fraction", "s",
                                   ((date(2016, 4, 1), 0.01), (date(2018, 4, 1), 0.03))),
        "tariff.ae": Parameter("tariff.ae", "A&E tariff", "GBP_per_unit", "s", ((date(2016, 4, 1), 138),)),
    })


TAX = Scenario("tax", (ParameterChange("fiscal.health_precept_gbp", date(2017, 4, 1), 50, "£50 a head"),),
               "a health precept")
PAY_HIGH = Scenario("pay-high", (ParameterChange("inflation.pay", date(2017, 4, 1), 0.05),))
PAY_LOW = Scenario("pay-low", (ParameterChange("inflation.pay", date(2017, 4, 1), 0.0),), "low pay")


def test_baseline_is_the_empty_scenario():
    base = Scenario.baseline()
    assert base.name == "baseline" and base.changes == () and base.is_baseline
    assert not TAX.is_baseline


@pytest.mark.parametrize("scenario", [TAX, PAY_HIGH, TAX + PAY_LOW, Scenario.baseline()])
def test_baseline_is_the_identity_on_both_sides(scenario):
    assert Scenario.baseline() + scenario == scenario
    assert scenario + Scenario.baseline() == scenario


def test_combining_joins_names_changes_and_descriptions():
    both = TAX + PAY_LOW
    assert both.name == "tax+pay-low"
    assert both.changes == TAX.changes + PAY_LOW.changes
    assert both.description == "a health precept; low pay"
    assert (TAX + PAY_HIGH).description == "a health precept"


def test_combining_is_associative():
    assert ((TAX + PAY_HIGH) + PAY_LOW) == (TAX + (PAY_HIGH + PAY_LOW))


def test_right_wins_at_the_same_date():
    params = _baseline_parameters()
    when = date(2017, 6, 1)
    assert (PAY_HIGH + PAY_LOW).apply(params).at("inflation.pay", when) == 0.0
    assert (PAY_LOW + PAY_HIGH).apply(params).at("inflation.pay", when) == 0.05
    # one entry per date: the left change was replaced, not stacked
    dates = [d for d, _ in (PAY_HIGH + PAY_LOW).apply(params)["inflation.pay"].values]
    assert dates == sorted(set(dates))


def test_changes_to_different_parameters_both_apply():
    applied = (TAX + PAY_HIGH).apply(_baseline_parameters(), first=FIRST, last=LAST)
    assert applied.at("fiscal.health_precept_gbp", date(2017, 4, 1)) == 50
    assert applied.at("inflation.pay", date(2017, 4, 1)) == 0.05
    assert applied.at("tariff.ae", date(2017, 4, 1)) == 138


def test_a_change_holds_until_the_next_dated_value():
    applied = PAY_HIGH.apply(_baseline_parameters())
    assert applied.at("inflation.pay", date(2017, 3, 31)) == 0.01
    assert applied.at("inflation.pay", date(2018, 3, 31)) == 0.05
    assert applied.at("inflation.pay", date(2018, 4, 1)) == 0.03


def test_apply_notes_the_scenario_in_the_source():
    applied = TAX.apply(_baseline_parameters())
    assert applied["fiscal.health_precept_gbp"].source == "s; scenario tax: £50 a head"
    assert PAY_HIGH.apply(_baseline_parameters())["inflation.pay"].source == "s; scenario pay-high"


def test_apply_leaves_the_original_set_unchanged():
    params = _baseline_parameters()
    before = {path: params[path] for path in params}
    applied = (TAX + PAY_HIGH).apply(params)
    assert applied is not params
    assert {path: params[path] for path in params} == before
    assert params.at("fiscal.health_precept_gbp", date(2019, 1, 1)) == 0
    assert params["inflation.pay"].values == ((date(2016, 4, 1), 0.01), (date(2018, 4, 1), 0.03))


def test_the_baseline_applies_as_nothing():
    params = _baseline_parameters()
    assert Scenario.baseline().apply(params, first=FIRST, last=LAST) == params


def test_an_unknown_parameter_is_refused():
    bad = Scenario("typo", (ParameterChange("inflation.pya", date(2017, 4, 1), 0.05),))
    with pytest.raises(ScenarioError, match=r"'typo' changes 'inflation\.pya'.*not a parameter"):
        bad.apply(_baseline_parameters())


@pytest.mark.parametrize("start", [FIRST - timedelta(days=1), LAST + timedelta(days=1), date(2030, 4, 1)])
def test_a_date_outside_the_deal_is_refused(start):
    bad = Scenario("late", (ParameterChange("tariff.ae", start, 150),))
    with pytest.raises(ScenarioError, match="outside the deal's years"):
        bad.apply(_baseline_parameters(), first=FIRST, last=LAST)


def test_an_open_span_is_checked_on_its_given_side_only():
    early = Scenario("early", (ParameterChange("tariff.ae", date(2010, 4, 1), 150),))
    assert early.apply(_baseline_parameters(), last=LAST).at("tariff.ae", date(2011, 1, 1)) == 150
    with pytest.raises(ScenarioError, match="2016-04-01 to …"):
        early.apply(_baseline_parameters(), first=FIRST)


@pytest.mark.parametrize("start", [FIRST, LAST])
def test_the_first_and_last_days_are_inside(start):
    ok = Scenario("edge", (ParameterChange("tariff.ae", start, 150),))
    assert ok.apply(_baseline_parameters(), first=FIRST, last=LAST).at("tariff.ae", start) == 150


def test_a_refused_scenario_changes_nothing():
    params = _baseline_parameters()
    mixed = TAX + Scenario("typo", (ParameterChange("nope", date(2017, 4, 1), 1),))
    with pytest.raises(ScenarioError):
        mixed.apply(params)
    assert params.at("fiscal.health_precept_gbp", date(2019, 1, 1)) == 0


def test_scenarios_and_changes_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TAX.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        TAX.changes[0].value = 1  # type: ignore[misc]


changes = st.lists(
    st.builds(ParameterChange,
              path=st.sampled_from(PATHS),
              start=st.dates(min_value=date(2017, 1, 1), max_value=LAST),
              value=st.one_of(st.integers(-1000, 1000), st.floats(-1, 1, allow_nan=False), st.none())),
    min_size=1, max_size=8)


@given(changes, st.integers(min_value=0, max_value=3),
       st.dates(min_value=FIRST, max_value=date(2016, 12, 31)))
def test_before_all_its_changes_a_scenario_reads_as_the_baseline(scenario_changes, split, when):
    params = _baseline_parameters()
    scenario = Scenario("a", tuple(scenario_changes[:split])) + Scenario("b", tuple(scenario_changes[split:]))
    applied = scenario.apply(params, first=FIRST, last=LAST)
    for path in PATHS:
        assert applied.at(path, when) == params.at(path, when)


@given(changes)
def test_each_changed_parameter_reads_its_last_change_on_that_date(scenario_changes):
    applied = Scenario("s", tuple(scenario_changes)).apply(_baseline_parameters(), first=FIRST, last=LAST)
    final = {(c.path, c.start): c.value for c in scenario_changes}  # later changes win
    for (path, start), value in final.items():
        if value is not None:
            assert applied.at(path, start) == value
