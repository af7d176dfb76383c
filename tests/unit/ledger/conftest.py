"""Fixtures for the books' tests: a small deal's rules, and fresh books on SQLite and PostgreSQL.

PostgreSQL tests need the server `make test` starts (127.0.0.1:5432, trust auth; override with
DEVOLVE_TEST_PG). Each test module gets its own database with a random name (``pg_database``, shared
with the end-to-end tests through tests/ledger_fixtures.py), each test its own schema, so parallel
runs never collide; when the server cannot be reached they fail, not skip.
"""

from __future__ import annotations

import uuid

import pytest
from ledger_fixtures import offer_shared_helpers, pg_database  # noqa: F401  (a fixture of this folder)
from ledger_helpers import make_rules

from devolve.ledger.records import BookRules


@pytest.fixture
def rules() -> BookRules:
    return make_rules()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'books.db'}"


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


offer_shared_helpers(globals())
