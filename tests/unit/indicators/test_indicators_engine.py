"""The indicators engine and service on a built-in deal with synthetic small areas (no data files)."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date

import numpy as np
import polars as pl
import pytest

from devolve.domain.parameters import Parameter
from devolve.engines.indicators import IndicatorError
from devolve.engines.indicators.model import need_multiplier, relative_rank
from devolve.packs.loader import BUILTIN_DIR, load_deal
from devolve.services.indicators import compute_indicators


@pytest.fixture(scope="module")
def gm(tmp_path_factory):
    return load_deal("greater-manchester-2016", data_dir=tmp_path_factory.mktemp("no-data"))


@pytest.fixture(scope="module")
def gm_result(gm):
    return compute_indicators(gm, use_flow=False)


def _by_id(rows, key="id"):
    return {r[key]: r for r in rows}


def _with_parameter(deal, path, value):
    old = deal.parameters[path]
    return dataclasses.replace(deal, parameters=deal.parameters.replaced(
        path, Parameter(path, old.description, old.unit, old.source, ((date(2010, 4, 1), value),), old.synthetic)))


def test_the_need_multiplier_has_the_stated_ratio_and_an_england_average_of_one():
    ranks = (np.arange(100_000) + 0.5) / 100_000
    m = need_multiplier(ranks, 2.0)
    assert m.mean() == pytest.approx(1.0, abs=1e-6)
    assert need_multiplier(np.array([0.0]), 2.0)[0] / need_multiplier(np.array([1.0]), 2.0)[0] == pytest.approx(2.0)
    assert np.all(need_multiplier(ranks, 1.0) == 1.0)


def test_the_standardised_emergency_admission_rate_matches_a_direct_computation(gm, gm_result):
    """Recompute the deal-wide DSR from the deal's own tables, independently of the engine's arrays."""
    multiplier = need_multiplier(relative_rank(gm.small_areas), 2.0)  # indicators.deprivation_ratio.emergency_admission
    areas = pl.DataFrame({"area": gm.small_areas["code"], "m": multiplier})
    rates = gm.activity_rates.filter(pl.col("service_line") == "emergency_admission").select("age_band", "sex",
                                                                                            "rate_per_1000")
    table = (gm.population.join(areas, on="area").join(rates, on=["age_band", "sex"])
             .with_columns((pl.col("population") * pl.col("rate_per_1000") / 1000 * pl.col("m")).alias("count"))
             .group_by("age_band").agg(pl.col("count").sum(), pl.col("population").sum()))
    weights = {"0-4": 5000, "5-15": 12100, "16-44": 36900, "45-59": 20500, "60-64": 6000, "65-74": 10500,
               "75-84": 6500, "85+": 2500}
    expected = sum(weights[b] * c / p for b, c, p in table.iter_rows()) / 100_000 * 1000
    got = _by_id(gm_result.to_json()["indicators"])["emergency_admissions"]
    assert got["value"] == pytest.approx(expected, rel=1e-9)
    assert got["ci"][0] < got["value"] < got["ci"][1]
    assert got["synthetic"] is True


def test_the_json_contract(gm_result):
    data = gm_result.to_json()
    for row in data["indicators"]:
        assert {"id", "name", "value", "unit", "target", "target_source", "status"} <= set(row)
        assert row["target_source"] in ("national", "local", "exempt")
        assert np.isfinite(row["value"])
    for row in data["inequalities"]:
        assert {"indicator", "sii", "sii_ci", "rii"} <= set(row)
        assert row["sii_ci"][0] <= row["sii"] <= row["sii_ci"][1]
    assert data["synthetic"] is True and data["synthetic_note"].startswith("synthetic")
    assert {u["unit"] for u in data["units"]} == {d.code for d in gm_result.deal.districts}


def test_deprivation_makes_the_sii_negative_for_admissions_and_no_gradient_makes_it_vanish(gm, gm_result):
    admissions = _by_id(gm_result.to_json()["inequalities"], "indicator")["emergency_admissions"]
    assert admissions["sii"] < 0 and admissions["rii"] < 0
    assert admissions["quintile_gap"]["gap"] > 0
    flat = _with_parameter(gm, "indicators.deprivation_ratio.emergency_admission", 1.0)
    again = _by_id(compute_indicators(flat, use_flow=False).to_json()["inequalities"], "indicator")
    assert abs(again["emergency_admissions"]["rii"]) < 0.01


def test_before_september_2017_there_is_no_delayed_transfer_target_and_after_it_there_is(gm, gm_result):
    before = _by_id(gm_result.to_json()["indicators"])["delayed_transfer_share"]
    assert before["target"] is None and before["status"] == "no target"
    assert "2017-09-01" in before["reason"]
    after = _by_id(compute_indicators(gm, as_of=date(2018, 4, 1), use_flow=False).to_json()["indicators"])
    share = after["delayed_transfer_share"]
    assert (share["target"], share["target_source"]) == (0.035, "national")
    assert share["rule"] == "dtoc_three_and_a_half_percent"
    assert share["status"] == ("green" if share["value"] <= 0.035 else "amber" if share["value"] <= 0.03675 else "red")


def test_local_targets_and_exemptions_from_the_pack(tmp_path, gm):
    pack = tmp_path / "gm"
    shutil.copytree(BUILTIN_DIR / "greater-manchester-2016", pack)
    (pack / "targets.yaml").write_text("""
targets:
  - id: dtoc_three_and_a_half_percent
    indicator: Delayed transfers - exempt
    value: 0.035
    unit: fraction
    direction: lower_is_better
    exempt: true
    source: "synthetic: a test exemption"
  - id: local_admissions
    indicator: Emergency admissions, local ambition
    measure: emergency_admissions
    value: 0.2
    unit: per_person_per_year
    direction: lower_is_better
    source: "synthetic: a test local target"
""", encoding="utf-8")
    deal = load_deal(pack, data_dir=tmp_path / "none")
    rows = _by_id(compute_indicators(deal, as_of=date(2018, 4, 1), use_flow=False).to_json()["indicators"])
    assert rows["delayed_transfer_share"]["target_source"] == "exempt"
    assert rows["delayed_transfer_share"]["status"] == "exempt"
    admissions = rows["emergency_admissions"]
    assert (admissions["target_source"], admissions["target"]) == ("local", pytest.approx(200.0))  # per 1,000
    assert admissions["status"] == "green"


def test_zero_denominators_are_a_clear_error(gm):
    lines = [s.id for s in gm.service_lines]
    areas = gm.small_areas["code"].to_list()
    activity = pl.DataFrame({"area": areas * len(lines), "age_band": ["65-74"] * (len(areas) * len(lines)),
                             "service_line": [l for l in lines for _ in areas],
                             "activity": [0.0 if l == "reablement_episode" else 1.0 for l in lines for _ in areas]})
    with pytest.raises(IndicatorError, match="reablement_at_home_91_days.*denominator.*is zero"):
        compute_indicators(gm, activity=activity, use_flow=False)


def test_schemes_change_values_and_their_inequality(gm_result):
    rows = [s for s in gm_result.to_json()["schemes"] if s["indicator"] == "emergency_admissions"]
    by_scheme = _by_id(rows, "scheme")
    assert by_scheme["falls"]["value_after"] < by_scheme["falls"]["value_before"]
    assert by_scheme["digital"]["value_after"] == by_scheme["digital"]["value_before"]  # outpatients only
    assert by_scheme["all"]["value_after"] < min(r["value_after"] for r in rows if r["scheme"] != "all")
    assert abs(by_scheme["all"]["sii_after"]) < abs(by_scheme["all"]["sii_before"])


def test_the_synthetic_series_is_seeded_and_ends_at_the_schemes_full_effect(gm, gm_result):
    first = gm_result.to_json()["spc"]
    again = compute_indicators(gm, use_flow=False).to_json()["spc"]
    other = compute_indicators(gm, seed=1, use_flow=False).to_json()["spc"]
    assert first[0]["observed"] == again[0]["observed"]
    assert first[0]["observed"] != other[0]["observed"]
    assert len(first[0]["months"]) == 60 and first[0]["months"][0] == "2016-04-01"
    full = _by_id([s for s in gm_result.to_json()["schemes"] if s["indicator"] == "emergency_admissions"],
                  "scheme")["all"]["value_after"]
    assert first[0]["expected"][-1] == pytest.approx(full, rel=1e-9)  # every ramp is complete by 2020/21
    assert first[0]["chart"]["variation"] in ("improvement_low", "common_cause")


def test_neighbourhood_units_from_an_assignment(gm):
    codes = gm.small_areas["code"].to_list()
    assignment = pl.DataFrame({"area": codes, "neighbourhood": [f"N{i // 40:03d}" for i in range(len(codes))]})
    data = compute_indicators(gm, level="neighbourhood", assignment=assignment, use_flow=False).to_json()
    assert data["level"] == "neighbourhood"
    assert len({u["unit"] for u in data["units"]}) == assignment["neighbourhood"].n_unique()
    with pytest.raises(IndicatorError, match="no neighbourhood for 1 small areas"):
        compute_indicators(gm, level="neighbourhood", assignment=assignment.head(len(codes) - 1), use_flow=False)


def test_figures_for_the_main_report_are_divs_without_the_plotly_bundle(gm_result):
    from devolve.interfaces.report.indicators import figures_html
    figures = figures_html(gm_result)
    ids = [i.id for i in gm_result.catalogue.indicators]
    assert set(figures) == {f"{kind}_{i}" for i in ids for kind in ("spc", "sii")}
    assert all("plotly-graph-div" in div and "plotly.js v" not in div for div in figures.values())


def test_the_delayed_share_can_come_from_the_flow_simulation(gm, monkeypatch):
    import types

    import devolve.services.flow as flow

    class Run:
        per_replication = pl.DataFrame({"bed_days": [1000.0, 1200.0], "delayed_days": [20.0, 24.0]})

    calls = []

    def simulate_discharge(deal, *, seed=0, replications=1000):
        calls.append((seed, replications))
        return types.SimpleNamespace(run=Run())

    monkeypatch.setattr(flow, "simulate_discharge", simulate_discharge)
    data = compute_indicators(gm, use_flow=True, seed=3).to_json()
    assert calls == [(3, 20)]
    assert data["delayed_transfers_from"].startswith("flow engine") and "2.00%" in data["delayed_transfers_from"]
    with_flow = _by_id(data["indicators"])["delayed_transfer_share"]["value"]
    without = _by_id(compute_indicators(gm).to_json()["indicators"])["delayed_transfer_share"]["value"]
    assert with_flow == pytest.approx(without * 0.02 / 0.055, rel=1e-9)   # the share replaces the 5.5% parameter
