"""The board's decision log: an append-only, hash-chained record of proposals, votes and decisions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "board",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("deal_id", sa.String(200), nullable=False),
        sa.Column("rules_json", sa.Text, nullable=False),
        sa.Column("seq", Seq, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "board_log",
        sa.Column("seq", Seq, primary_key=True, autoincrement=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("proposal", sa.String(40)),
        sa.Column("at", sa.String(10), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("board_log_proposal", "board_log", ["proposal"])


def downgrade() -> None:
    op.drop_index("board_log_proposal", "board_log")
    op.drop_table("board_log")
    op.drop_table("board")
