"""The books: journal of entries, postings, chart of accounts, cost returns, balances, chain head.

Revision ID: 0001
Revises:
Create Date: 2024-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "books",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("deal_id", sa.String(200), nullable=False),
        sa.Column("rules_json", sa.Text, nullable=False),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(400), nullable=False),
        sa.Column("root", sa.String(20), nullable=False),
        sa.Column("role", sa.String(20)),
        sa.Column("line", sa.String(400)),
        sa.Column("service", sa.String(200)),
        sa.Column("district", sa.String(200)),
        sa.Column("neighbourhood", sa.String(200)),
        sa.Column("scheme", sa.String(200)),
        sa.Column("partner", sa.String(200)),
        sa.Column("opened_seq", Seq, nullable=False),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "entries",
        sa.Column("seq", Seq, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("date", sa.String(10)),
        sa.Column("year", sa.String(7)),
        sa.Column("period", sa.SmallInteger),
        sa.Column("partner", sa.String(200)),
        sa.Column("reference", sa.Text),
        sa.Column("decision", sa.Text),
        sa.Column("description", sa.Text),
        sa.Column("reverses", Seq),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_entries_year_kind", "entries", ["year", "kind"])
    op.create_table(
        "postings",
        sa.Column("seq", Seq, sa.ForeignKey("entries.seq"), primary_key=True, autoincrement=False),
        sa.Column("line_no", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "cost_returns",
        sa.Column("seq", Seq, sa.ForeignKey("entries.seq"), primary_key=True, autoincrement=False),
        sa.Column("provider", sa.String(200), nullable=False),
        sa.Column("service_line", sa.String(200), nullable=False),
        sa.Column("district", sa.String(200)),
        sa.Column("staff", sa.BigInteger, nullable=False),
        sa.Column("non_pay", sa.BigInteger, nullable=False),
        sa.Column("overheads", sa.BigInteger, nullable=False),
        sa.Column("activity", sa.BigInteger),
    )
    op.create_table(
        "balances",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True, autoincrement=False),
        sa.Column("year", sa.String(7), primary_key=True),
        sa.Column("balance", sa.BigInteger, nullable=False),
        sa.Column("postings", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", Seq, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in ("chain_head", "balances", "cost_returns", "postings", "entries", "accounts", "books"):
        op.drop_table(table)
