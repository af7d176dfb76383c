"""Published books: the journal, the workbook and the Fiscal Data Package carry the head hash and
can be verified from the file alone; reports add up."""

from __future__ import annotations

import csv
import json

import openpyxl
import pytest
from ledger_helpers import LINE, LINE2, make_rules, txn

from devolve.ledger import accounts as acc
from devolve.ledger.openbook import open_book
from devolve.ledger.records import CostReturn
from devolve.ledger.reports import budget_against_actual, by_partner, movements, trial_balance
from devolve.ledger.store import Books
from devolve.services import ledger as service


@pytest.fixture
def url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'books.db'}"
    books, _ = Books.create(url, make_rules())
    books.append([
        txn("b1", "2016-04-01", "budget", (acc.budget(LINE), 1_000_00), (acc.budget(LINE2), 500_00),
            (acc.BUDGET_FUNDING, -1_500_00), decision="SPB-1"),
        txn("v1", "2016-06-01", "virement", (acc.budget(LINE2), 100_00), (acc.budget(LINE), -100_00)),
        txn("p1", "2016-05-01", "payment", (acc.actual(LINE), 300_00), (acc.BANK, -300_00), partner="prov-a",
            description='a "quoted", unicode £ description'),
        txn("p2", "2016-06-01", "accrual", (acc.actual(LINE2), 200_00), (acc.payable("prov-b"), -200_00),
            partner="prov-b"),
        CostReturn("c1", "prov-a", "2016/17", 2, "home_care", 200_00, 60_00, 20_00, "D1", 15),
        CostReturn("c2", "prov-b", "2016/17", 3, "acute", 150_00, 50_00, 10_00, "D2"),
    ])
    books.dispose()
    return url


def test_the_journal_csv_verifies_and_tampering_is_found(tmp_path, url):
    out = tmp_path / "journal.csv"
    result = service.export(url, out)
    assert result["head_hash"] == service.verify(url)["head_hash"]
    check = service.verify(None, file=out)
    assert check["ok"] and check["entries"] == result["entries"] == 7
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[-1]["hash"] == result["head_hash"]
    rows[4]["debit"] = "300.01" if rows[4]["debit"] else rows[4]["debit"]
    rows[5]["credit"] = "300.01" if rows[5]["credit"] else rows[5]["credit"]
    with (tmp_path / "tampered.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    bad = service.verify(None, file=tmp_path / "tampered.csv")
    assert not bad["ok"] and bad["first_bad_entry"] == int(rows[4]["seq"])
    assert not service.verify(None, file=out, expect_head="f" * 64)["ok"]


def test_the_workbook_has_the_journal_and_the_reports(tmp_path, url):
    out = tmp_path / "books.xlsx"
    result = service.export(url, out)
    book = openpyxl.load_workbook(out, read_only=True)
    assert {"about", "journal", "trial_balance", "budget_vs_actual", "partners", "open_book", "five_year",
            "fiscal_data"} <= set(book.sheetnames)
    about = {r[0]: r[1] for r in book["about"].iter_rows(values_only=True)}
    assert about["head_hash"] == result["head_hash"]
    assert service.verify(None, file=out)["ok"]


def test_the_fiscal_data_package(tmp_path, url):
    folder = tmp_path / "published"
    result = service.export(url, folder)
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["devolve"]["head_hash"] == result["head_hash"]
    assert descriptor["profiles"] == {"fiscal": "*", "tabular": "*"}
    measures = descriptor["model"]["measures"]
    assert {m["phase"] for m in measures.values()} == {"proposed", "approved", "adjusted", "executed"}
    assert all(m["currency"] == "GBP" for m in measures.values())
    rows = list(csv.DictReader((folder / "budget.csv").open(encoding="utf-8")))
    line = next(r for r in rows if r["line"] == LINE and r["fiscal_year"] == "2016/17")
    assert (line["approved"], line["adjusted"], line["executed"]) == ("1000.00", "900.00", "300.00")
    pool = next(r for r in rows if r["line"] == "(pool)" and r["fiscal_year"] == "2016/17")
    assert pool["proposed"] == "1050000.00"
    fields = {f["name"] for f in descriptor["resources"][0]["schema"]["fields"]}
    assert fields == set(rows[0])
    assert service.verify(None, file=folder)["ok"]
    (folder / "journal.csv").write_text((folder / "journal.csv").read_text().replace("SPB-1", "SPB-2"))
    assert not service.verify(None, file=folder)["ok"]


def test_reports_add_up(url):
    whole = service.balance(url)
    assert whole["debits_pence"] == whole["credits_pence"] > 0
    assert whole["transactions"] == 4 and whole["year"] is None
    lines = {g["line"]: g for g in service.balance(url, by="line", year="2016/17")["groups"]}
    assert lines[LINE] == {"line": LINE, "budget_pence": 900_00, "committed_pence": 0, "actual_pence": 300_00,
                           "available_pence": 600_00, "variance_pence": 600_00}
    districts = {g["district"]: g for g in service.balance(url, by="district")["groups"]}
    assert districts["D2"]["actual_pence"] == 200_00
    partners = {g["partner"]: g for g in service.balance(url, by="partner")["groups"]}
    assert partners["prov-b"]["payable_pence"] == 200_00 and partners["prov-a"]["paid_as_provider_pence"] == 300_00
    assert service.balance(url, by="neighbourhood")["groups"][0]["neighbourhood"] == "D1:(district level)"
    five = whole["five_year"]
    assert [y["year"] for y in five["years"]] == list(make_rules().years)
    assert five["years"][0]["pool_spend_pence"] == 500_00


def test_open_book_price_against_cost(url):
    report = service.open_book_report(url)
    rows = {(r["provider"], r["service_line"]): r for r in report["rows"]}
    a = rows[("prov-a", "home_care")]
    assert (a["price_paid_pence"], a["cost_pence"], a["margin_pence"], a["margin_share"]) == (300_00, 280_00, 20_00,
                                                                                              round(20 / 300, 4))
    assert a["staff_pence"] == 200_00 and a["activity"] == 15 and a["flag"] is None
    assert rows[("prov-b", "acute")]["flag"] == "cost above price"
    providers = {p["provider"]: p for p in report["providers"]}
    assert set(providers) == {"prov-a", "prov-b"}


def test_pure_reports():
    rows = [("Assets:Pool:Bank", "2016/17", -5), ("Expenses:Pool:acute:D1", "2016/17", 5),
            ("Assets:Pool:Bank", "2017/18", 7), ("Income:Pool:Contributions:la-a", "2017/18", -7)]
    assert trial_balance(movements(rows)) == {"debits_pence": 2 + 5, "credits_pence": 7, "accounts": [
        {"account": "Assets:Pool:Bank", "balance_pence": 2}, {"account": "Expenses:Pool:acute:D1", "balance_pence": 5},
        {"account": "Income:Pool:Contributions:la-a", "balance_pence": -7}]}
    rules = make_rules()
    chart = {a.name: a for a in acc.chart(rules)}
    assert budget_against_actual(movements(rows, "2016/17"), chart, "service")[0]["service"] == "acute"
    assert by_partner(movements(rows), rules)[0]["contributed_pence"] == 7
    book = open_book(rules, [("prov-a", "acute", "2016/17", 100)], [])
    assert book["rows"][0]["flag"] == "no cost return" and book["flags"]["no cost return"] == 1
