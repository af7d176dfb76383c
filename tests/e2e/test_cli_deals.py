"""End-to-end: `devolve deals …` and `devolve run` as a user runs them (subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli


def _json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_deals_list_names_the_built_in_deals():
    ids = [d["id"] for d in _json(run_cli("deals", "list", "--json"))["deals"]]
    assert ids == ["greater-manchester-2016", "london-pilots-2017"]


@pytest.mark.realdata
def test_greater_manchester_on_real_data_matches_the_published_facts(real_data):
    shown = _json(run_cli("deals", "show", "greater-manchester-2016", "--json", "--data-dir", str(real_data)))
    assert shown["id"] == "greater-manchester-2016"
    assert shown["start"] == "2016-04-01" and shown["years"] == 5
    counts = shown["partner_counts"]
    assert (counts["local_authority"], counts["commissioner"], counts["nhs_provider"]) == (10, 12, 15)
    assert set(shown["pooled_budget_gbp"].values()) == {6_000_000_000}
    assert shown["transformation_fund_gbp"] == 450_000_000
    assert shown["small_areas"] == 1673
    assert shown["population"] == 2_752_015
    assert sorted(d["code"] for d in shown["districts"]) == [f"E080000{i:02d}" for i in range(1, 11)]
    assert sum(d["population"] for d in shown["districts"]) == 2_752_015
    assert set(shown["data"].values()) == {"real"}


def test_greater_manchester_without_data_is_synthetic_but_keeps_the_district_totals(empty_data):
    shown = _json(run_cli("deals", "show", "greater-manchester-2016", "--json", "--data-dir", str(empty_data)))
    assert shown["small_areas"] == 1673
    assert shown["population"] == 2_752_015
    assert shown["data"]["imd2019-population"] == "synthetic"
    assert any("generated" in item for item in shown["synthetic"])


@pytest.mark.realdata
def test_london_pilots_cover_ten_boroughs(real_data):
    shown = _json(run_cli("deals", "show", "london-pilots-2017", "--json", "--data-dir", str(real_data)))
    assert shown["partner_counts"]["local_authority"] == 10
    assert len(shown["priorities"]) == 5
    assert shown["start"] == "2017-04-01"
    assert any("Hackney" in p and "single health and care budget" in p for p in shown["priorities"])


@pytest.mark.realdata
def test_deals_new_builds_a_pack_that_validates_and_loads(real_data, tmp_path):
    out = tmp_path / "wm"
    made = _json(run_cli("deals", "new", "west-midlands-2017", "--name", "West Midlands",
                         "--districts", "E08000025,E08000029", "--out", str(out),
                         "--data-dir", str(real_data), "--json"))
    assert Path(made["path"]) == out.resolve()
    assert made["districts"] == 2
    valid = run_cli("deals", "validate", str(out), "--data-dir", str(real_data))
    assert valid.returncode == 0, valid.stderr
    shown = _json(run_cli("deals", "show", str(out), "--json", "--data-dir", str(real_data)))
    assert shown["partner_counts"]["local_authority"] == 2
    assert shown["partner_counts"]["commissioner"] >= 2
    # both districts are in the West Midlands Combined Authority, which joins as a partner
    assert [p["code"] for p in shown["partners"] if p["type"] == "combined_authority"] == ["E47000007"]
    assert shown["population"] == made["population"]
    assert set(shown["data"].values()) == {"real"}


@pytest.mark.realdata
def test_deals_new_refuses_unknown_districts_and_an_existing_folder(real_data, tmp_path):
    bad = run_cli("deals", "new", "x", "--name", "X", "--districts", "E08999999", "--out", str(tmp_path / "x"),
                  "--data-dir", str(real_data))
    assert bad.returncode == 2
    assert "unknown district code" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "x").exists()
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    taken = run_cli("deals", "new", "y", "--name", "Y", "--districts", "E08000001", "--out", str(tmp_path / "taken"),
                    "--data-dir", str(real_data))
    assert taken.returncode == 2 and "already exists" in taken.stderr
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]


def test_unknown_deal_is_a_clear_error_with_exit_code_2():
    result = run_cli("deals", "show", "atlantis-2030")
    assert result.returncode == 2
    assert "atlantis-2030" in result.stderr and "built-in deal" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.slow
def test_run_writes_an_offline_report_and_every_file(tmp_path, empty_data):
    out = tmp_path / "report"
    result = run_cli("run", "greater-manchester-2016", "--out", str(out), "--runs", "40",
                     "--replications", "10", "--data-dir", str(empty_data), "--json")
    payload = _json(result)
    html = Path(payload["report"]).read_text(encoding="utf-8")
    assert "Greater Manchester" in html
    assert "<script src=" not in html  # nothing fetched from the network: Plotly is inlined
    assert "Plotly.newPlot" in html and "plotly.js" in html.lower()
    assert "synthetic" in html  # synthetic data are labelled where they are used
    for section in ("neighbourhoods", "allocation", "forecast", "outcomes", "flow", "portfolio", "books"):
        assert f'id="{section}"' in html, section
    summary = json.loads(Path(payload["files"]["json"]).read_text())
    assert summary["deal"]["population"] == 2_752_015
    assert summary["allocation"]["total_allocated_gbp"] == summary["allocation"]["pool_gbp"]
    assert summary["books"]["verified"] is True
    for kind in ("workbook", "geopackage", "geojson"):
        assert Path(payload["files"][kind]).stat().st_size > 0, kind
    assert (out / "parquet" / "allocation_district.parquet").is_file()
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]


def test_run_on_a_broken_pack_writes_nothing(tmp_path):
    pack = tmp_path / "broken"
    pack.mkdir()
    (pack / "deal.yaml").write_text("id: broken\nyears: [\n")
    result = run_cli("run", str(pack), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "deal.yaml" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
