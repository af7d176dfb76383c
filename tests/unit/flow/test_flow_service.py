"""The flow service's JSON contract, the capacity file, and the report (charts, files)."""

from __future__ import annotations

import json

import pytest
from flow_helpers import gm_deal  # noqa: F401  (a fixture)

from devolve.domain.errors import InputError
from devolve.interfaces.report.flow import figures_html, render_flow_report, write_flow_report
from devolve.services.flow import plan_discharge_capacity, read_capacity_file, simulate_discharge

CONTRACT = {"replications", "days", "delayed_days_mean", "delayed_days_ci", "occupancy_mean", "patients", "pathways",
            "cost_gbp"}


@pytest.fixture(scope="module")
def result(gm_deal):
    return simulate_discharge(gm_deal, district="E08000002", days=40, replications=6, seed=3)


def test_the_json_contract(result):
    payload = result.to_json()
    assert CONTRACT <= set(payload)
    assert payload["replications"] == 6 and payload["days"] == 40
    low, high = payload["delayed_days_ci"]
    assert low <= payload["delayed_days_mean"] <= high
    assert {p["pathway"] for p in payload["pathways"]} == {"home_support", "bedded_reablement", "care_home"}
    for p in payload["pathways"]:
        assert {"pathway", "capacity", "utilisation", "wait_days_mean"} <= set(p)
    assert set(payload["cost_gbp"]) == {"hospital_bed_days", "delayed_bed_days", "community_capacity", "total"}
    assert payload["cost_gbp"]["total"] == pytest.approx(
        payload["cost_gbp"]["hospital_bed_days"] + payload["cost_gbp"]["community_capacity"], abs=2)
    assert payload["synthetic"] is True and payload["synthetic_inputs"]
    json.dumps(payload, allow_nan=False)   # plain, finite values only


def test_the_same_seed_gives_the_same_json(gm_deal, result):
    again = simulate_discharge(gm_deal, district="E08000002", days=40, replications=6, seed=3)
    assert again.to_json() == result.to_json()


def test_admissions_can_come_from_elsewhere(gm_deal):
    fed = simulate_discharge(gm_deal, district="E08000002", days=10, replications=2, admissions_per_year=5000.0)
    assert fed.to_json()["admissions_per_year"] == 5000.0
    assert fed.to_json()["admissions_source"].startswith("given")


def test_a_capacity_plan_is_part_of_the_json(gm_deal):
    planned = plan_discharge_capacity(gm_deal, district="E08000002", days=30, replications=4, steps=3, verify=2)
    plan = planned.to_json()["capacity_plan"]
    assert plan["target_fraction"] == 0.5
    assert plan["sweep"] and plan["candidates"]
    assert plan["met"] == (plan["least_cost_mix"] is not None)
    assert sum(c["least_cost"] for c in plan["candidates"]) == (1 if plan["met"] else 0)
    assert "sweep" in figures_html(planned)


def test_a_capacity_file_is_read_and_checked(tmp_path):
    good = tmp_path / "capacity.yaml"
    good.write_text("home_support: 500\ncare_home: 90\nacute_beds: 320\n")
    assert read_capacity_file(good) == {"home_support": 500, "care_home": 90, "acute_beds": 320}
    for text, message in [("home_support: -4\n", "capacity of 'home_support' must be a whole number of places"),
                          ("lifts: 4\n", "'lifts' is not a capacity"),
                          ("- 1\n- 2\n", "expected a mapping of capacities"),
                          ("home_support: [unclosed\n", "not valid YAML")]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(InputError, match=message):
            read_capacity_file(bad)


def test_charts_are_fragments_without_the_plotly_bundle(result):
    charts = figures_html(result)
    assert set(charts) == {"occupancy", "delays", "places"}
    for html in charts.values():
        assert "<div" in html and "synthetic inputs" in html
        assert len(html) < 200_000      # plotly.js itself is several MB


def test_the_standalone_report_inlines_plotly_and_says_synthetic(result):
    html = render_flow_report(result, generated_by="test")
    assert html.startswith("<!doctype html>")
    assert len(html) > 1_000_000        # plotly.js inlined: opens offline
    assert "Synthetic inputs." in html and "Bury (E08000002)" in html


def test_writing_the_report_leaves_only_finished_files(result, tmp_path):
    paths = write_flow_report(result, tmp_path / "out", generated_by="test")
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "flow.html", "flow.json", "flow_replications.csv", "flow_daily.csv", "flow_pathways.csv"}
    assert json.loads(paths["json"].read_text()) == result.to_json()
    assert "synthetic_inputs" in paths["daily"].read_text().splitlines()[0]
