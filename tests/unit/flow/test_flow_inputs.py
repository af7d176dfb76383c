"""Building the discharge model from a deal: admissions, age groups, capacities, costs, sources."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest
from flow_helpers import gm_deal  # noqa: F401  (a fixture)

from devolve.domain.errors import InputError, PackError
from devolve.engines.flow import model_from_deal
from devolve.engines.flow.inputs import band_low


def _expected_admissions(deal, district):
    rates = deal.activity_rates.filter(pl.col("service_line") == "emergency_admission")
    population = deal.population.filter(pl.col("district") == district)
    joined = population.join(rates, on=["age_band", "sex"])
    return float((joined["population"] * joined["rate_per_1000"] / 1000).sum())


def test_admissions_are_residents_times_emergency_admission_rates(gm_deal):
    model = model_from_deal(gm_deal, district="E08000001")
    assert model.admissions_per_year == pytest.approx(_expected_admissions(gm_deal, "E08000001"), rel=1e-9)
    assert [g.name for g in model.age_groups] == ["under_65", "65_to_84", "85_plus"]
    assert sum(g.admission_share for g in model.age_groups) == pytest.approx(1.0)
    assert model.label == "Bolton (E08000001)"


def test_the_whole_deal_adds_up_its_districts(gm_deal):
    whole = model_from_deal(gm_deal).admissions_per_year
    parts = sum(_expected_admissions(gm_deal, d.code) for d in gm_deal.districts)
    assert whole == pytest.approx(parts, rel=1e-9)


def test_older_people_follow_the_national_discharge_to_assess_split(gm_deal):
    model = model_from_deal(gm_deal, district="E08000002")
    old = {g.name: g for g in model.age_groups}["85_plus"]
    assert old.pathway_shares == pytest.approx((0.50, 0.45, 0.04, 0.01))
    assert "flow.pathway_share.85_plus.home" not in model.synthetic   # cited, not synthetic
    assert "flow.pathway_share.under_65.home" in model.synthetic


def test_default_capacity_is_per_100k_residents(gm_deal):
    model = model_from_deal(gm_deal, district="E08000003")
    residents = float(gm_deal.population.filter(pl.col("district") == "E08000003")["population"].sum())
    per_100k = gm_deal.parameters.at("flow.capacity_per_100k.home_support", gm_deal.start)
    assert model.pathway("home_support").capacity == round(per_100k * residents / 100_000)


def test_capacity_and_admissions_can_be_overridden(gm_deal):
    model = model_from_deal(gm_deal, district="E08000002", capacity={"care_home": 7, "acute_beds": 300},
                            admissions_per_year=12_345.0)
    assert model.pathway("care_home").capacity == 7
    assert model.acute_beds == 300
    assert model.admissions_per_year == 12_345.0
    assert "flow.capacity_per_100k.care_home" not in model.synthetic


def test_costs_reuse_the_national_unit_costs(gm_deal):
    model = model_from_deal(gm_deal, district="E08000002")
    at = lambda path: gm_deal.parameters.at(path, gm_deal.start)  # noqa: E731
    assert model.bed_day_cost == at("unit_costs.excess_bed_day")
    assert model.pathway("home_support").cost_per_place_day == pytest.approx(
        at("unit_costs.reablement_episode") / at("flow.duration.home_support.mean_days"))
    nursing_day = at("unit_costs.nursing_care_week") / 7
    assert model.pathway("bedded_reablement").cost_per_place_day == pytest.approx(nursing_day)


@pytest.mark.parametrize("bad,message", [
    ({"district": "E09000001"}, "'E09000001' is not a district of deal"),
    ({"capacity": {"home_support": -1}}, "capacity of 'home_support' must be a whole number"),
    ({"capacity": {"beds": 10}}, "'beds' is not a capacity"),
    ({"admissions_per_year": -5.0}, "admissions a year must be a number above 0"),
])
def test_bad_arguments_get_clear_errors(gm_deal, bad, message):
    with pytest.raises(InputError, match=message):
        model_from_deal(gm_deal, **bad)


def test_pack_shares_that_do_not_add_up_are_refused_naming_the_parameter(gm_deal):
    path = "flow.pathway_share.65_to_84.home"
    changed = gm_deal.parameters[path].with_value(gm_deal.start, 0.40)
    deal = dataclasses.replace(gm_deal, parameters=gm_deal.parameters.replaced(path, changed))
    expected = r"flow.pathway_share.65_to_84.*adding up to 1.*0.4 \+ 0.45 \+ 0.04 \+ 0.01 = 0.9"
    with pytest.raises(PackError, match=expected):
        model_from_deal(deal, district="E08000001")


def test_age_band_labels_give_their_youngest_age():
    assert [band_low(b) for b in ("0-4", "65-74", "85+")] == [0, 65, 85]
    with pytest.raises(InputError):
        band_low("old")
