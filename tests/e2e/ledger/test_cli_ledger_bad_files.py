"""Bad files through the CLI: a clear row-level error, exit code 2, and nothing written."""

from __future__ import annotations

import json

import openpyxl
import pytest
from conftest import run_cli

from devolve.ledger import accounts as acc
from devolve.ledger.records import BookRules
from devolve.ledger.store import Books
from devolve.packs.synthetic import generate_deal

HEADER = "key,date,kind,partner,reference,decision,description,account,debit,credit\n"


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    rules = BookRules.from_deal(generate_deal(districts=2, areas_per_district=5, seed=9))
    folder = tmp_path_factory.mktemp("bad-files")
    url = f"sqlite:///{folder / 'books.db'}"
    Books.create(url, rules)[0].dispose()
    line = acc.pool_line(next(iter(rules.service_lines)), next(iter(rules.districts)))
    return url, line, folder


def head(url):
    result = run_cli("ledger", "--db", url, "verify", "--json")
    assert result.returncode == 0
    return json.loads(result.stdout)["head_hash"]


CASES = {
    "unbalanced": "x,2016-05-01,payment,,,,,{actual},10.00,\nx,2016-05-01,payment,,,,,{bank},,9.00\n",
    "unknown account": ("x,2016-05-01,payment,,,,,Expenses:Pool:nothing:Z1,10.00,\n"
                        "x,2016-05-01,payment,,,,,{bank},,10.00\n"),
    "wrong year": "x,2035-05-01,payment,,,,,{actual},10.00,\nx,2035-05-01,payment,,,,,{bank},,10.00\n",
    "non-numeric amount": "x,2016-05-01,payment,,,,,{actual},lots,\nx,2016-05-01,payment,,,,,{bank},,10.00\n",
    "fractional pence": "x,2016-05-01,payment,,,,,{actual},0.001,\nx,2016-05-01,payment,,,,,{bank},,0.001\n",
    "malformed csv": 'x,2016-05-01,payment,,,,,{actual},10.00,,,\n"x,2016-05-01\n',
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_csv_is_refused_by_row(books, case):
    url, line, folder = books
    before = head(url)
    path = folder / f"{case.replace(' ', '-')}.csv"
    path.write_text(HEADER + CASES[case].format(actual=acc.actual(line), bank=acc.BANK), encoding="utf-8")
    result = run_cli("ledger", "--db", url, "import", str(path), "--json")
    assert result.returncode == 2
    problems = json.loads(result.stdout)["problems"]
    assert problems and all(p["file"] == path.name and p["line"] in (2, 3) for p in problems), problems
    plain = run_cli("ledger", "--db", url, "import", str(path))
    assert plain.returncode == 2 and "line" in plain.stderr and "nothing was written" in plain.stderr
    assert "Traceback" not in plain.stderr
    assert head(url) == before


@pytest.mark.slow
def test_a_bad_workbook_is_refused(books):
    url, line, folder = books
    before = head(url)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "postings"
    sheet.append(HEADER.strip().split(","))
    sheet.append(["x", "2016-05-01", "payment", None, None, None, None, acc.actual(line), 10.5, None])
    sheet.append(["x", "2016-05-01", "payment", None, None, None, None, acc.BANK, None, "ten"])
    book.save(folder / "bad.xlsx")
    result = run_cli("ledger", "--db", url, "import", str(folder / "bad.xlsx"), "--json")
    assert result.returncode == 2
    (problem,) = json.loads(result.stdout)["problems"]
    assert problem["file"] == "bad.xlsx[postings]" and problem["line"] == 3 and problem["field"] == "credit"
    (folder / "junk.xlsx").write_bytes(b"not a workbook")
    junk = run_cli("ledger", "--db", url, "import", str(folder / "junk.xlsx"))
    assert junk.returncode == 2 and "Excel" in junk.stderr
    assert head(url) == before
