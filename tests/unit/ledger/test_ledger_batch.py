"""The columnar fast path agrees with the reference path: the same rules verdict, the same bodies,
the same books (to the head hash)."""

from __future__ import annotations

import csv
from datetime import date

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_helpers import LINE, LINE2, make_rules

from devolve.ledger import accounts as acc
from devolve.ledger.batch import PostingBatch, canonical_bodies
from devolve.ledger.batch_rules import clear
from devolve.ledger.hashing import transaction_body
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
    for txn in range(draw(st.integers(1, 8))):
        day = date(draw(mostly(2017, 2016, 2021)), draw(st.integers(4, 12)), draw(st.integers(1, 28)))
        kind = draw(st.sampled_from(["payment", "budget", "commitment", "accrual", "contribution"]) |
                    st.just("virement"))
        rows.append({"key": draw(mostly(f"k{txn}", "", " ")), "kind": kind, "date": day.isoformat(),
                     "year": year_of(day), "period": period_of(day),
                     "partner": draw(mostly(None, "prov-a", "nobody", "")), "reference": draw(text),
                     "decision": draw(mostly(None, "SPB-1", "")), "description": draw(text)})
        pairs = {"payment": (acc.actual(LINE), acc.BANK), "budget": (acc.budget(LINE2), acc.BUDGET_FUNDING),
                 "commitment": (acc.commitment(LINE), acc.contract("prov-a")),
                 "accrual": (acc.actual(LINE2), acc.payable("prov-b")),
                 "contribution": (acc.BANK, acc.contribution("la-a")),
                 "virement": (acc.budget(LINE2), acc.budget(LINE))}
        debit, credit = pairs[kind]
        amount = draw(st.integers(1, 60_000_00))
        lines = [(draw(mostly(debit, *ACCOUNTS)), amount),
                 (draw(mostly(credit, *ACCOUNTS)), -draw(mostly(amount, 0, 1)))]
        for line_no, (account, pence) in enumerate(lines):
            postings.append({"txn": txn, "line_no": line_no, "account": account, "amount": pence})
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
@given(batch=batches())
def test_columnar_bodies_are_the_canonical_bodies(batch):
    before, after = canonical_bodies(batch)
    for i, t in enumerate(batch.records()):
        assert before[i] + str(1000 + i) + after[i] == transaction_body(1000 + i, t)


def _declined(batch: PostingBatch) -> bool:
    """Sound batches the fast verdict leaves to the reference rules on purpose: reserve drawdowns."""
    return batch.postings.filter((pl.col("account") == acc.RISK_RESERVE) & (pl.col("amount") > 0)).height > 0


def write_clean(path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["key", "date", "kind", "partner", "reference", "decision", "description", "account", "debit",
                      "credit"])
        out.writerow(["b", "2016-04-01", "budget", "", "B", "SPB-1", "budget", acc.budget(LINE), "100000.00", ""])
        out.writerow(["b", "2016-04-01", "budget", "", "B", "SPB-1", "budget", acc.BUDGET_FUNDING, "", "100000.00"])
        for i in range(n):
            amount = f"{1 + i % 90}.{i % 100:02d}"
            day = f"2016-{4 + i % 9:02d}-{1 + i % 28:02d}"
            note = 'a "quoted" £ note, with \\ backslash'
            out.writerow([f"p{i}", day, "payment", "prov-a", f"R{i}", "", note, acc.actual(LINE), amount, ""])
            out.writerow([f"p{i}", day, "payment", "prov-a", f"R{i}", "", note, acc.BANK, "", amount])


@settings(max_examples=1, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.just(None))
def test_both_paths_make_the_same_books(tmp_path, _):
    path = tmp_path / "clean.csv"
    write_clean(path, 300)
    parsed = read_file(path, make_rules())
    assert parsed.batch is not None and len(parsed.batch) == 301
    heads = []
    for name, fast in (("fast", True), ("slow", False)):
        url = f"sqlite:///{tmp_path / name}.db"
        books, _ = Books.create(url, make_rules())
        result = books.append_batch(parsed.batch) if fast else books.append(read_file(path, make_rules(),
                                                                                    fast=False).entries)
        assert result.added == 301
        heads.append((result.head_seq, result.head_hash))
        books.dispose()
        assert service.verify(url)["ok"]
    assert heads[0] == heads[1]
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
