"""Validation against the published figures (a calibration check: see docs/method/forecast.md).

Greater Manchester's non-demographic growth is calibrated so that do-nothing lands on the strategic
financial framework's £2bn gap by 2020/21, and the plan's efficiencies so that the plan lands on the
2019 modelling's £309m. These tests keep the calibration true as the model changes: within ±15% of
£2bn and ±25% of £309m (a median over runs, which the calibration does not fit exactly).
"""

from __future__ import annotations

import pytest
from conftest import real_data_dir

from devolve.packs.loader import load_deal
from devolve.services.forecast import run_forecast

DO_NOTHING_GBP = 2_000_000_000
PLAN_GBP = 309_000_000


def _gap(result, year="2020/21") -> float:
    row = result.years.filter(result.years["year"] == year).row(0, named=True)
    return row["gap_p50_gbp"]


@pytest.fixture(scope="module", params=["synthetic small areas", "real data"])
def deal(request, tmp_path_factory):
    if request.param == "real data":
        folder = real_data_dir()
        if folder is None:
            pytest.skip("the real data copies in ../shared/data/uk are not present")
    else:
        folder = tmp_path_factory.mktemp("no-data")
    return load_deal("greater-manchester-2016", data_dir=folder), folder


def test_do_nothing_lands_near_the_published_2bn(deal):
    loaded, folder = deal
    result = run_forecast(loaded, scenario="do-nothing", runs=200, seed=1, data_dir=folder)
    assert _gap(result) == pytest.approx(DO_NOTHING_GBP, rel=0.15)
    published = {p["fact"]: p for p in result.to_json()["published_figures"]}
    assert published["do_nothing_gap_2020_21"]["compare_with_scenario"] == "do-nothing"
    assert abs(published["do_nothing_gap_2020_21"]["difference_share"]) < 0.15


def test_the_plan_lands_near_the_2019_figure_of_309m(deal):
    loaded, folder = deal
    result = run_forecast(loaded, scenario="plan", runs=200, seed=1, data_dir=folder)
    assert _gap(result) == pytest.approx(PLAN_GBP, rel=0.25)
    payload = result.to_json()
    assert "forecast.plan_efficiencies" in payload["calibration"]["calibrated_parameters"]
    assert "growth.hospital" in payload["calibration"]["calibrated_parameters"]
    assert 0.0 < payload["probability_of_balance"] < 1.0


def test_the_transformation_portfolio_alone_closes_little_of_the_gap(deal):
    loaded, folder = deal
    nothing = run_forecast(loaded, scenario="do-nothing", runs=1, data_dir=folder)
    schemes = run_forecast(loaded, runs=1, data_dir=folder)   # the deal as written: schemes, no efficiencies
    closed = _gap(nothing) - _gap(schemes)
    assert 0 < closed < 0.2 * DO_NOTHING_GBP


def test_the_projected_population_is_close_to_the_2021_census(tmp_path):
    """Out-of-sample check: the central projection for mid-2020 (from mid-2015 estimates and one year
    of cohort rates) against the census of March 2021 — not used anywhere in the model."""
    folder = real_data_dir()
    census = folder / "gm_la_census_population_by_sex_age_1981_2021.csv" if folder else None
    if census is None or not census.is_file():
        pytest.skip("the real data copies in ../shared/data/uk are not present")
    import polars as pl

    counted = (pl.read_csv(census, infer_schema_length=0)
               .filter((pl.col("sex") == "Persons") & (pl.col("age_group") == "All ages")
                       & (pl.col("period") == "2021-03-21"))["value"].cast(pl.Int64).sum())
    result = run_forecast(load_deal("greater-manchester-2016", data_dir=folder), runs=1, data_dir=folder)
    projected = result.forecast.run_table.filter(pl.col("year") == "2020/21")["residents"][0]
    assert projected == pytest.approx(counted, rel=0.015)
