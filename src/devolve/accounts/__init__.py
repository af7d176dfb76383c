"""Who may use the partnership's web app and API: users of partner organisations, their roles,
passwords (argon2id), browser sessions, API tokens for scripts, and the login rate limit.

Kept in the same database as the books (tables added by migration ``0003_accounts``).
``roles`` is pure (who may do what); ``passwords`` hashes and checks; ``store`` reads and writes
the tables. Use cases that combine them with a deal are in :mod:`devolve.services.accounts`.
"""
