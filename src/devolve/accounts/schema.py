"""The accounts' tables (SQLAlchemy Core), created by migration ``0003_accounts`` beside the books.

* ``users`` — one row per person: user name, partner organisation, role, board seat, argon2 hash;
* ``web_sessions`` — signed-in browser sessions (only the SHA-256 of the cookie's secret is kept),
  each with its CSRF token, idle and absolute expiry;
* ``api_tokens`` — tokens for scripts (only their SHA-256 is kept), revocable;
* ``login_failures`` — failed sign-ins in the rate limit's window, by user name and address.

Times are seconds since the Unix epoch (UTC).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table

metadata = MetaData()

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("organisation", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("seat", String(200)),
    Column("password_hash", String(400), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("password_changed_at", Float, nullable=False),
)

web_sessions = Table(
    "web_sessions", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_seen_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_web_sessions_user", "user_id"),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float),
    Column("revoked_at", Float),
    Index("ix_api_tokens_user", "user_id"),
)

login_failures = Table(
    "login_failures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_login_failures_username", "username", "at"),
    Index("ix_login_failures_address", "address", "at"),
)
