"""End-to-end: `devolve allocate` as a user runs it (subprocess)."""

from __future__ import annotations

import importlib.util
import json

import pytest
from openpyxl import load_workbook

from conftest import run_cli

GM = "greater-manchester-2016"
SIX_BILLION_PENCE = 600_000_000_000


def _json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _refused(result, message: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


@pytest.mark.realdata
def test_greater_manchester_districts_on_real_data(real_data):
    payload = _json(run_cli("allocate", GM, "--level", "district", "--json", "--data-dir", str(real_data)))
    assert payload["pool_gbp"] == payload["total_allocated_gbp"] == 6_000_000_000
    assert payload["total_allocated_pence"] == SIX_BILLION_PENCE
    assert len(payload["items"]) == 10
    assert sum(i["target_pence"] for i in payload["items"]) == SIX_BILLION_PENCE
    assert sum(i["current_pence"] for i in payload["items"]) == SIX_BILLION_PENCE
    assert sum(i["population"] for i in payload["items"]) == 2_752_015
    for item in payload["items"]:
        assert list(item["path_gbp"]) == ["2016/17", "2017/18", "2018/19", "2019/20", "2020/21"]
    for year in payload["years"]:
        assert round(sum(i["path_gbp"][year] for i in payload["items"]), 2) == 6_000_000_000
    trafford = next(i for i in payload["items"] if i["name"] == "Trafford")
    assert trafford["need_index"] < 0.95 and trafford["distance_from_target"] > 0  # least deprived: over target
    assert set(payload["data"].values()) == {"real"}


@pytest.mark.slow
def test_without_data_every_level_adds_up_and_says_what_is_synthetic(empty_data):
    for level in ("district", "ccg", "area", "partner"):
        payload = _json(run_cli("allocate", GM, "--level", level, "--year", "2017/18", "--json",
                                "--data-dir", str(empty_data)))
        assert payload["level"] == level and payload["year"] == "2017/18"
        assert sum(i["allocation_pence"] for i in payload["items"]) == SIX_BILLION_PENCE
        assert payload["data"]["imd2019-indicators"] == "synthetic"
        assert any("synthetic" in note for note in payload["notes"])


def test_the_table_for_people(empty_data):
    result = run_cli("allocate", GM, "--data-dir", str(empty_data))
    assert result.returncode == 0, result.stderr
    assert "Trafford" in result.stdout and "£6.00bn" in result.stdout and "2020/21" in result.stdout


@pytest.mark.slow
def test_a_scenario_file_changes_the_targets(empty_data, tmp_path):
    scenario = tmp_path / "more-for-inequalities.yaml"
    scenario.write_text("name: more-for-inequalities\nchanges:\n"
                        "  - {path: allocation.health_inequalities.weight, value: 0.3}\n", encoding="utf-8")
    base = _json(run_cli("allocate", GM, "--json", "--data-dir", str(empty_data)))
    changed = _json(run_cli("allocate", GM, "--json", "--scenario", str(scenario), "--data-dir", str(empty_data)))
    assert changed["scenario"] == "more-for-inequalities"
    assert [i["target_pence"] for i in base["items"]] != [i["target_pence"] for i in changed["items"]]
    assert sum(i["target_pence"] for i in changed["items"]) == SIX_BILLION_PENCE


@pytest.mark.slow
def test_out_folder_writes_tables_workbook_chart_maps_and_page(empty_data, tmp_path):
    out = tmp_path / "fair-shares"
    payload = _json(run_cli("allocate", GM, "--json", "--out", str(out), "--data-dir", str(empty_data)))
    names = sorted(p.name for p in out.iterdir())
    assert names == ["allocation.csv", "allocation.html", "allocation.json", "allocation.xlsx",
                     "distance_from_target.png", "map_distance.png", "map_per_head.png"]
    assert len(payload["files"]) == 7
    book = load_workbook(out / "allocation.xlsx")
    assert {"README", "Districts", "CCGs", "Small areas", "Partners", "Parameters"} <= set(book.sheetnames)
    for png in ("distance_from_target.png", "map_distance.png", "map_per_head.png"):
        assert (out / png).read_bytes().startswith(b"\x89PNG")


def test_out_single_file_by_suffix(empty_data, tmp_path):
    target = tmp_path / "districts.csv"
    result = run_cli("allocate", GM, "--out", str(target), "--data-dir", str(empty_data))
    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8").startswith("id,name,population,target_gbp")


@pytest.mark.parametrize("args, message", [
    (("--level", "region"), "unknown level 'region'"),
    (("--year", "2030/31"), "2030/31 is not a year of greater-manchester-2016"),
])
def test_bad_arguments_exit_2_with_a_clear_message(empty_data, args, message):
    _refused(run_cli("allocate", GM, *args, "--data-dir", str(empty_data)), message)


@pytest.mark.slow
def test_the_neighbourhood_level_uses_the_places_engine_when_there_is_one(empty_data):
    result = run_cli("allocate", "london-pilots-2017", "--level", "neighbourhood", "--json",
                     "--data-dir", str(empty_data))
    if importlib.util.find_spec("devolve.services.places") is None:
        _refused(result, "the neighbourhood level needs the places engine")
        return
    payload = _json(result)
    assert payload["level"] == "neighbourhood" and payload["units"] > 10
    assert sum(i["allocation_pence"] for i in payload["items"]) == payload["pool_pence"]
    assert sum(i["population"] for i in payload["items"]) == sum(
        i["population"] for i in _json(run_cli("allocate", "london-pilots-2017", "--json", "--data-dir",
                                               str(empty_data)))["items"])


def test_weights_not_adding_up_to_one_exit_2_and_nothing_is_written(empty_data, tmp_path):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("- {path: allocation.components.general_acute.weight, value: 0.9}\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("allocate", GM, "--scenario", str(scenario), "--out", str(out), "--data-dir", str(empty_data))
    _refused(result, "must add up to 1")
    assert not out.exists()


@pytest.mark.slow
def test_a_bad_scenario_and_a_bad_out_exit_2(empty_data, tmp_path):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("- {path: allocation.no.such.thing, value: 1}\n", encoding="utf-8")
    _refused(run_cli("allocate", GM, "--scenario", str(scenario), "--data-dir", str(empty_data)),
             "not a parameter of greater-manchester-2016")
    _refused(run_cli("allocate", GM, "--out", str(tmp_path / "x.docx"), "--data-dir", str(empty_data)),
             "expected a folder or a file ending in")
    assert not (tmp_path / "x.docx").exists()


@pytest.mark.slow
def test_a_negative_population_in_a_pack_exits_2(empty_data, tmp_path):
    from devolve.packs.synthetic import write_synthetic_pack
    pack = write_synthetic_pack(tmp_path / "pack", districts=1, areas_per_district=3, seed=1)
    lines = (pack / "small_areas.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("pop_0_15")] = "-10"
    cells[header.index("pop_16_59")] = str(int(cells[header.index("pop_16_59")]) + 10)
    lines[1] = ",".join(cells)
    (pack / "small_areas.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _refused(run_cli("allocate", str(pack), "--data-dir", str(empty_data)), "at least 0")
