"""Tampering: editing, deleting or reordering any single stored row is found by `verify`.

The tampering is done the way an insider would: straight SQL on the database, with foreign-key
checks switched off where that is what it takes.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from ledger_helpers import LINE, make_rules, txn
from sqlalchemy import text

from devolve.ledger import accounts as acc
from devolve.ledger.records import CostReturn
from devolve.ledger.store import Books
from devolve.services import ledger as service


@pytest.fixture
def books(db_url):
    b, _ = Books.create(db_url, make_rules())
    b.append([
        txn("b1", "2016-04-01", "budget", (acc.budget(LINE), 1_000_00), (acc.BUDGET_FUNDING, -1_000_00)),   # 2
        txn("p1", "2016-05-01", "payment", (acc.actual(LINE), 300_00), (acc.BANK, -300_00), partner="prov-a"),  # 3
        txn("p2", "2016-06-01", "payment", (acc.actual(LINE), 200_00), (acc.BANK, -200_00), partner="prov-a"),  # 4
        CostReturn("c1", "prov-a", "2016/17", 3, "home_care", 100_00, 50_00, 20_00, "D1", 10),              # 5
        txn("p3", "2016-07-01", "payment", (acc.actual(LINE), 100_00), (acc.BANK, -100_00), partner="prov-a"),  # 6
    ])
    assert service.verify(db_url)["ok"]
    yield b
    b.dispose()


def tamper(books, *statements: str) -> None:
    """Raw SQL, as an insider would run it: a plain sqlite3 connection (foreign keys off, its default),
    or a PostgreSQL session with foreign-key triggers switched off."""
    if books.engine.dialect.name == "sqlite":
        with sqlite3.connect(books.engine.url.database) as raw:
            for statement in statements:
                raw.execute(statement)
        return
    with books.engine.connect() as c:
        c.exec_driver_sql("SET session_replication_role = replica")
        for statement in statements:
            c.exec_driver_sql(statement)
        c.commit()


def check(books, first_bad):
    result = service.verify(books.url)
    assert result["ok"] is False
    assert result["first_bad_entry"] == first_bad, result
    assert result["problem"]


EDITS = {
    "entry description": ("UPDATE entries SET description = 'edited' WHERE seq = 3", 3),
    "entry key": ("UPDATE entries SET key = 'p1-x' WHERE seq = 3", 3),
    "entry year": ("UPDATE entries SET year = '2017/18' WHERE seq = 4", 4),
    "entry kind": ("UPDATE entries SET kind = 'accrual' WHERE seq = 4", 4),
    "entry decision": ("UPDATE entries SET decision = 'SPB-1' WHERE seq = 3", 3),
    "entry hash": ("UPDATE entries SET hash = '" + "a" * 64 + "' WHERE seq = 4", 4),
    "unused column of a cost return": ("UPDATE entries SET partner = 'prov-b' WHERE seq = 5", 5),
    "posting amount": ("UPDATE postings SET amount = amount + 1 WHERE seq = 4 AND line_no = 0", 4),
    "posting account": ("UPDATE postings SET account_id = account_id + 1 WHERE seq = 3 AND line_no = 0", 3),
    "posting moved": ("UPDATE postings SET seq = 6, line_no = 5 WHERE seq = 4 AND line_no = 1", 4),
    "cost return": ("UPDATE cost_returns SET staff = staff - 1 WHERE seq = 5", 5),
    "account name": ("UPDATE accounts SET name = 'Assets:Pool:Vault' WHERE name = 'Assets:Pool:Bank'", 1),
    "account dimension": (f"UPDATE accounts SET district = 'D2' WHERE name = '{acc.actual(LINE)}'", 1),
    "deal rules": ("UPDATE books SET rules_json = replace(rules_json, '\"carry_forward_limit\":0.02', "
                   "'\"carry_forward_limit\":0.2')", 1),
}


@pytest.mark.parametrize("what", sorted(EDITS))
def test_an_edited_row_is_found(books, what):
    statement, first_bad = EDITS[what]
    tamper(books, statement)
    check(books, first_bad)


def test_a_deleted_entry_is_missing(books):
    tamper(books, "DELETE FROM entries WHERE seq = 4")
    check(books, 4)


def test_a_deleted_posting_is_found(books):
    tamper(books, "DELETE FROM postings WHERE seq = 3 AND line_no = 1")
    check(books, 3)


def test_a_deleted_cost_return_is_found(books):
    tamper(books, "DELETE FROM cost_returns WHERE seq = 5")
    check(books, 5)


def test_reordered_entries_are_found(books):
    tamper(books, "UPDATE entries SET seq = -4 WHERE seq = 4", "UPDATE postings SET seq = -4 WHERE seq = 4",
           "UPDATE entries SET seq = 4 WHERE seq = 3", "UPDATE postings SET seq = 4 WHERE seq = 3",
           "UPDATE entries SET seq = 3 WHERE seq = -4", "UPDATE postings SET seq = 3 WHERE seq = -4")
    check(books, 3)


def test_reordered_postings_are_found(books):
    tamper(books, "UPDATE postings SET line_no = 9 WHERE seq = 3 AND line_no = 0",
           "UPDATE postings SET line_no = 0 WHERE seq = 3 AND line_no = 1",
           "UPDATE postings SET line_no = 1 WHERE seq = 3 AND line_no = 9")
    check(books, 3)


def test_a_changed_or_deleted_balance_is_found(books):
    tamper(books, "UPDATE balances SET balance = balance + 5 WHERE balance > 0 AND year = '2016/17'")
    result = service.verify(books.url)
    assert not result["ok"] and not result["balances_ok"] and "kept balance" in result["problem"]
    tamper(books, "DELETE FROM balances")
    assert not service.verify(books.url)["balances_ok"]


def test_a_changed_or_missing_head_is_found(books):
    tamper(books, "UPDATE chain_head SET seq = 5")
    check(books, 6)
    tamper(books, "DELETE FROM chain_head")
    assert not service.verify(books.url)["ok"]


def test_a_cut_off_tail_is_found_against_the_published_head(books):
    published = service.verify(books.url)["head_hash"]
    with books.engine.connect() as c:
        previous = c.execute(text("SELECT hash FROM entries WHERE seq = 5")).scalar()
    account = "SELECT id FROM accounts WHERE name = '{}'"
    tamper(books, "DELETE FROM postings WHERE seq = 6", "DELETE FROM entries WHERE seq = 6",
           f"UPDATE chain_head SET seq = 5, hash = '{previous}'",
           "UPDATE balances SET balance = balance - 10000, postings = postings - 1 "
           f"WHERE year = '2016/17' AND account_id = ({account.format(acc.actual(LINE))})",
           "UPDATE balances SET balance = balance + 10000, postings = postings - 1 "
           f"WHERE year = '2016/17' AND account_id = ({account.format(acc.BANK)})")
    assert service.verify(books.url)["ok"]                 # consistent inside: only the published head tells
    result = service.verify(books.url, expect_head=published)
    assert not result["ok"] and published in result["problem"]


def test_the_books_still_verify_after_more_appends(books):
    books.append([txn("p4", "2016-08-01", "payment", (acc.actual(LINE), 1), (acc.BANK, -1), partner="prov-b")])
    result = service.verify(books.url)
    assert result["ok"] and result["entries"] == 7
    assert json.loads(json.dumps(result)) == result
