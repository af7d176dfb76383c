"""The columnar fast path agrees with the reference path: the same rules verdict, the same bodies,
the same books (to the head hash)."""

from __future__ import annotations

import csv
from datetime import date

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_helpers import LINE, LINE2, make_rules, txn

from devolve.ledger import accounts as acc
from devolve.ledger import store
from devolve.ledger.batch import PostingBatch, canonical_bodies, chain
from devolve.ledger.batch_rules import clear
from devolve.ledger.hashing import chain_hash, transaction_body
from devolve.ledger.importer import read_file
from devolve.ledger.records import period_of, year_of
from devolve.ledger.rules import LedgerState, check_batch
from devolve.ledger.store import Books
from devolve.services import ledger as service

ACCOUNTS = [acc.actual(LINE), acc.actual(LINE2), acc.BANK, acc.budget(LINE), acc.budget(LINE2), acc.BUDGET_FUNDING,
            acc.commitment(LINE), acc.contract("prov-a"), acc.RISK_RESERVE, acc.payable("prov-b")]
text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=8)


def mostly(good, *bad):
    """``good`` nine times in ten, else one of ``bad``."""
    return st.sampled_from([good] * (9 * len(bad)) + list(bad))


@st.composite
def batches(draw):
    """Batches of plain transactions, mostly sound (so the fast verdict is often "clear"), sometimes not."""
    rows, postings = [], []
    for row in range(draw(st.integers(1, 8))):
        day = date(draw(mostly(2017, 2016, 2021)), draw(st.integers(4, 12)), draw(st.integers(1, 28)))
        kind = draw(st.sampled_from(["payment", "budget", "commitment", "accrual", "contribution"]) |
                    st.just("virement"))
        rows.append({"key": draw(mostly(f"k{row}", "", " ")), "kind": kind, "date": day.isoformat(),
                     "year": year_of(day), "period": period_of(day),
                     "partner": draw(mostly(None, "prov-a", "nobody", "")), "reference": draw(text),
                     "decision": draw(mostly(None, "SPB-1", "")), "description": draw(text)})
        budgeted = draw(st.sampled_from([LINE2, LINE2, acc.scheme_line("s1")]))   # a scheme: a fund drawdown
        pairs = {"payment": (acc.actual(LINE), acc.BANK), "budget": (acc.budget(budgeted), acc.BUDGET_FUNDING),
                 "commitment": (acc.commitment(LINE), acc.contract("prov-a")),
                 "accrual": (acc.actual(LINE2), acc.payable("prov-b")),
                 "contribution": (acc.BANK, acc.contribution("la-a")),
                 "virement": (acc.budget(LINE2), acc.budget(LINE))}
        debit, credit = pairs[kind]
        amount = draw(st.integers(1, 60_000_00))
        lines = [(draw(mostly(debit, *ACCOUNTS)), amount),
                 (draw(mostly(credit, *ACCOUNTS)), -draw(mostly(amount, 0, 1)))]
        for line_no, (account, pence) in enumerate(lines):
            postings.append({"txn": row, "line_no": line_no, "account": account, "amount": pence})
    frame = pl.DataFrame(rows, schema={"key": pl.Utf8, "kind": pl.Utf8, "date": pl.Utf8, "year": pl.Utf8,
                                       "period": pl.Int32, "partner": pl.Utf8, "reference": pl.Utf8,
                                       "decision": pl.Utf8, "description": pl.Utf8})
    return PostingBatch(frame, pl.DataFrame(postings, schema={"txn": pl.UInt32, "line_no": pl.Int64,
                                                               "account": pl.Utf8, "amount": pl.Int64}))


@settings(max_examples=500, deadline=None)
@given(batch=batches(), budget=st.integers(0, 200_000_00), closed=st.booleans())
def test_clear_exactly_when_the_reference_rules_find_nothing(batch, budget, closed):
    rules = make_rules()
    state = LedgerState(rules=rules, accounts={a.name: a for a in acc.chart(rules)},
                        closed_years=frozenset({"2016/17"} if closed else ()),
                        balances={(acc.budget(LINE), "2017/18"): budget, (acc.BUDGET_FUNDING, "2017/18"): -budget})
    verdict, errors = clear(state, batch), check_batch(state, batch.records())
    assert verdict == (errors == []) or (not verdict and errors == [] and _declined(batch)), errors


@settings(max_examples=200, deadline=None)
@given(batch=batches(), first=st.integers(1, 10**12))
def test_columnar_bodies_and_hashes_are_the_canonical_ones(batch, first):
    bodies = canonical_bodies(batch, first).to_list()
    assert bodies == [transaction_body(first + i, t) for i, t in enumerate(batch.records())]
    previous, expected = "f" * 64, []
    for body in bodies:
        previous = chain_hash(previous, body)
        expected.append(previous)
    assert chain(bodies, "f" * 64) == expected


def test_bodies_escape_quotes_and_backslashes():
    frame = pl.DataFrame({"key": ['k"1\\'], "kind": ["payment"], "date": ["2016-05-01"], "year": ["2016/17"],
                          "period": [2], "partner": [None], "reference": ['say "hi"'], "decision": ["a\\b"],
                          "description": ["£ – ü"]}, schema_overrides={"period": pl.Int32, "partner": pl.Utf8})
    postings = pl.DataFrame({"txn": [0, 0], "line_no": [0, 1], "account": [acc.actual(LINE), acc.BANK],
                             "amount": [5, -5]}, schema_overrides={"txn": pl.UInt32})
    batch = PostingBatch(frame, postings)
    assert canonical_bodies(batch, 7).to_list() == [transaction_body(7, batch.records()[0])]


def _declined(batch: PostingBatch) -> bool:
    """Sound batches the fast verdict leaves to the reference rules on purpose: reserve drawdowns."""
    return batch.postings.filter((pl.col("account") == acc.RISK_RESERVE) & (pl.col("amount") > 0)).height > 0


def write_clean(path, n: int, *, budget: bool = True, first: int = 0) -> None:
    """A clean CSV: a budget (transaction ``b``) and ``n`` two-posting payments ``p{first}``, ``p{first + 1}`` …"""
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["key", "date", "kind", "partner", "reference", "decision", "description", "account", "debit",
                      "credit"])
        if budget:
            out.writerow(["b", "2016-04-01", "budget", "", "B", "SPB-1", "budget", acc.budget(LINE), "100000.00", ""])
            out.writerow(["b", "2016-04-01", "budget", "", "B", "SPB-1", "budget", acc.BUDGET_FUNDING, "",
                          "100000.00"])
        for i in range(first, first + n):
            amount = f"{1 + i % 90}.{i % 100:02d}"
            day = f"2016-{4 + i % 9:02d}-{1 + i % 28:02d}"
            note = 'a "quoted" £ note, with \\ backslash'
            out.writerow([f"p{i}", day, "payment", "prov-a", f"R{i}", "", note, acc.actual(LINE), amount, ""])
            out.writerow([f"p{i}", day, "payment", "prov-a", f"R{i}", "", note, acc.BANK, "", amount])


def stored_state(url: str) -> dict:
    """Everything the books hold, table by table, and their indexes' definitions."""
    books = Books.open(url)
    with books.engine.connect() as c:
        state = {table: c.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1, 2").all()
                 for table in ("entries", "postings", "balances", "accounts", "chain_head")}
        state["indexes"] = c.exec_driver_sql("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' "
                                             "ORDER BY name").all()
        state["integrity"] = c.exec_driver_sql("PRAGMA integrity_check").all()
    books.dispose()
    return state


def fast_only(monkeypatch) -> None:
    """Make the reference path fail, so a test knows the columnar path did the work."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("the batch went the reference way")
    monkeypatch.setattr(Books, "_append_locked", refuse)


@settings(max_examples=1, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.just(None))
def test_both_paths_make_the_same_books(tmp_path, monkeypatch, _):
    path = tmp_path / "clean.csv"
    write_clean(path, 300)
    parsed = read_file(path, make_rules())
    assert parsed.batch is not None and len(parsed.batch) == 301
    heads, states = [], []
    for name, chunk in (("fast", store.WRITER_CHUNK), ("chunked", 7), ("slow", None)):
        url = f"sqlite:///{tmp_path / name}.db"
        books, _ = Books.create(url, make_rules())
        with monkeypatch.context() as patched:
            patched.setattr(store, "WRITER_CHUNK", chunk or store.WRITER_CHUNK)   # 7: many chunks, a writer thread
            result = books.append_batch(parsed.batch) if chunk else books.append(read_file(path, make_rules(),
                                                                                         fast=False).entries)
        assert result.added == 301 and result.seqs["p0"] == 3 and len(result.seqs) == 301
        heads.append((result.head_seq, result.head_hash))
        books.dispose()
        assert service.verify(url)["ok"]
        states.append(stored_state(url))
    assert heads[0] == heads[1] == heads[2]
    # the same rows, balances and indexes (the fast path rebuilt the entries' index after inserting)
    assert states[0] == states[1] == states[2] and states[0]["integrity"] == [("ok",)]
    assert any(name == "ix_entries_year_kind" for name, _, _ in states[0]["indexes"])
    again = service.import_file(f"sqlite:///{tmp_path / 'fast'}.db", path)
    assert again["added"] == 0 and again["already_in_books"] == 301


def test_a_batch_the_rules_refuse_goes_the_reference_way(tmp_path):
    path = tmp_path / "over.csv"
    write_clean(path, 10)
    with path.open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["x", "2016-06-01", "payment", "", "", "", "", acc.actual(LINE), "99999.00", ""],
                                      ["x", "2016-06-01", "payment", "", "", "", "", acc.BANK, "", "99999.00"]])
    url = f"sqlite:///{tmp_path / 'b.db'}"
    Books.create(url, make_rules())[0].dispose()
    from devolve.ledger.parsing import ImportRejected
    try:
        service.import_file(url, path)
    except ImportRejected as rejected:
        (problem,) = rejected.value.problems if hasattr(rejected, "value") else rejected.problems
        assert problem.field == "account" and problem.line == 24
    else:
        raise AssertionError("the overspend was not refused")


def test_later_batches_are_checked_against_the_keys_in_the_books(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'b.db'}"
    Books.create(url, make_rules())[0].dispose()
    write_clean(tmp_path / "first.csv", 40)
    write_clean(tmp_path / "later.csv", 5, budget=False, first=40)       # smaller than the books: keys looked up
    write_clean(tmp_path / "mixed.csv", 2, budget=False, first=44)       # p44 is in the books already, p45 not
    with monkeypatch.context() as patched:
        fast_only(patched)
        assert service.import_file(url, tmp_path / "first.csv")["added"] == 41
        assert service.import_file(url, tmp_path / "later.csv")["added"] == 5
    again = service.import_file(url, tmp_path / "later.csv")
    assert (again["added"], again["already_in_books"]) == (0, 5)
    mixed = service.import_file(url, tmp_path / "mixed.csv")
    assert (mixed["added"], mixed["already_in_books"]) == (1, 1)
    assert service.verify(url)["ok"] and stored_state(url)["integrity"] == [("ok",)]


def test_a_batch_that_repeats_a_key_goes_the_reference_way(tmp_path):
    url = f"sqlite:///{tmp_path / 'b.db'}"
    books, _ = Books.create(url, make_rules())
    books.append([txn("b", "2016-04-01", "budget", (acc.budget(LINE), 500_00), (acc.BUDGET_FUNDING, -500_00),
                      decision="SPB-1")])
    paid = {"kind": "payment", "date": "2016-05-01", "year": "2016/17", "period": 2, "partner": None,
            "reference": "R", "decision": None, "description": ""}
    frame = pl.DataFrame([{**paid, "key": "p1"}, {**paid, "key": "p1"}],
                         schema_overrides={"period": pl.Int32, "partner": pl.Utf8, "decision": pl.Utf8})
    postings = pl.DataFrame({"txn": [0, 0, 1, 1], "line_no": [0, 1, 0, 1],
                             "account": [acc.actual(LINE), acc.BANK] * 2, "amount": [5, -5, 5, -5]},
                            schema_overrides={"txn": pl.UInt32})
    result = books.append_batch(PostingBatch(frame.select("key", *paid), postings))
    books.dispose()
    assert (result.added, result.skipped) == (1, 1) and service.verify(url)["ok"]


def test_the_columnar_path_on_sqlite_and_postgresql(tmp_path, db_url, monkeypatch):
    path = tmp_path / "clean.csv"
    write_clean(path, 250)                       # 502 postings: five full multi-row inserts and a remainder
    Books.create(db_url, make_rules())[0].dispose()
    with monkeypatch.context() as patched:
        fast_only(patched)
        patched.setattr(store, "WRITER_CHUNK", 40)     # seven chunks, through the writer thread
        result = service.import_file(db_url, path)
    assert (result["added"], result["postings"]) == (251, 502)
    checked = service.verify(db_url)
    assert checked["ok"] and checked["balances_ok"] and checked["entries"] == 252
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    books, _ = Books.create(reference, make_rules())
    assert books.append(read_file(path, make_rules(), fast=False).entries).head_hash == result["head_hash"]
    books.dispose()


@pytest.mark.parametrize("decision,cleared", [(None, False), ("P-0001", True)])
def test_a_fund_drawdown_above_the_delegation_limit_needs_a_decision_on_both_paths(decision, cleared):
    """Budgeting a scheme's line moves money out of the transformation fund: above the delegation
    limit it needs a decision, in the fast verdict exactly as in the reference rules."""
    rules = make_rules()
    state = LedgerState(rules=rules, accounts={a.name: a for a in acc.chart(rules)}, closed_years=frozenset(),
                        balances={})
    frame = pl.DataFrame([{"key": "draw", "kind": "budget", "date": "2017-05-01", "year": "2017/18", "period": 2,
                           "partner": None, "reference": "", "decision": decision, "description": ""}],
                         schema={"key": pl.Utf8, "kind": pl.Utf8, "date": pl.Utf8, "year": pl.Utf8, "period": pl.Int32,
                                 "partner": pl.Utf8, "reference": pl.Utf8, "decision": pl.Utf8, "description": pl.Utf8})
    postings = pl.DataFrame([{"txn": 0, "line_no": 0, "account": acc.budget(acc.scheme_line("s1")), "amount": 30_000_00},
                             {"txn": 0, "line_no": 1, "account": acc.BUDGET_FUNDING, "amount": -30_000_00}],
                            schema={"txn": pl.UInt32, "line_no": pl.Int64, "account": pl.Utf8, "amount": pl.Int64})
    batch = PostingBatch(frame, postings)
    errors = check_batch(state, batch.records())
    assert clear(state, batch) is cleared and (errors == []) is cleared
    if not cleared:
        assert [e.rule for e in errors] == ["delegation"]
