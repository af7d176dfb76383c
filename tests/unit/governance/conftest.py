"""Fixtures for the board's tests: Greater Manchester's books and board in a SQLite file, built once
per module and copied for each test (so each test starts from the same state, fast)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from devolve.packs.loader import load_deal
from devolve.services import ledger as books

GM = "greater-manchester-2016"


@pytest.fixture(scope="module")
def gm_deal():
    return load_deal(GM)


@pytest.fixture(scope="module")
def gm_template(tmp_path_factory, gm_deal) -> Path:
    path = tmp_path_factory.mktemp("board") / "template.db"
    books.open_books(f"sqlite:///{path}", GM)
    return path


@pytest.fixture
def gm_db(gm_template, tmp_path) -> str:
    path = tmp_path / "books.db"
    shutil.copy(gm_template, path)
    return f"sqlite:///{path}"


ON = date(2017, 3, 1)
