"""The board's tables (SQLAlchemy Core), in the same database as the books. Migration ``0002`` creates them.

* ``board`` — one row: the deal, the board's rules as they stood when the board was set up (hashed
  as the log's first entry), and the log's head (``seq``, ``hash``). Writers lock this row, so
  entries are appended one writer at a time and the chain never forks;
* ``board_log`` — the decision log, numbered ``seq`` 1, 2, 3 … without gaps: every proposal, vote,
  close and enactment, each with a SHA-256 ``hash`` over its body and the previous entry's hash.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()
Seq = BigInteger().with_variant(Integer(), "sqlite")

board = Table(
    "board", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("deal_id", String(200), nullable=False),
    Column("rules_json", Text, nullable=False),
    Column("seq", Seq, nullable=False),
    Column("hash", String(64), nullable=False),
)

board_log = Table(
    "board_log", metadata,
    Column("seq", Seq, primary_key=True, autoincrement=False),
    Column("event", String(20), nullable=False),
    Column("proposal", String(40)),
    Column("at", String(10), nullable=False),
    Column("body", Text, nullable=False),
    Column("hash", String(64), nullable=False),
    Index("board_log_proposal", "proposal"),
)
