"""Scenarios for the forecast: built-in ones resolve by name; bad ones fail clearly, changing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from devolve.domain.errors import ScenarioError
from devolve.packs.loader import load_deal
from devolve.services.forecast import resolve_scenario, run_forecast, scenario_names


@pytest.fixture(scope="module")
def deal(tmp_path_factory):
    return load_deal("greater-manchester-2016", data_dir=tmp_path_factory.mktemp("no-data"))


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_pack_ships_named_scenarios(deal):
    assert {"do-nothing", "plan", "health-tax", "rates-discount"} <= set(scenario_names(deal))
    combined = resolve_scenario(deal, ["plan", "health-tax"])
    assert combined.name == "plan+health-tax"
    assert {c.path for c in combined.changes} >= {"forecast.plan_efficiencies", "fiscal.health_precept.gbp_per_band_d"}


def test_an_unknown_scenario_name_lists_the_known_ones(deal):
    with pytest.raises(ScenarioError, match="do-nothing"):
        resolve_scenario(deal, "no-such-scenario")


@pytest.mark.parametrize("text, message", [
    ("changes:\n  - {path: forecast.no_such_thing, value: 1}\n", "not a parameter"),
    ("changes:\n  - {path: forecast.plan_efficiencies, from: 2030-04-01, value: 0.01}\n", "outside the deal"),
    ("changes:\n  - {path: forecast.plan_efficiencies, from: 2012/13, value: 0.01}\n", "outside the deal"),
    ("changes:\n  - {path: schemes.falls.effects.1.low, value: 0.05}\n", "80% interval"),
    ("changes:\n  - {path: forecast.uncertainty.growth, value: -0.01}\n", "at least 0"),
    ("changes:\n  - {path: schemes.falls.effects.1.high, value: 1.5}\n", "between -1 and 1"),
    ("changes:\n  - {path: forecast.schemes_enabled, value: 3}\n", "true or false"),
    ("changes:\n  - {path: fiscal.rates_discount.discount, value: -0.2}\n", "between 0 and 1"),
])
def test_a_bad_scenario_is_refused_with_a_clear_message(deal, tmp_path, text, message):
    with pytest.raises(ScenarioError, match=message):
        run_forecast(deal, scenario=_file(tmp_path, text), runs=2)


def test_a_scenario_can_scale_a_scheme(deal, tmp_path):
    path = _file(tmp_path, "name: half-falls\nchanges:\n  - {path: schemes.falls.scale, value: 0.5}\n")
    half = run_forecast(deal, scenario=path, runs=1)
    full = run_forecast(deal, runs=1)
    falls = lambda r: r.forecast.schemes.filter(r.forecast.schemes["id"] == "falls").row(0, named=True)  # noqa: E731
    assert falls(half)["investment_gbp"] == pytest.approx(falls(full)["investment_gbp"] / 2)
    assert falls(half)["gross_saving_p50_gbp"] == pytest.approx(falls(full)["gross_saving_p50_gbp"] / 2, rel=1e-6)
