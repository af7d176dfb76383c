"""Posting to the books on someone's behalf: what the web app and the API call for a finance officer.

A finance officer posts for their own organisation only: every transaction must name it as its
``partner`` and every cost return as its ``provider``; the year-end close is for the officer of the
organisation that manages the pool. Entries are read and checked exactly as ``devolve ledger post``
and ``import`` read them (:func:`devolve.ledger.importer.read_file`), then appended all or nothing.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from devolve.domain.errors import DevolveError
from devolve.ledger.importer import read_file
from devolve.ledger.parsing import ParsedFile
from devolve.ledger.records import CostReturn, Transaction
from devolve.ledger.store import Books
from devolve.services import ledger


class OutsideOrganisation(DevolveError):
    """An entry is for another organisation than the one the user posts for."""


def check_scope(parsed: ParsedFile, organisation: str | None) -> None:
    """Refuse the whole file when any entry is not for ``organisation`` (``None``: no limit)."""
    if organisation is None:
        return
    for entry in parsed.entries:
        if isinstance(entry, Transaction):
            owner, field = entry.partner, "partner"
        elif isinstance(entry, CostReturn):
            owner, field = entry.provider, "provider"
        else:
            raise OutsideOrganisation(f"entry '{entry.key}': only transactions and cost returns may be posted here")
        if owner != organisation:
            raise OutsideOrganisation(f"entry '{entry.key}': its {field} is {owner or '(none)'}, but you post for "
                                      f"{organisation} only; nothing was written")
    if parsed.batch is not None and set(parsed.batch.transactions["partner"].to_list()) != {organisation}:
        raise OutsideOrganisation(f"every row must have partner {organisation}; nothing was written")


def _append(db_url: str, path: Path, organisation: str | None) -> dict[str, Any]:
    books = Books.open(db_url)
    try:
        parsed = read_file(path, books.rules, fast=False)
        check_scope(parsed, organisation)
        return ledger._append_file(books, parsed)
    finally:
        books.dispose()


def post_data(db_url: str, data: Any, *, organisation: str | None) -> dict[str, Any]:
    """Post transactions and cost returns given as data (the JSON of ``devolve ledger post``)."""
    with tempfile.TemporaryDirectory(prefix="devolve-post-") as folder:
        path = Path(folder) / "posted.json"
        path.write_text(json.dumps(data, default=str), encoding="utf-8")
        return {**_append(db_url, path, organisation), "file": "posted.json"}


def import_upload(db_url: str, name: str, content: bytes, *, organisation: str | None) -> dict[str, Any]:
    """Import an uploaded CSV, Excel, JSON or YAML file (checked row by row first), all or nothing."""
    suffix = Path(name or "upload.csv").suffix.lower() or ".csv"
    with tempfile.TemporaryDirectory(prefix="devolve-import-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(content)
        return {**_append(db_url, path, organisation), "file": Path(name or path.name).name}


def close_year_for(db_url: str, year: str, *, organisation: str | None) -> dict[str, Any]:
    """Close ``year``; with ``organisation``, only when it is the pool manager."""
    if organisation is not None:
        books = Books.open(db_url)
        manager = books.rules.pool_manager
        books.dispose()
        if organisation != manager:
            raise OutsideOrganisation(f"the year is closed by the pool manager ({manager}), not {organisation}")
    return ledger.close_year(db_url, year)


__all__ = ["OutsideOrganisation", "check_scope", "close_year_for", "import_upload", "post_data"]
