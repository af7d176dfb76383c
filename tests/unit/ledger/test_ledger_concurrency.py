"""Eight concurrent writers × 2,000 transactions, on PostgreSQL and on SQLite: nothing lost,
nothing duplicated, the chain intact, balances exact — even when writers retry each other's keys.

Each writer appends its transactions in a seeded mix of single transactions and small batches
(1 to 16), so thousands of appends from eight processes interleave."""

from __future__ import annotations

import multiprocessing

import pytest
from ledger_helpers import LINE, concurrent_payment, concurrent_writer, make_rules, txn
from sqlalchemy import text

from devolve.ledger import accounts as acc
from devolve.ledger.store import Books
from devolve.services import ledger as service

WRITERS, EACH, RETRIES = 8, 2_000, 100


def run_writers(url: str) -> None:
    books, _ = Books.create(url, make_rules())
    books.append([txn("budget", "2016-04-01", "budget", (acc.budget(LINE), 1_000_000_00),
                      (acc.BUDGET_FUNDING, -1_000_000_00))])
    books.dispose()
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(WRITERS) as pool:
        added = pool.starmap(concurrent_writer, [(url, w, EACH, (w + 1) % WRITERS, RETRIES) for w in range(WRITERS)])
    assert sum(added) == WRITERS * EACH           # every retry of another writer's key was a no-op or its first post

    books = Books.open(url)
    with books.engine.connect() as c:
        keys = c.execute(text("SELECT COUNT(*), COUNT(DISTINCT key) FROM entries WHERE kind = 'payment'")).one()
        seqs = c.execute(text("SELECT MIN(seq), MAX(seq), COUNT(*) FROM entries")).one()
    books.dispose()
    assert tuple(keys) == (WRITERS * EACH, WRITERS * EACH)
    assert tuple(seqs) == (1, WRITERS * EACH + 2, WRITERS * EACH + 2)        # no gaps: chart, budget, payments
    paid = sum(-p.amount for w in range(WRITERS) for i in range(EACH) for p in concurrent_payment(w, i).postings
               if p.account == acc.BANK)
    lines = {g["line"]: g for g in service.balance(url, by="line")["groups"]}
    assert lines[LINE]["actual_pence"] == paid
    accounts = {a["account"]: a["balance_pence"] for a in service.balance(url)["accounts"]}
    assert accounts[acc.BANK] == -paid
    assert service.verify(url)["ok"]


@pytest.mark.slow
def test_concurrent_writers_on_sqlite(tmp_path):
    run_writers(f"sqlite:///{tmp_path / 'books.db'}")


@pytest.mark.slow
@pytest.mark.postgres
def test_concurrent_writers_on_postgres(pg_url):
    run_writers(pg_url)
