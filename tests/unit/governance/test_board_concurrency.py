"""Members voting at the same time, from separate threads (each its own connection): every vote is
recorded once, none is lost, a member's second vote is refused, and the chain verifies — on SQLite
and on PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from databases import fresh_pg_database

from devolve.governance.records import GovernanceError
from devolve.services import governance as board
from devolve.services import ledger as books

ON = date(2017, 3, 1)
PROPOSAL = {"kind": "fund_scheme", "title": "Fund falls prevention", "proposer": "la-wigan", "scheme": "falls",
            "amounts_gbp": {"2017/18": 5_000_000}}


def _vote_at_once(db: str) -> None:
    p = board.propose(db, PROPOSAL, on=ON, effect_runs=10)
    members = [m["member"] for m in board.members("greater-manchester-2016")["members"]]
    attempts = members[:24] + members[:8]          # eight members try to vote twice

    def cast(member: str) -> str:
        try:
            board.vote(db, p["id"], member, "yes", on=ON)
            return "recorded"
        except GovernanceError as exc:
            assert "already voted" in str(exc)
            return "refused"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(cast, attempts))
    assert outcomes.count("recorded") == 24 and outcomes.count("refused") == 8
    state = board.proposal(db, p["id"])
    assert state["votes"] == 24 and len(state["vote_log"]) == 24
    check = board.verify(db)
    assert check["ok"] and check["entries"] == 1 + 1 + 24


def test_concurrent_votes_on_sqlite(gm_db):
    _vote_at_once(gm_db)


@pytest.mark.slow
@pytest.mark.postgres
def test_concurrent_votes_on_postgresql():
    with fresh_pg_database() as url:
        books.open_books(url, "greater-manchester-2016")
        _vote_at_once(url)
