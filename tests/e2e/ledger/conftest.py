"""Fixtures for the books' end-to-end tests: ``pg_database``, a fresh PostgreSQL database per module
(see tests/ledger_fixtures.py, which the books' unit tests share)."""

from __future__ import annotations

from ledger_fixtures import offer_shared_helpers, pg_database  # noqa: F401  (a fixture of this folder)

offer_shared_helpers(globals())
