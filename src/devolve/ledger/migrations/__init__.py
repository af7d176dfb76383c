"""Alembic migrations of the books' schema (run by ``devolve ledger init``; see ``database.migrate``)."""
