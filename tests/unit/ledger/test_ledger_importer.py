"""Importing CSV, Excel, JSON and YAML: good files land whole; bad ones say which row, and land nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_helpers import LINE, LINE2, make_rules
from sqlalchemy import func, select

from devolve.ledger import accounts as acc
from devolve.ledger import schema as s
from devolve.ledger.fast_csv import read_clean_postings
from devolve.ledger.importer import read_file
from devolve.ledger.parsing import ImportRejected
from devolve.ledger.records import AccountOpening, CostReturn, Transaction
from devolve.ledger.store import Books
from devolve.services import ledger as service

HEADER = ["key", "date", "kind", "partner", "reference", "decision", "description", "account", "debit", "credit"]
GOOD = [
    ["b1", "2016-04-01", "budget", "", "BUD", "SPB-1", "budget", acc.budget(LINE), "1000.00", ""],
    ["b1", "2016-04-01", "budget", "", "BUD", "SPB-1", "budget", acc.budget(LINE2), "500", ""],
    ["b1", "2016-04-01", "budget", "", "BUD", "SPB-1", "budget", acc.BUDGET_FUNDING, "", "1,500.00"],
    ["p1", "2016-05-03", "payment", "prov-a", "INV-1", "", "May", acc.actual(LINE), "250.5", ""],
    ["p1", "2016-05-03", "payment", "prov-a", "INV-1", "", "May", acc.BANK, "", "250.50"],
]


def write(path: Path, rows, header=HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        if header:
            out.writerow(header)
        out.writerows(rows)
    return path


def xlsx(path: Path, rows, header=HEADER, sheet="postings") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(header)
    for r in rows:
        ws.append(r)
    book.save(path)
    return path


@pytest.fixture
def books_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'books.db'}"
    Books.create(url, make_rules())[0].dispose()
    return url


def entries_in(url) -> int:
    books = Books.open(url)
    with books.engine.connect() as c:
        n = c.execute(select(func.count()).select_from(s.entries)).scalar()
    books.dispose()
    return n


def test_a_good_csv_reads_into_transactions(tmp_path):
    parsed = read_file(write(tmp_path / "good.csv", GOOD), make_rules())
    b1, p1 = parsed.entries
    assert isinstance(b1, Transaction) and b1.kind == "budget" and b1.decision == "SPB-1" and b1.partner is None
    assert [p.amount for p in b1.postings] == [1_000_00, 500_00, -1_500_00]
    assert p1.postings == ((acc.actual(LINE), 250_50), (acc.BANK, -250_50)) and p1.period == 2
    assert parsed.rows["p1"] == ("good.csv", [5, 6])


def test_a_good_file_lands_whole_and_a_retry_is_a_no_op(tmp_path, books_url):
    path = write(tmp_path / "good.csv", GOOD)
    first = service.import_file(books_url, path)
    assert (first["added"], first["postings"], first["already_in_books"]) == (2, 5, 0)
    again = service.import_file(books_url, path)
    assert (again["added"], again["already_in_books"]) == (0, 2)
    assert entries_in(books_url) == 3


def test_excel_reads_like_csv(tmp_path, books_url):
    rows = [r[:8] + [float(r[8].replace(",", "")) if r[8] else None, float(r[9].replace(",", "")) if r[9] else None]
            for r in GOOD]
    parsed = read_file(xlsx(tmp_path / "good.xlsx", rows), make_rules())
    assert [e.key for e in parsed.entries] == ["b1", "p1"]
    assert parsed.entries[1].postings[0].amount == 250_50
    assert service.import_file(books_url, tmp_path / "good.xlsx")["added"] == 2


def test_openings_and_cost_returns(tmp_path, books_url):
    nbhd = "Budget:Pool:home_care:D1:N01"
    opening = write(tmp_path / "open.csv", [["open-n01", "", "open", "", "", "", "", nbhd, "", ""],
                                            ["b-n01", "2016-04-01", "budget", "", "", "SPB-2", "", nbhd, "10.00", ""],
                                            ["b-n01", "2016-04-01", "budget", "", "", "SPB-2", "", acc.BUDGET_FUNDING,
                                             "", "10.00"]])
    parsed = read_file(opening, make_rules())
    assert isinstance(parsed.entries[0], AccountOpening) and parsed.entries[0].accounts[0].neighbourhood == "N01"
    assert service.import_file(books_url, opening)["added"] == 2
    costs = write(tmp_path / "costs.csv", [["c1", "prov-a", "2016/17", "3", "acute", "D2", "100.00", "50.00", "25.50",
                                            "40", "Q1"]],
                  header=["key", "provider", "year", "period", "service_line", "district", "staff", "non_pay",
                          "overheads", "activity", "reference"])
    (cost,) = read_file(costs, make_rules()).entries
    assert isinstance(cost, CostReturn) and cost.total == 175_50 and cost.activity == 40
    assert service.import_file(books_url, costs)["added"] == 1


def test_json_and_yaml_posts_and_a_reversal_without_postings(tmp_path, books_url):
    service.import_file(books_url, write(tmp_path / "good.csv", GOOD))
    doc = {"key": "v1", "kind": "virement", "date": "2016-10-03", "decision": "SPB-41", "description": "move",
           "postings": [{"account": acc.budget(LINE2), "debit": "100.00"},
                        {"account": acc.budget(LINE), "credit": "100.00"}]}
    (tmp_path / "v.json").write_text(json.dumps(doc), encoding="utf-8")
    assert service.post(books_url, tmp_path / "v.json")["added"] == 1
    (tmp_path / "r.yaml").write_text("key: r1\nkind: reversal\ndate: 2016-11-01\nreverses: 3\ndescription: undo p1\n",
                                     encoding="utf-8")
    assert service.post(books_url, tmp_path / "r.yaml")["added"] == 1
    assert service.balance(books_url, by="line")["groups"][0]["actual_pence"] == 0


BAD = {
    "unbalanced": ([["x1", "2016-05-03", "payment", "", "", "", "", acc.actual(LINE), "10.00", ""],
                    ["x1", "2016-05-03", "payment", "", "", "", "", acc.BANK, "", "9.99"]], 3, "debit/credit"),
    "unknown account": ([["x1", "2016-05-03", "payment", "", "", "", "", "Expenses:Pool:dentistry:D1", "10.00", ""],
                         ["x1", "2016-05-03", "payment", "", "", "", "", acc.BANK, "", "10.00"]], 2, "account"),
    "wrong year": ([["x1", "2030-05-03", "payment", "", "", "", "", acc.actual(LINE), "10.00", ""],
                    ["x1", "2030-05-03", "payment", "", "", "", "", acc.BANK, "", "10.00"]], 2, "year"),
    "non-numeric": ([["x1", "2016-05-03", "payment", "", "", "", "", acc.actual(LINE), "ten", ""],
                     ["x1", "2016-05-03", "payment", "", "", "", "", acc.BANK, "", "10.00"]], 2, "debit"),
    "fractional pence": ([["x1", "2016-05-03", "payment", "", "", "", "", acc.actual(LINE), "10.005", ""],
                          ["x1", "2016-05-03", "payment", "", "", "", "", acc.BANK, "", "10.005"]], 2, "debit"),
    "both sides": ([["x1", "2016-05-03", "payment", "", "", "", "", acc.actual(LINE), "10.00", "10.00"]], 2,
                   "debit/credit"),
    "bad date": ([["x1", "2016-13-03", "payment", "", "", "", "", acc.actual(LINE), "10.00", ""]], 2, "date"),
    "unknown kind": ([["x1", "2016-05-03", "gift", "", "", "", "", acc.actual(LINE), "10.00", ""]], 2, "kind"),
    "unknown partner": ([["x1", "2016-05-03", "payment", "nobody", "", "", "", acc.actual(LINE), "10.00", ""]], 2,
                        "partner"),
    "rows that disagree": ([["x1", "2016-05-03", "payment", "", "", "", "", acc.actual(LINE), "10.00", ""],
                            ["x1", "2016-05-04", "payment", "", "", "", "", acc.BANK, "", "10.00"]], 3, "date"),
    "ragged row": ([["x1", "2016-05-03", "payment", "", "", "", "", acc.actual(LINE), "10.00", "", "extra"]], 2,
                   "(row)"),
    "overspend": ([["x1", "2016-05-03", "payment", "", "", "", "", acc.BANK, "", "900.00"],
                   ["x1", "2016-05-03", "payment", "", "", "", "", acc.actual(LINE), "900.00", ""]], 3, "account"),
    "close-only kind": ([["x1", "2016-05-03", "risk_share", "", "", "", "", acc.receivable("la-a"), "10.00", ""],
                         ["x1", "2016-05-03", "risk_share", "", "", "", "", acc.covered_by_partner("la-a"), "",
                          "10.00"]], 2, "kind"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_rows_are_reported_by_line_and_nothing_is_written(tmp_path, books_url, case):
    rows, line, field = BAD[case]
    path = write(tmp_path / "bad.csv", GOOD + rows)
    before = entries_in(books_url)
    with pytest.raises(ImportRejected) as rejected:
        service.import_file(books_url, path)
    problems = rejected.value.problems
    assert any(p.line == line + len(GOOD) and p.field == field for p in problems), problems
    assert "nothing was written" in str(rejected.value)
    assert entries_in(books_url) == before


@pytest.mark.parametrize("content, expected", [
    (b"", "empty"), (b"key,date\n", "(header)"), (b"\xff\xfe\x00bad", "UTF-8"),
    (b'key,date,kind,account,debit,credit\n"p1,2016-05-03\n', "malformed"),
])
def test_malformed_csv_files(tmp_path, books_url, content, expected):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ImportRejected) as rejected:
        service.import_file(books_url, path)
    assert expected in str(rejected.value)
    assert entries_in(books_url) == 1


def test_malformed_excel_files(tmp_path, books_url):
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(ImportRejected, match="Excel"):
        service.import_file(books_url, tmp_path / "bad.xlsx")
    book = openpyxl.Workbook()
    book.active.append(["what", "ever"])
    book.save(tmp_path / "nosheet.xlsx")
    with pytest.raises(ImportRejected, match="sheet"):
        service.import_file(books_url, tmp_path / "nosheet.xlsx")
    rows = [r[:8] + [10.005, None] for r in GOOD[3:4]] + [GOOD[4][:8] + [None, 10.005]]
    with pytest.raises(ImportRejected, match="fraction of a penny"):
        service.import_file(books_url, xlsx(tmp_path / "frac.xlsx", rows))
    assert entries_in(books_url) == 1


def test_bad_json_and_yaml(tmp_path, books_url):
    (tmp_path / "a.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ImportRejected, match="valid JSON"):
        service.post(books_url, tmp_path / "a.json")
    (tmp_path / "b.yaml").write_text("key: x\nkind: payment\ndate: 2016-05-01\npostings:\n"
                                     f"  - {{account: '{acc.BANK}', debit: '1.234'}}\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match="fraction of a penny"):
        service.post(books_url, tmp_path / "b.yaml")
    assert entries_in(books_url) == 1


def mostly(good, *bad):
    """``good`` four times in five, else one of ``bad``."""
    return st.sampled_from([good] * (4 * len(bad)) + list(bad))


@st.composite
def postings_files(draw):
    """CSV rows, mostly sound, sometimes not: odd text, zero or fractional amounts, other formats."""
    rows = []
    for i in range(draw(st.integers(1, 6))):
        day = draw(st.sampled_from(["2016-04-01", "2017-03-31", "2018-11-15"]) | mostly("2019-06-01", "2030-01-01",
                                                                                        "01/05/2016"))
        text = draw(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"),
                            max_size=6) | st.sampled_from(["INV-1", "a, b", 'say "hi"', "£5"]))
        head = [draw(mostly(f"k{i}", f"k{i - 1}", "")), day, draw(mostly("payment", "gift", "budget")),
                draw(mostly("prov-a", "", "nobody")), text, draw(mostly("", "SPB-1")), draw(mostly("desc", " padded"))]
        total = 0
        for _ in range(draw(st.integers(1, 3))):
            pence = draw(st.integers(1, 10**7))
            amount = draw(mostly(f"{pence // 100}.{pence % 100:02d}", str(pence), "0.00", "1.001", "x", " 1.00"))
            total += pence
            rows.append(head + [draw(mostly(acc.actual(LINE), acc.actual(LINE2), "Expenses:Pool:acute:D9",
                                            acc.payable("prov-a")))] + [amount, ""])
        if draw(mostly(True, False)):          # balance the transaction (as far as its amounts were sound)
            rows.append(head + [acc.BANK, "", f"{total // 100}.{total % 100:02d}"])
    return rows


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=postings_files())
def test_the_fast_reader_agrees_with_the_row_by_row_reader(tmp_path, rows):
    path = write(tmp_path / "random.csv", rows)
    fast = read_clean_postings(path, make_rules())
    try:
        slow = read_file(path, make_rules(), fast=False)
    except ImportRejected:
        assert fast is None
        return
    if fast is not None:
        assert fast.entries == slow.entries
        assert dict(fast.rows) == dict(slow.rows)


def test_the_fast_reader_takes_clean_files(tmp_path):
    path = write(tmp_path / "good.csv", [r[:8] + [r[8].replace(",", ""), r[9].replace(",", "")] for r in GOOD])
    fast = read_clean_postings(path, make_rules())
    assert fast is not None and fast.entries == read_file(path, make_rules(), fast=False).entries
