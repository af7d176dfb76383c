"""The repository on SQLite and on PostgreSQL: all or nothing, idempotent, balances kept exactly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from ledger_helpers import LINE, LINE2, make_rules, txn
from sqlalchemy import func, select, text

from devolve.ledger import accounts as acc
from devolve.ledger import queries
from devolve.ledger import schema as s
from devolve.ledger import database, store
from devolve.ledger.database import BooksUnavailable, normalise_url
from devolve.ledger.hashing import verify_chain
from devolve.ledger.journal import stored_bodies, stored_entries
from devolve.ledger.records import CostReturn
from devolve.ledger.store import Books, RejectedEntries


def budget(key="b1", line=LINE, pence=1_000_00, day="2016-04-01"):
    return txn(key, day, "budget", (acc.budget(line), pence), (acc.BUDGET_FUNDING, -pence))


def pay(key, pence, line=LINE, day="2016-05-01", **kw):
    return txn(key, day, "payment", (acc.actual(line), pence), (acc.BANK, -pence), partner="prov-a", **kw)


def counts(books):
    with books.engine.connect() as c:
        return (c.execute(select(func.count()).select_from(s.entries)).scalar(),
                c.execute(select(func.count()).select_from(s.postings)).scalar())


def verified(books) -> bool:
    with books.engine.connect() as c:
        return verify_chain(stored_bodies(c), expect_head=books.head()).ok and not queries.balances_disagreeing(c)


def test_books_open_with_the_chart_and_reopen(db_url):
    books, created = Books.create(db_url, make_rules())
    assert created and books.head()[0] == 1
    again, created_again = Books.create(db_url, make_rules())
    assert not created_again and again.head() == books.head()
    with pytest.raises(BooksUnavailable, match="kept for test-deal"):
        Books.create(db_url, make_rules(deal_id="other-deal"))
    with books.engine.connect() as c:
        assert len(queries.chart(c)) == len(acc.chart(make_rules()))
    assert verified(books)


def test_the_migrated_schema_is_the_declared_one(db_url):
    """The migrations create exactly the tables the books, the board and the web app's accounts declare."""
    from devolve.accounts import schema as accounts
    from devolve.governance import schema as board
    books, _ = Books.create(db_url, make_rules())
    with books.engine.connect() as c:
        context = MigrationContext.configure(c, opts={"target_metadata": [s.metadata, board.metadata,
                                                                          accounts.metadata]})
        diff = compare_metadata(context, [s.metadata, board.metadata, accounts.metadata])
    assert diff == []


def test_append_is_all_or_nothing_and_idempotent(db_url):
    books, _ = Books.create(db_url, make_rules())
    first = books.append([budget(), pay("p1", 300_00)])
    assert first.added == 2 and first.skipped == 0
    retry = books.append([budget(), pay("p1", 300_00)])
    assert retry.added == 0 and retry.skipped == 2 and retry.head_hash == first.head_hash
    before = counts(books)
    with pytest.raises(RejectedEntries) as rejected:
        books.append([pay("p2", 100_00), pay("p3", 900_00)])       # p3 overspends: neither is written
    assert [e.key for e in rejected.value.errors] == ["p3"]
    assert counts(books) == before
    with pytest.raises(RejectedEntries, match="different content"):
        books.append([pay("p1", 301_00)])
    with pytest.raises(RejectedEntries, match="twice in the batch"):
        books.append([pay("p4", 1_00), pay("p4", 2_00)])
    assert books.append([pay("p5", 1_00), pay("p5", 1_00)]).added == 1
    assert verified(books)


def test_balances_are_the_sums_of_the_postings(db_url):
    books, _ = Books.create(db_url, make_rules())
    books.append([budget(), budget("b2", LINE2), pay("p1", 250_00), pay("p2", 125_50, LINE2)])
    books.append([pay("p3", 1, day="2016-07-01")])
    with books.engine.connect() as c:
        rows = {(a, y): v for a, y, v in queries.balance_rows(c)}
        assert queries.balances_disagreeing(c) == []
    assert rows[(acc.actual(LINE), "2016/17")] == 250_01
    assert rows[(acc.BANK, "2016/17")] == -(250_01 + 125_50)
    assert sum(rows.values()) == 0


def test_entries_read_back_as_they_were_written(db_url):
    books, _ = Books.create(db_url, make_rules())
    items = [budget(), pay("p1", 250_00, reference="INV-1", description="£ and ü", decision="SPB-1"),
             CostReturn("c1", "prov-a", "2016/17", 2, "acute", 10, 20, 30, "D1", 5, "R")]
    result = books.append(items)
    with books.engine.connect() as c:
        back = {e.key: e for _, _, e in stored_entries(c, list(result.seqs.values()))}
    assert [back[i.key] for i in items] == items


def test_reversal_and_close_through_the_store(db_url):
    books, _ = Books.create(db_url, make_rules())
    result = books.append([budget(), pay("p1", 400_00)])
    seq = result.seqs["p1"]
    reversal = txn("r1", "2016-06-01", "reversal", (acc.actual(LINE), -400_00), (acc.BANK, 400_00), reverses=seq,
                   partner="prov-a")
    books.append([reversal])
    with pytest.raises(RejectedEntries, match="already been reversed"):
        books.append([reversal._replace(key="r2")])
    books.append([budget("b-funds", acc.pool_line("acute", "D1"), 1_000_000_00 - 1_000_00),
                  *[txn(f"c-{p}", "2016-04-01", "contribution", (acc.BANK, v), (acc.contribution(p), -v), partner=p)
                    for p, v in (("la-a", 400_000_00), ("ccg-a", 600_000_00))]])
    plan = books.close_year("2016/17")
    assert plan.result == 1_000_000_00 and plan.carried_forward == 20_000_00
    assert books.closed_years() == ["2016/17"]
    with pytest.raises(RejectedEntries, match="closed"):
        books.append([pay("late", 1)])
    with pytest.raises(RejectedEntries, match="already closed"):
        books.close_year("2016/17")
    assert verified(books)


def test_books_that_do_not_exist_say_so(tmp_path):
    with pytest.raises(BooksUnavailable, match="no books"):
        Books.open(f"sqlite:///{tmp_path / 'none.db'}")
    assert not (tmp_path / "none.db").exists()          # asking leaves no empty database behind
    with pytest.raises(BooksUnavailable, match="does not exist"):
        Books.open(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    assert normalise_url("books.db") == "sqlite:///books.db"
    assert normalise_url("postgresql://u@h/db").startswith("postgresql+psycopg://")


@pytest.mark.postgres
def test_postgres_that_cannot_be_reached_is_a_clear_error():
    with pytest.raises(BooksUnavailable, match="cannot open the books"):
        Books.open("postgresql://postgres@127.0.0.1:1/none?connect_timeout=1")


def test_a_big_append_goes_through_the_writer_thread(db_url, monkeypatch):
    monkeypatch.setattr(store, "WRITER_CHUNK", 100)          # a small chunk, so 2,000 entries use the thread
    books, _ = Books.create(db_url, make_rules())
    items = [budget(pence=1_000_000_00)] + [pay(f"p{i}", 1 + i % 7) for i in range(2_000)]
    result = books.append(items)
    assert result.added == 2_001
    assert counts(books)[1] == 2 * 2_001
    with books.engine.connect() as c:
        assert c.execute(text("SELECT COUNT(DISTINCT key) FROM entries")).scalar() == 2_002
    assert verified(books)


def test_a_failure_on_the_writer_thread_rolls_everything_back(db_url, monkeypatch):
    monkeypatch.setattr(store, "WRITER_CHUNK", 10)
    books, _ = Books.create(db_url, make_rules())
    before = counts(books)

    def broken(self, sql, rows):
        raise RuntimeError("disk full")
    monkeypatch.setattr(database.RowWriter, "_execute", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        books.append([budget()] + [pay(f"p{i}", 1) for i in range(50)])
    monkeypatch.undo()
    assert counts(books) == before and verified(books)
