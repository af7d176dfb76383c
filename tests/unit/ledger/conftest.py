"""Fixtures for the books' tests: a small deal's rules, and fresh books on SQLite and PostgreSQL.

PostgreSQL tests need the server `make test` starts (127.0.0.1:5432, trust auth; override with
DEVOLVE_TEST_PG). Each test module gets its own database with a random name, each test its own
schema, so parallel runs never collide; when the server cannot be reached they fail, not skip.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ledger_helpers import make_rules

from devolve.ledger.records import BookRules

PG_SERVER = os.environ.get("DEVOLVE_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres: needs the PostgreSQL server that `make test` starts")


@pytest.fixture
def rules() -> BookRules:
    return make_rules()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'books.db'}"


def _pg_admin():
    import psycopg
    try:
        return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_SERVER} (run `make test`, which starts it): {exc}")


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for the module, dropped afterwards."""
    name = f"devolve_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with _pg_admin() as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture
def pg_url(pg_database) -> str:
    """Books in a schema of their own inside the module's database."""
    import psycopg
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_database, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    return f"{pg_database}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'books.db'}"
    return request.getfixturevalue("pg_url")


# Other test modules import helpers with `from conftest import run_cli`. Pytest registers every
# conftest.py under the one module name "conftest", the last loaded winning, so this file also
# offers what tests/conftest.py offers (its helpers and fixtures, never its hooks).
def _offer_shared_helpers() -> None:
    spec = importlib.util.spec_from_file_location("devolve_shared_test_helpers",
                                                  Path(__file__).resolve().parents[2] / "conftest.py")
    shared = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shared)
    for name in dir(shared):
        if not name.startswith(("_", "pytest_")) and name not in globals():
            globals()[name] = getattr(shared, name)


_offer_shared_helpers()
