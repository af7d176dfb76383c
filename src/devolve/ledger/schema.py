"""The books' tables (SQLAlchemy Core). Alembic migrations in ``migrations/`` create exactly these.

* ``books`` — one row: the deal the books are kept for and its rules (hashed in entry 1);
* ``entries`` — the append-only journal, numbered ``seq`` 1, 2, 3 … without gaps, each with its
  idempotency ``key`` (unique) and chain ``hash``;
* ``postings`` — a transaction's postings, in order (``line_no``), in integer pence;
* ``accounts`` — the chart, with the dimensions each name encodes, and the entry that opened it;
* ``cost_returns`` — providers' open-book returns (one per ``cost_return`` entry);
* ``balances`` — each account's balance per financial year, kept in step with ``postings`` inside the
  same database transaction (``verify`` recomputes it);
* ``chain_head`` — one row: the last entry's number and hash. Writers lock it, so appends are
  serialised and the chain never forks.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

metadata = MetaData()

#: A 64-bit integer that is SQLite's rowid when it is a primary key there.
Seq = BigInteger().with_variant(Integer(), "sqlite")

books = Table(
    "books", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("deal_id", String(200), nullable=False),
    Column("rules_json", Text, nullable=False),
)

accounts = Table(
    "accounts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(400), nullable=False, unique=True),
    Column("root", String(20), nullable=False),
    Column("role", String(20)),
    Column("line", String(400)),
    Column("service", String(200)),
    Column("district", String(200)),
    Column("neighbourhood", String(200)),
    Column("scheme", String(200)),
    Column("partner", String(200)),
    Column("opened_seq", Seq, nullable=False),
)

entries = Table(
    "entries", metadata,
    Column("seq", Seq, primary_key=True, autoincrement=False),
    Column("kind", String(20), nullable=False),
    Column("key", String(200), nullable=False, unique=True),
    Column("date", String(10)),
    Column("year", String(7)),
    Column("period", SmallInteger),
    Column("partner", String(200)),
    Column("reference", Text),
    Column("decision", Text),
    Column("description", Text),
    Column("reverses", Seq),
    Column("hash", String(64), nullable=False),
    Index("ix_entries_year_kind", "year", "kind"),
)

postings = Table(
    "postings", metadata,
    Column("seq", Seq, ForeignKey("entries.seq"), primary_key=True, autoincrement=False),
    Column("line_no", SmallInteger, primary_key=True, autoincrement=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

cost_returns = Table(
    "cost_returns", metadata,
    Column("seq", Seq, ForeignKey("entries.seq"), primary_key=True, autoincrement=False),
    Column("provider", String(200), nullable=False),
    Column("service_line", String(200), nullable=False),
    Column("district", String(200)),
    Column("staff", BigInteger, nullable=False),
    Column("non_pay", BigInteger, nullable=False),
    Column("overheads", BigInteger, nullable=False),
    Column("activity", BigInteger),
)

balances = Table(
    "balances", metadata,
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True, autoincrement=False),
    Column("year", String(7), primary_key=True),
    Column("balance", BigInteger, nullable=False),
    Column("postings", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

chain_head = Table(
    "chain_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Seq, nullable=False),
    Column("hash", String(64), nullable=False),
)
