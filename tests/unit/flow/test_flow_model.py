"""The discharge model as data: validation with clear errors, profiles, derived numbers."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from devolve.domain.errors import InputError
from devolve.engines.flow.model import AgeGroup, Pathway, capacities_from_mapping, example_model


@pytest.mark.parametrize("name", ["home_support", "bedded_reablement", "care_home"])
def test_negative_capacity_is_refused_with_a_clear_message(name):
    with pytest.raises(InputError, match=f"capacity of '{name}' must be a whole number of places, 0 or more; found -2"):
        example_model().with_capacity(**{name: -2})


@pytest.mark.parametrize("value", [1.5, "10", None, True])
def test_capacity_must_be_a_whole_number(value):
    with pytest.raises(InputError, match="whole number"):
        example_model().with_capacity(home_support=value)


def test_a_whole_float_capacity_is_accepted():
    assert example_model().with_capacity(home_support=150.0).pathway("home_support").capacity == 150


def test_the_bed_base_needs_at_least_one_bed():
    with pytest.raises(InputError, match="acute bed base must be a whole number of beds, 1 or more"):
        example_model().with_capacity(acute_beds=0)


def test_unknown_capacities_are_named():
    with pytest.raises(InputError, match="'ambulances' is not a capacity"):
        example_model().with_capacity(ambulances=3)
    with pytest.raises(InputError, match="'ambulances' is not a capacity"):
        capacities_from_mapping({"ambulances": 3})


def test_pathway_shares_must_add_up_to_one():
    with pytest.raises(InputError, match="pathway shares of age group 'old' must add up to 1; they add up to 0.95"):
        AgeGroup("old", 1.0, 8.0, 1.0, (0.5, 0.4, 0.04, 0.01))


def test_pathway_shares_must_not_be_negative():
    with pytest.raises(InputError, match="shares of 0 or more"):
        AgeGroup("old", 1.0, 8.0, 1.0, (1.1, -0.1, 0.0, 0.0))


def test_admission_shares_of_age_groups_must_add_up_to_one():
    groups = (AgeGroup("a", 0.5, 3.0, 1.0, (1.0, 0.0, 0.0, 0.0)), AgeGroup("b", 0.4, 3.0, 1.0, (1.0, 0.0, 0.0, 0.0)))
    with pytest.raises(InputError, match="admission shares of the age groups must add up to 1"):
        example_model(age_groups=groups)


@pytest.mark.parametrize("field,value,message", [
    ("full_bed_base", "queue", "must be one of escalate, divert, wait"),
    ("days", 0, "days to simulate"),
    ("days", 5000, "at most 3650"),
    ("warm_up_days", -1, "warm-up days"),
    ("admissions_per_year", 0.0, "emergency admissions a year must be a number above 0"),
    ("bed_day_cost", -1.0, "cost of a bed day"),
    ("day_of_week", (1.0,) * 6, "needs 7 values"),
    ("month", (1.0,) * 11 + (0.0,), "monthly profile must be a number above 0"),
])
def test_bad_model_fields_get_clear_errors(field, value, message):
    with pytest.raises(InputError, match=message):
        example_model(**{field: value})


def test_bad_durations_and_stays_are_refused():
    with pytest.raises(InputError, match="mean duration of 'care_home' must be a number above 0"):
        Pathway("care_home", 3, 0.0, 1.0, 10.0)
    with pytest.raises(InputError, match="coefficient of variation of acute length of stay"):
        AgeGroup("a", 1.0, 3.0, -1.0, (1.0, 0.0, 0.0, 0.0))
    with pytest.raises(InputError, match="'hospice' is not a pathway"):
        Pathway("hospice", 3, 10.0, 1.0, 10.0)


def test_daily_admissions_follow_the_profiles_and_average_to_the_yearly_total():
    model = example_model(day_of_week=(1.2, 1.0, 1.0, 1.0, 1.0, 0.9, 0.9), month=(1.1,) + (1.0,) * 11,
                          start=date(2017, 4, 1), warm_up_days=0, days=365)
    rates = model.daily_admissions()
    assert rates.sum() == pytest.approx(model.admissions_per_year, rel=0.005)
    first = model.first_day
    mondays = [rates[d] for d in range(365) if (first.weekday() + d) % 7 == 0]
    sundays = [rates[d] for d in range(365) if (first.weekday() + d) % 7 == 6]
    assert np.mean(mondays) > np.mean(sundays)
    january = 275  # 1 April 2017 + 275 days = 1 January 2018
    assert rates[january] > rates[january - 1]


def test_the_warm_up_runs_before_the_start():
    model = example_model(warm_up_days=30)
    assert (model.start - model.first_day).days == 30
    assert model.daily_admissions().size == 30 + model.days


def test_offered_load_and_priming():
    model = example_model()
    load = model.offered_load()
    shares = model.pathway_shares()
    assert shares.sum() == pytest.approx(1.0)
    assert load["home_support"] == pytest.approx(model.admissions_per_year / 365 * shares[1] * 42.0)
    primed = model.primed()
    assert primed["home_support"] == min(135, round(load["home_support"]))
    assert model.with_capacity(home_support=3).primed()["home_support"] == 3


def test_gamma_and_lognormal_parameters_keep_the_mean():
    pathway = Pathway("home_support", 1, 42.0, 0.5, 0.0)
    shape, scale = pathway.gamma
    assert shape * scale == pytest.approx(42.0)
    assert 1 / np.sqrt(shape) == pytest.approx(0.5)
    mu, sigma = AgeGroup("a", 1.0, 7.5, 1.1, (1.0, 0.0, 0.0, 0.0)).los_lognormal
    assert np.exp(mu + sigma ** 2 / 2) == pytest.approx(7.5)
