"""What the books' two test folders share (``tests/unit/ledger`` and ``tests/e2e/ledger``): their
``conftest.py`` files import it.

* ``pg_database`` — a fixture: a fresh PostgreSQL database for a test module, dropped afterwards
  (the server `make test` starts; see :mod:`databases`);
* :func:`offer_shared_helpers` — lets ``from conftest import run_cli`` keep working in every test
  module while a books' ``conftest.py`` is the one registered as ``conftest``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
from databases import fresh_pg_database

SHARED_CONFTEST = Path(__file__).resolve().parent / "conftest.py"


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for the module (as a URL a user would type)."""
    with fresh_pg_database() as url:
        yield url


def offer_shared_helpers(namespace: dict) -> None:
    """Copy what tests/conftest.py offers (its helpers and fixtures, never its hooks) into
    ``namespace``, a books' conftest's globals.

    Test modules import helpers with ``from conftest import run_cli``; pytest registers every
    conftest.py under the one module name ``conftest``, the last one loaded winning, so a folder's
    own conftest.py must offer them too."""
    spec = importlib.util.spec_from_file_location("devolve_shared_test_helpers", SHARED_CONFTEST)
    shared = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shared)
    for name in dir(shared):
        if not name.startswith(("_", "pytest_")) and name not in namespace:
            namespace[name] = getattr(shared, name)
