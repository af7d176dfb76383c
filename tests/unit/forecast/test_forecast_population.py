"""Population projection: age bands, the one-year step, and the committed national rates."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from devolve.data import readers
from devolve.domain.errors import InputError
from devolve.engines.forecast.population import (SEXES, CohortRates, cohort_rates_from_estimates,
                                                  district_adjustments, parse_bands, project, transition_matrix)
from devolve.packs.loader import read_national

LABELS = ("0-4", "5-15", "16-44", "45-59", "60-64", "65-74", "75-84", "85+")
BANDS = parse_bands(LABELS)


def test_age_bands_are_read_and_keyed_as_in_parameter_paths():
    assert [(b.low, b.high) for b in BANDS][:2] == [(0, 4), (5, 15)]
    assert BANDS[-1].high is None and BANDS[-1].key == "85_plus" and BANDS[2].key == "16_44"
    assert BANDS[2].share_of_ages(16, 44) == 1.0
    assert BANDS[2].share_of_ages(30) == pytest.approx(15 / 29)


@pytest.mark.parametrize("labels", [("0-4", "6-15"), ("1-4",), ("0-4", "five+")])
def test_gaps_or_bad_labels_are_refused(labels):
    with pytest.raises(InputError):
        parse_bands(labels)


def test_with_no_deaths_no_migration_and_no_births_nobody_is_lost():
    rates = CohortRates(np.ones(16), np.full(16, 0.2), np.zeros(2))
    matrix = transition_matrix(rates, BANDS)
    np.testing.assert_allclose(matrix.sum(axis=0), 1.0)


def test_people_move_up_one_band_and_births_come_from_women_aged_16_to_44():
    rates = CohortRates(np.ones(16), np.full(16, 0.1), np.array([0.02, 0.03]))
    now = np.zeros(16)
    now[2 * 2 + 0] = 1000.0  # women 16-44
    later = transition_matrix(rates, BANDS) @ now
    assert later[4] == pytest.approx(900.0)          # stay
    assert later[6] == pytest.approx(100.0)          # to 45-59
    assert later[0] == pytest.approx(20.0) and later[1] == pytest.approx(30.0)   # girls and boys aged 0


def test_each_area_follows_its_district():
    base = np.ones((3, 16)) * 100
    rates = (CohortRates(np.ones(16), np.zeros(16), np.zeros(2)),) * 2
    adjust = np.ones((2, 16))
    adjust[1] *= 1.1
    out = project(base, np.array([0, 1, 1]), rates, BANDS, adjust, np.ones((2, 2)))
    np.testing.assert_allclose(out[1, 0], 100.0)
    np.testing.assert_allclose(out[1, 2], 100 * 1.1 ** 2)


def test_district_adjustments_are_ratios_to_england():
    rates = pl.DataFrame({"district": ["england", "D1"], "age_band": ["0-4", "0-4"], "sex": ["F", "F"],
                          "cohort_change": [1.0, 1.02], "band_exit": [0.2, 0.2], "births_per_woman": [0.03, 0.033]})
    change, births = district_adjustments(rates, ("D1", "D2"), BANDS)
    assert change[0, 0] == pytest.approx(1.02) and births[0, 0] == pytest.approx(1.1)
    assert (change[1] == 1).all() and (births[1] == 1).all()


@pytest.mark.realdata
def test_the_national_rates_are_those_of_the_ons_estimates(real_data):
    estimates = readers.read_mid_year_estimates(readers.locate("ons-mye-2015-2016", real_data))
    table = cohort_rates_from_estimates(estimates, BANDS, 2015).filter(pl.col("district") == "england")
    parameters = read_national().parameters
    for row in table.iter_rows(named=True):
        band = next(b for b in BANDS if b.label == row["age_band"])
        key = f"{row['sex'].lower()}_{band.key}"
        assert parameters[f"population.cohort_change.{key}"].at(date(2016, 4, 1)) == pytest.approx(
            row["cohort_change"], abs=5e-7)
        if band is not BANDS[-1]:
            assert parameters[f"population.band_exit.{key}"].at(date(2016, 4, 1)) == pytest.approx(
                row["band_exit"], abs=5e-7)
    for sex in SEXES:
        births = table.filter(pl.col("sex") == sex)["births_per_woman"][0]
        assert parameters[f"population.births.{sex.lower()}"].at(date(2016, 4, 1)) == pytest.approx(births, abs=5e-7)


@pytest.mark.realdata
def test_one_step_from_mid_2015_lands_on_englands_mid_2016_estimate(real_data):
    estimates = readers.read_mid_year_estimates(readers.locate("ons-mye-2015-2016", real_data))
    table = cohort_rates_from_estimates(estimates, BANDS, 2015).filter(pl.col("district") == "england")
    ordered = {(r["age_band"], r["sex"]): r for r in table.iter_rows(named=True)}
    rates = CohortRates(np.array([ordered[(b.label, s)]["cohort_change"] for b in BANDS for s in SEXES]),
                        np.array([ordered[(b.label, s)]["band_exit"] for b in BANDS for s in SEXES]),
                        np.array([ordered[(LABELS[0], s)]["births_per_woman"] for s in SEXES]))
    band_of_age = {age: next(b.label for b in BANDS if b.low <= age <= (b.high or 200)) for age in range(91)}
    ages = estimates.with_columns(pl.col("age").replace_strict(band_of_age, return_dtype=pl.Utf8).alias("band"))
    totals = ages.group_by("mid_year", "band", "sex").agg(pl.col("population").sum())
    vector = lambda year: np.array([totals.filter((pl.col("mid_year") == year) & (pl.col("band") == b.label)  # noqa: E731
                                                  & (pl.col("sex") == s))["population"][0]
                                    for b in BANDS for s in SEXES], dtype=float)
    projected = transition_matrix(rates, BANDS) @ vector(2015)
    assert projected.sum() == pytest.approx(vector(2016).sum(), rel=1e-3)
    np.testing.assert_allclose(projected, vector(2016), rtol=0.01)


def test_a_first_year_later_than_the_base_takes_as_many_steps():
    base = np.full((2, 16), 100.0)
    rates = (CohortRates(np.full(16, 0.99), np.full(16, 0.1), np.array([0.03, 0.03])),) * 2
    ones = (np.ones((1, 16)), np.ones((1, 2)))
    one = project(base, np.zeros(2, dtype=int), rates, BANDS, *ones, lead_steps=1)
    two = project(base, np.zeros(2, dtype=int), rates, BANDS, *ones, lead_steps=2)
    np.testing.assert_allclose(two[0], one[1])
    np.testing.assert_allclose(project(base, np.zeros(2, dtype=int), rates, BANDS, *ones, lead_steps=0)[0], base)
