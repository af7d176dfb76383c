"""Fixtures for the books' end-to-end tests: the GM demo books, and PostgreSQL databases.

PostgreSQL is the server `make test` starts (127.0.0.1:5432, trust auth; DEVOLVE_TEST_PG overrides);
each module gets a database with a random name, dropped afterwards; unreachable means fail, not skip.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_SERVER = os.environ.get("DEVOLVE_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres: needs the PostgreSQL server that `make test` starts")


def _admin():
    import psycopg
    try:
        return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_SERVER} (run `make test`, which starts it): {exc}")


@pytest.fixture(scope="module")
def pg_books_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for the module (as a URL a user would type)."""
    name = f"devolve_e2e_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with _admin() as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


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
