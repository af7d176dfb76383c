"""End-to-end: `devolve indicators` and `devolve compare` as a user runs them (subprocess)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import run_cli
from devolve.packs.loader import BUILTIN_DIR


def _json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_indicators_json_contract_and_report(empty_data, tmp_path):
    out = tmp_path / "report"
    data = _json(run_cli("indicators", "greater-manchester-2016", "--json", "--out", str(out),
                         "--data-dir", str(empty_data)))
    assert data["deal"] == "greater-manchester-2016" and data["level"] == "district"
    ids = {row["id"] for row in data["indicators"]}
    assert {"emergency_admissions", "delayed_transfer_days", "reablement_at_home_91_days", "care_home_admissions_65",
            "supported_at_home_65", "preventable_mortality"} <= ids
    for row in data["indicators"]:
        assert {"id", "name", "value", "unit", "target", "target_source", "status"} <= set(row)
        assert row["target_source"] in ("national", "local", "exempt") and row["synthetic"] is True
    for row in data["inequalities"]:
        assert {"indicator", "sii", "sii_ci", "rii"} <= set(row)
    assert {r["measure"] for r in data["rules"]} == {"ae_four_hour", "rtt_18_weeks", "cancer_62_days"}
    assert data["directives"][0]["rule"] == "bcf_minimum_2016_17" and data["directives"][0]["status"] == "met"
    html = (out / "indicators.html").read_text(encoding="utf-8")
    assert Path(data["report"]) == (out / "indicators.html").resolve()
    assert json.loads((out / "indicators.json").read_text(encoding="utf-8"))["deal"] == "greater-manchester-2016"
    assert "SPC chart (synthetic monthly series)" in html and "Synthetic figures." in html
    assert html.count("plotly.js v") == 1                      # the bundle once, inlined: opens offline
    assert "Special cause" in html or "Common cause" in html   # icons carry words, not colour alone
    assert not list(out.glob("*.part"))


def test_local_targets_and_exemptions_show_which_rule_applies(empty_data, tmp_path):
    pack = tmp_path / "gm-local"
    shutil.copytree(BUILTIN_DIR / "greater-manchester-2016", pack)
    (pack / "targets.yaml").write_text("""
targets:
  - id: dtoc_three_and_a_half_percent
    indicator: Delayed transfers of care - exempt (a test of the Localis proposal)
    value: 0.035
    unit: fraction
    direction: lower_is_better
    exempt: true
    source: "synthetic: a test exemption"
  - id: gm_emergency_admissions
    indicator: Emergency admissions per 1,000, local ambition
    measure: emergency_admissions
    value: 100
    unit: per_1000_per_year
    direction: lower_is_better
    source: "synthetic: a test local target"
""", encoding="utf-8")
    data = _json(run_cli("indicators", str(pack), "--json", "--as-of", "2018-04-01", "--data-dir", str(empty_data)))
    rows = {r["id"]: r for r in data["indicators"]}
    assert rows["delayed_transfer_share"]["target_source"] == "exempt"
    assert "exempt from the national rule 'dtoc_three_and_a_half_percent'" in rows["delayed_transfer_share"]["reason"]
    assert rows["emergency_admissions"]["target_source"] == "local" and rows["emergency_admissions"]["target"] == 100
    assert rows["emergency_admissions"]["status"] == "red"    # the modelled rate is well above 100
    mortality = rows["preventable_mortality"]
    assert mortality["target_source"] == "national" and mortality["target"] is None


@pytest.mark.slow
def test_neighbourhood_level(empty_data, tmp_path):
    import importlib.util
    result = run_cli("indicators", "greater-manchester-2016", "--level", "neighbourhood", "--json",
                     "--data-dir", str(empty_data))
    if importlib.util.find_spec("devolve.services.places") is None:
        assert result.returncode == 2 and "--neighbourhoods" in result.stderr
        return
    data = _json(result)
    assert data["level"] == "neighbourhood"
    assert len({u["unit"] for u in data["units"]}) > 10
    assert all(u["spc"]["variation"] is not None or u["spc"]["note"] for u in data["units"])


def test_bad_input_is_a_clear_error_and_nothing_is_written(empty_data, tmp_path):
    bad_level = run_cli("indicators", "greater-manchester-2016", "--level", "region", "--data-dir", str(empty_data))
    assert bad_level.returncode == 2 and "--level must be one of district, neighbourhood" in bad_level.stderr
    assert "Traceback" not in bad_level.stderr
    pack = tmp_path / "gm-bad"
    shutil.copytree(BUILTIN_DIR / "greater-manchester-2016", pack)
    (pack / "indicators.yaml").write_text("""indicators:
  - id: unsourced
    name: An indicator with no source
    definition: d
    numerator: {activity: emergency_admission}
    denominator: {population: true}
    per: 1000
    direction: lower_is_better
    unit: per_1000_per_year
""", encoding="utf-8")
    out = tmp_path / "never"
    result = run_cli("indicators", str(pack), "--out", str(out), "--data-dir", str(empty_data))
    assert result.returncode == 2
    assert "indicators.yaml, line 2, field 'indicators.0.source'" in result.stderr
    assert not out.exists()


@pytest.mark.slow
def test_compare_prints_a_side_by_side_table_and_writes_a_page(empty_data, tmp_path):
    page = tmp_path / "compare.html"
    result = run_cli("compare", "greater-manchester-2016", "london-pilots-2017", "--out", str(page), "--runs", "20",
                     "--data-dir", str(empty_data))
    assert result.returncode == 0, result.stderr
    assert "Deals side by side" in result.stdout and "Residents" in result.stdout
    html = page.read_text(encoding="utf-8")
    assert "Greater Manchester" in html and "London health and care devolution pilots" in html
    assert "Readiness" in html and html.count("plotly.js v") == 1
    single = run_cli("compare", "greater-manchester-2016", "--out", str(tmp_path / "one.html"),
                     "--data-dir", str(empty_data))
    assert single.returncode == 2 and "at least two deals" in single.stderr
    assert not (tmp_path / "one.html").exists()
