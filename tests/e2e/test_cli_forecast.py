"""`devolve forecast` as a user runs it: the two published cases, outputs, and bad input."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli


@pytest.fixture
def no_data(tmp_path):
    folder = tmp_path / "no-data"
    folder.mkdir()
    return str(folder)


@pytest.mark.parametrize("scenario, published, tolerance", [("do-nothing", 2.0e9, 0.15), ("plan", 309e6, 0.25)])
def test_the_greater_manchester_scenarios_land_near_the_published_figures(no_data, scenario, published, tolerance):
    done = run_cli("forecast", "greater-manchester-2016", "--scenario", scenario, "--runs", "300", "--json",
                   "--data-dir", no_data)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    final = payload["years"][-1]
    assert final["year"] == "2020/21"
    assert final["gap_p50_gbp"] == pytest.approx(published, rel=tolerance)
    assert final["spend_p10_gbp"] < final["spend_p50_gbp"] < final["spend_p90_gbp"]
    assert payload["decomposition"] and payload["schemes"] and payload["workforce"] and payload["levers"]
    assert payload["runs"] == 300 and payload["scenario"] == scenario


def test_the_outputs_are_written(no_data, tmp_path):
    out = tmp_path / "forecast"
    done = run_cli("forecast", "greater-manchester-2016", "--scenario", "plan", "--scenario", "health-tax",
                   "--runs", "50", "--out", str(out), "--data-dir", no_data)
    assert done.returncode == 0, done.stderr
    assert "Probability the plan balances" in done.stdout
    for name in ("forecast.json", "forecast.html", "forecast.xlsx", "forecast_runs.parquet", "forecast_places.csv"):
        assert (out / name).is_file(), name


@pytest.mark.parametrize("scenario, message", [
    ("changes:\n  - {path: forecast.nonsense, value: 1}\n", "not a parameter"),
    ("changes:\n  - {path: forecast.plan_efficiencies, from: 2031-04-01, value: 0.02}\n", "outside the deal"),
    ("changes:\n  - {path: schemes.reablement.effects.2.low, value: 0.2}\n", "80% interval"),
])
def test_a_bad_scenario_exits_2_with_a_clear_message_and_writes_nothing(no_data, tmp_path, scenario, message):
    path = tmp_path / "bad.yaml"
    path.write_text(scenario, encoding="utf-8")
    out = tmp_path / "out"
    done = run_cli("forecast", "greater-manchester-2016", "--scenario", str(path), "--runs", "5", "--out", str(out),
                   "--data-dir", no_data)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_bad_arguments_exit_2(no_data):
    for args in (("--runs", "0"), ("--workers", "2", "--scheduler", "tcp://127.0.0.1:9"), ("--scenario", "nope")):
        done = run_cli("forecast", "greater-manchester-2016", *args, "--data-dir", no_data)
        assert done.returncode == 2, args
        assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_workers_run_on_a_local_dask_cluster_with_the_same_numbers(no_data):
    here = run_cli("forecast", "greater-manchester-2016", "--runs", "100", "--seed", "5", "--json", "--data-dir", no_data)
    there = run_cli("forecast", "greater-manchester-2016", "--runs", "100", "--seed", "5", "--workers", "2", "--json",
                    "--data-dir", no_data)
    assert here.returncode == 0 and there.returncode == 0, there.stderr
    a, b = json.loads(here.stdout), json.loads(there.stdout)
    assert a["years"] == b["years"] and a["decomposition"] == b["decomposition"]
    assert b["execution"] == "local dask cluster" and b["workers"] == 2
