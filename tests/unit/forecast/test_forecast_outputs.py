"""The forecast's outputs: the JSON contract, every run as Parquet, the Excel summary, the charts."""

from __future__ import annotations

import json

import polars as pl
import pytest
from openpyxl import load_workbook

from devolve.interfaces.report import forecast as report
from devolve.packs.loader import load_deal
from devolve.services.forecast import run_forecast

YEAR_KEYS = {"year", "budget_gbp", "spend_p10_gbp", "spend_p50_gbp", "spend_p90_gbp", "gap_p50_gbp",
             "cumulative_gap_p50_gbp"}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    deal = load_deal("greater-manchester-2016", data_dir=tmp_path_factory.mktemp("no-data"))
    return run_forecast(deal, scenario=["plan", "health-tax", "rates-discount"], runs=60, seed=4)


def test_the_json_contract(result):
    payload = json.loads(json.dumps(result.to_json()))
    assert payload["runs"] == 60 and payload["seed"] == 4 and payload["data"] in ("real", "synthetic")
    assert len(payload["years"]) == 5 and all(YEAR_KEYS <= set(y) for y in payload["years"])
    assert 0.0 <= payload["probability_of_balance"] <= 1.0
    assert all({"driver", "gbp"} <= set(d) for d in payload["decomposition"])
    assert sum(round(d["gbp"] * 100) for d in payload["decomposition"]) == round(payload["decomposition_total_gbp"] * 100)
    assert all({"id", "investment_gbp", "net_benefit_p50_gbp", "roi_p50"} <= set(s) for s in payload["schemes"])
    assert payload["levers"]["health_tax"]["active"] and payload["levers"]["rates_discount"]["active"]
    assert payload["workforce"] and payload["activity"][-1]["admissions_avoided_p50"] > 0
    assert payload["data"] == "synthetic" and payload["synthetic_inputs"]


def test_the_files(result, tmp_path):
    written = report.write_outputs(result, tmp_path / "out", generated_by="devolve test")
    runs = pl.read_parquet(written["runs"])
    assert runs.height == 60 * 5 and runs["run"].n_unique() == 60
    assert set(runs["scenario"].unique()) == {result.scenario.name}
    book = load_workbook(written["workbook"], read_only=True)
    assert {"Summary", "Years", "Decomposition", "Schemes", "Levers", "Workforce", "Inputs"} <= set(book.sheetnames)
    page = written["html"].read_text(encoding="utf-8")
    assert "plotly" in page.lower() and "Synthetic inputs" in page
    assert json.loads(written["json"].read_text())["scenario"] == result.scenario.name
    assert pl.read_csv(written["places"]).height == result.deal.small_areas.height
    assert not list((tmp_path / "out").glob("*.part"))


def test_figures_for_the_main_report_leave_out_plotly_js(result):
    divs = report.figures_html(result)
    assert {"gap_fan", "gap_waterfall", "schemes", "workforce"} <= set(divs)
    assert all("<div" in div and len(div) < 500_000 for div in divs.values())


def test_places_add_up_to_the_central_service_spend(result):
    places = result.forecast.places
    central = result.runs.filter((pl.col("run") == 0)).sort("year")["service_spend_gbp"]
    assert places["spend_first_gbp"].sum() == pytest.approx(central[0], rel=1e-9)
    assert places["spend_last_gbp"].sum() == pytest.approx(central[-1], rel=1e-9)


def test_places_group_into_neighbourhoods(tmp_path):
    deal = load_deal("greater-manchester-2016", data_dir=tmp_path)
    areas = deal.small_areas["code"].to_list()
    assignment = pl.DataFrame({"area": areas, "neighbourhood": [f"N{i % 60:02d}" for i in range(len(areas))]})
    grouped = run_forecast(deal, runs=1, neighbourhoods=assignment).forecast.places
    assert grouped.height == 60 and grouped["level"][0] == "neighbourhood"


@pytest.mark.realdata
def test_a_map_of_real_small_areas(real_data):
    from devolve.services.forecast import place_shapes

    deal = load_deal("greater-manchester-2016", data_dir=real_data)
    result = run_forecast(deal, runs=1, data_dir=real_data)
    shapes = place_shapes(result, real_data)
    if shapes is None:
        pytest.skip("no small-area boundaries installed")
    assert len(shapes) == deal.small_areas.height
    chart = report.place_map(result, shapes)
    assert chart is not None and len(chart.data[0].locations) == deal.small_areas.height
