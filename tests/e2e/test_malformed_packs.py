"""End-to-end: malformed deal packs are refused with one clear error, exit code 2 and nothing written.

Each case in tests/cases/malformed_packs.yaml is one mutation of a valid pack (the built-in Greater
Manchester deal, or a tiny synthetic pack with its own small_areas.csv). `devolve deals validate`
runs in-process (Typer's CliRunner) for every case, and in a real subprocess for a few of them.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conftest import run_cli
from devolve.interfaces.cli.main import app
from devolve.packs.loader import BUILTIN_DIR
from devolve.packs.synthetic import write_synthetic_pack

CASES_FILE = Path(__file__).resolve().parents[1] / "cases" / "malformed_packs.yaml"
CASES = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))["cases"]
BY_ID = {case["id"]: case for case in CASES}
MUTATIONS = {"delete", "write", "replace", "encode", "cells", "add_row"}
SUBPROCESS_CASES = ("missing-partners-csv", "yaml-python-object-tag", "negative-contribution", "bad-csv-encoding",
                    "small-area-in-two-districts")


# --- building the packs --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_template(tmp_path_factory) -> Path:
    return write_synthetic_pack(tmp_path_factory.mktemp("template") / "small", districts=2, areas_per_district=5,
                                seed=1)


@pytest.fixture
def base_packs(tmp_path: Path, small_template: Path) -> dict[str, Path]:
    """Fresh copies of both valid packs, and an empty data folder, under tmp_path."""
    packs = {"gm": tmp_path / "gm", "small": tmp_path / "small"}
    shutil.copytree(BUILTIN_DIR / "greater-manchester-2016", packs["gm"])
    shutil.copytree(small_template, packs["small"])
    (tmp_path / "no-data").mkdir()
    return packs


def _edit_csv(path: Path, edit) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header = rows[0]
    row = list(rows[edit["line"] - 1]) if "line" in edit else list(rows[edit["like"] - 1])
    for column, value in edit.get("set", {}).items():
        row[header.index(column)] = str(value)
    for column, delta in edit.get("add", {}).items():
        row[header.index(column)] = str(int(row[header.index(column)]) + delta)
    if "line" in edit:
        rows[edit["line"] - 1] = row
    else:
        rows.append(row)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def _mutate(pack: Path, case: dict) -> None:
    path = pack / case["file"]
    (kind, arg), = case["mutation"].items()
    if kind == "delete":
        path.unlink()
    elif kind == "write":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(arg, encoding="utf-8")
    elif kind == "replace":
        text = path.read_text(encoding="utf-8")
        assert text.count(arg["old"]) == 1, f"{case['id']}: the text to replace must occur exactly once"
        path.write_text(text.replace(arg["old"], arg["new"]), encoding="utf-8")
    elif kind == "encode":
        path.write_bytes(path.read_text(encoding="utf-8").encode(arg))
    elif kind == "cells":
        _edit_csv(path, arg)
    elif kind == "add_row":
        _edit_csv(path, arg)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- running and reading the CLI -----------------------------------------------------------------

def _validate(*args: str):
    result = CliRunner().invoke(app, ["deals", "validate", *args])
    return result.exit_code, result.stdout, result.stderr


def _one_error(stdout: str, stderr: str) -> str:
    """The single `error:` line of a refused command (and no traceback anywhere)."""
    assert "Traceback" not in stdout + stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    assert [line for line in stderr.splitlines() if line.strip()] == errors, stderr
    return errors[0]


def _check_message(message: str, case: dict, pack: Path) -> None:
    expect = case["expect"]
    where = expect["file"] if expect["line"] is None else f"{expect['file']}, line {expect['line']}"
    assert message.startswith(f"error: in pack {pack}: {where}, field '{expect['field']}': expected "), message
    assert "; found " in message, message
    assert expect["says"] in message, message


# --- the case table itself -----------------------------------------------------------------------

def test_the_case_table_is_well_formed_and_covers_forty_kinds():
    assert len(CASES) >= 40
    assert len(BY_ID) == len(CASES), "case ids must be unique"
    for case in CASES:
        assert set(case) == {"id", "pack", "file", "mutation", "expect"}, case["id"]
        assert case["pack"] in ("gm", "small"), case["id"]
        assert len(case["mutation"]) == 1 and set(case["mutation"]) <= MUTATIONS, case["id"]
        assert set(case["expect"]) == {"file", "field", "line", "says"}, case["id"]
        assert isinstance(case["expect"]["says"], str) and case["expect"]["says"], case["id"]
    assert set(SUBPROCESS_CASES) <= set(BY_ID)


@pytest.mark.parametrize("name", ["gm", "small"])
def test_the_unmodified_packs_validate_and_stay_unchanged(base_packs, tmp_path, name):
    before = _snapshot(tmp_path)
    code, stdout, stderr = _validate(str(base_packs[name]), "--data-dir", str(tmp_path / "no-data"))
    assert code == 0, stderr
    assert stdout.startswith("valid: ")
    assert _snapshot(tmp_path) == before


# --- every malformed pack: one clear error, exit 2, nothing written ------------------------------

@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_a_malformed_pack_gives_one_clear_error_and_exit_code_2(base_packs, tmp_path, case):
    pack = base_packs[case["pack"]]
    _mutate(pack, case)
    before = _snapshot(tmp_path)
    code, stdout, stderr = _validate(str(pack), "--data-dir", str(tmp_path / "no-data"))
    assert code == 2, stdout + stderr
    assert stdout == ""
    _check_message(_one_error(stdout, stderr), case, pack)
    assert _snapshot(tmp_path) == before, "validate must not write anything"


def test_json_output_does_not_hide_the_error(base_packs, tmp_path):
    case = BY_ID["negative-contribution"]
    _mutate(base_packs["gm"], case)
    code, stdout, stderr = _validate(str(base_packs["gm"]), "--data-dir", str(tmp_path / "no-data"), "--json")
    assert code == 2 and stdout == ""
    _check_message(_one_error(stdout, stderr), case, base_packs["gm"])


def test_a_folder_without_deal_yaml_and_a_path_that_does_not_exist_exit_2(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, stdout, stderr = _validate(str(empty), "--data-dir", str(tmp_path))
    assert code == 2
    assert _one_error(stdout, stderr) == (f"error: in pack {empty}: deal.yaml, field '(file)': expected a "
                                          "deal.yaml in the pack folder; found no such file")
    missing = tmp_path / "no-such-pack"
    code, stdout, stderr = _validate(str(missing), "--data-dir", str(tmp_path))
    assert code == 2
    message = _one_error(stdout, stderr)
    assert f"'{missing}' is neither a built-in deal" in message and "nor a pack folder" in message
    assert not missing.exists()


# --- the same through a real process ------------------------------------------------------------

@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_a_malformed_pack_through_a_real_process(base_packs, tmp_path, case_id):
    case = BY_ID[case_id]
    pack = base_packs[case["pack"]]
    _mutate(pack, case)
    before = _snapshot(tmp_path)
    result = run_cli("deals", "validate", str(pack), "--data-dir", str(tmp_path / "no-data"), timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    _check_message(_one_error(result.stdout, result.stderr), case, pack)
    assert _snapshot(tmp_path) == before
