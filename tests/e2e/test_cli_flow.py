"""End-to-end: `devolve flow` as a user runs it (subprocess)."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli

GM = "greater-manchester-2016"
BURY = "E08000002"


def _json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _refused(result, message: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


def test_json_for_a_district(empty_data):
    payload = _json(run_cli("flow", GM, "--district", BURY, "--days", "30", "--replications", "8", "--seed", "5",
                            "--json", "--data-dir", str(empty_data)))
    for key in ("replications", "days", "delayed_days_mean", "delayed_days_ci", "occupancy_mean", "patients",
                "pathways", "cost_gbp"):
        assert key in payload
    assert payload["replications"] == 8 and payload["days"] == 30 and payload["seed"] == 5
    assert payload["area"] == "Bury (E08000002)"
    assert [p["pathway"] for p in payload["pathways"]] == ["home_support", "bedded_reablement", "care_home"]
    assert payload["synthetic"] is True


@pytest.mark.slow
def test_same_seed_same_output(empty_data):
    args = ("flow", GM, "--district", BURY, "--days", "20", "--replications", "4", "--seed", "9", "--json",
            "--data-dir", str(empty_data))
    assert _json(run_cli(*args)) == _json(run_cli(*args))


def test_capacity_file_and_report_files(empty_data, tmp_path):
    capacity = tmp_path / "capacity.yaml"
    capacity.write_text("home_support: 520\ncare_home: 110\n")
    out = tmp_path / "flow"
    payload = _json(run_cli("flow", GM, "--district", BURY, "--days", "30", "--replications", "4", "--capacity",
                            str(capacity), "--out", str(out), "--json", "--data-dir", str(empty_data)))
    capacities = {p["pathway"]: p["capacity"] for p in payload["pathways"]}
    assert capacities["home_support"] == 520 and capacities["care_home"] == 110
    assert {p.name for p in out.iterdir()} == {"flow.html", "flow.json", "flow_replications.csv",
                                               "flow_daily.csv", "flow_pathways.csv"}
    assert json.loads((out / "flow.json").read_text())["delayed_days_mean"] == payload["delayed_days_mean"]


@pytest.mark.slow
def test_the_table_for_people_and_the_sweep(empty_data):
    result = run_cli("flow", GM, "--district", BURY, "--days", "30", "--replications", "4", "--sweep",
                     "--data-dir", str(empty_data))
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "Bury (E08000002)" in text and "Delayed bed days" in text and "Synthetic inputs" in text
    assert "Least-cost mix" in text or "No verified mix met the target" in text


@pytest.mark.parametrize("content,message", [
    ("care_home: -3\n", "capacity of 'care_home' must be a whole number of places, 0 or more; found -3"),
    ("ambulances: 4\n", "'ambulances' is not a capacity"),
])
def test_a_bad_capacity_file_is_refused_and_nothing_is_written(empty_data, tmp_path, content, message):
    capacity = tmp_path / "capacity.yaml"
    capacity.write_text(content)
    out = tmp_path / "flow"
    _refused(run_cli("flow", GM, "--district", BURY, "--capacity", str(capacity), "--out", str(out),
                     "--data-dir", str(empty_data)), message)
    assert not out.exists()


@pytest.mark.parametrize("args,message", [
    (("--district", "E09000001"), "'E09000001' is not a district of deal"),
    (("--replications", "0"), "replications must be a whole number"),
    (("--days", "0"), "days to simulate must be a whole number"),
    (("--sweep", "--target", "2"), "target must be a fraction"),
])
def test_bad_arguments_exit_2_with_a_clear_message(empty_data, args, message):
    _refused(run_cli("flow", GM, *args, "--data-dir", str(empty_data)), message)
