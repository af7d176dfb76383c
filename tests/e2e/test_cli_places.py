"""End-to-end: `devolve neighbourhoods` and `devolve estate` as a user runs them (subprocess)."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli

CONTRACT = {"neighbourhoods", "within_band", "contiguous", "min_population", "max_population", "mean_compactness",
            "unsplittable_districts", "data", "items"}


def _json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_neighbourhoods_json_on_synthetic_data(empty_data, tmp_path):
    out = tmp_path / "hoods"
    payload = _json(run_cli("neighbourhoods", "greater-manchester-2016", "--json", "--seed", "2", "--min", "25000",
                            "--out", str(out), "--data-dir", str(empty_data)))
    assert CONTRACT <= set(payload)
    assert payload["data"] == "synthetic" and payload["band"] == [25000, 50000] and payload["seed"] == 2
    assert payload["within_band"] == payload["contiguous"] == payload["neighbourhoods"] == len(payload["items"])
    assert all({"id", "district", "population", "small_areas", "compactness"} <= set(i) for i in payload["items"])
    assert {p.name for p in out.iterdir()} == {"assignment.csv", "neighbourhoods.csv", "neighbourhoods.json",
                                               "neighbourhoods.geojson", "neighbourhoods.gpkg", "map.html", "map.png"}


def test_a_band_with_min_above_max_exits_2_with_a_clear_message(empty_data, tmp_path):
    out = tmp_path / "hoods.geojson"
    result = run_cli("neighbourhoods", "greater-manchester-2016", "--min", "50000", "--max", "30000", "--out",
                     str(out), "--data-dir", str(empty_data))
    assert result.returncode == 2
    assert "minimum (50,000) is above its maximum (30,000)" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_a_district_without_boundaries_exits_2_naming_it(tmp_path):
    from devolve.packs.synthetic import write_synthetic_pack

    pack = write_synthetic_pack(tmp_path / "pack", districts=2, areas_per_district=25, seed=5)
    areas = pack / "small_areas.csv"
    areas.write_text(areas.read_text(encoding="utf-8").replace(",true\n", ",false\n"), encoding="utf-8")
    empty = tmp_path / "no-data"
    empty.mkdir()
    result = run_cli("neighbourhoods", str(pack), "--json", "--data-dir", str(empty))
    assert result.returncode == 2
    assert "district S90000001" in result.stderr and "have no boundaries" in " ".join(result.stderr.split())
    assert result.stdout == ""


def test_an_unknown_deal_exits_2():
    result = run_cli("neighbourhoods", "atlantis-2016", "--json")
    assert result.returncode == 2 and "neither a built-in deal" in result.stderr


def test_an_estate_register_with_a_bad_row_exits_2_naming_file_line_and_field(empty_data, tmp_path):
    register = tmp_path / "mine.csv"
    register.write_text("id,name,type,owner,lon,lat,floor_area_m2,running_cost_gbp,condition,utilisation,"
                        "current_use,source\n"
                        "b1,Town hall,council_office,la-bolton,-2.43,53.58,3000,-5,B,0.7,offices,my survey\n",
                        encoding="utf-8")
    result = run_cli("estate", "greater-manchester-2016", "--register", str(register), "--json", "--data-dir",
                     str(empty_data))
    assert result.returncode == 2
    assert "mine.csv, line 2, field 'running_cost_gbp'" in " ".join(result.stderr.split())


@pytest.mark.realdata
@pytest.mark.slow
def test_estate_on_real_greater_manchester_lists_hubs_shared_and_released_buildings(real_data, tmp_path):
    out = tmp_path / "estate"
    payload = _json(run_cli("estate", "greater-manchester-2016", "--json", "--out", str(out), "--data-dir",
                            str(real_data)))
    assert payload["synthetic"] is True
    assert payload["hubs_in_buildings"] == payload["neighbourhoods"] == len(payload["hubs"])
    assert payload["shared"] and payload["released"]
    assert payload["running_cost_saving_gbp_per_year"] > 0 and payload["capital_receipts_gbp"] > 0
    assert {p.name for p in out.iterdir()} == {"hubs.csv", "shared_buildings.csv", "released_buildings.csv",
                                               "moves.csv", "estate.json"}
