"""Alembic revisions of the books' schema, oldest first."""
