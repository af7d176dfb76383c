"""PostgreSQL for tests: the server `make test` starts (127.0.0.1:5432, trust auth; override with
DEVOLVE_TEST_PG). When it cannot be reached the test fails, never skips."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG_SERVER = os.environ.get("DEVOLVE_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


def pg_admin():
    import psycopg
    try:
        return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_SERVER} (run `make test`, which starts it): {exc}")


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (its URL), dropped afterwards."""
    name = f"devolve_test_{uuid.uuid4().hex[:12]}"
    with pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with pg_admin() as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
