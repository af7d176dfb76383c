"""`devolve ledger` end to end on Greater Manchester's synthetic demo year, on SQLite and PostgreSQL:
it imports, balances, closes with the risk share applied, verifies, shows the open book for every
provider, publishes, and refuses bad input with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

DEAL = "greater-manchester-2016"
pytestmark = pytest.mark.slow         # each command starts a fresh interpreter, as a user's would


def ledger(db: str, *args: str, cwd: Path | None = None):
    return run_cli("ledger", "--db", db, *args, cwd=cwd)


def as_json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def gm(tmp_path_factory) -> tuple[str, dict]:
    folder = tmp_path_factory.mktemp("gm-books")
    db = f"sqlite:///{folder / 'gm.db'}"
    return db, as_json(ledger(db, "init", DEAL, "--demo", "--json"))


def test_the_demo_year_closes_with_the_overspend_shared_in_order(gm):
    _, init = gm
    demo = init["demo"]
    assert init["created"] and init["risk_share"] == "overspend_order" and demo["synthetic"]
    year_end = demo["year_end"]
    assert year_end["overspend_pence"] > 0 and year_end["unfunded_pence"] == 0
    sources = [c["source"] for c in year_end["covers"]]
    assert sources[:3] == ["underspends_in_pool", "risk_reserve", "uncommitted_scheme_money"]
    assert set(sources[3:]) == {"partners_outside_pool"}
    partners = sum(c["pence"] for c in year_end["covers"] if c["source"] == "partners_outside_pool")
    assert partners + sum(c["pence"] for c in year_end["covers"][1:3]) == year_end["overspend_pence"]


def test_balance_json_contract(gm):
    db, _ = gm
    whole = as_json(ledger(db, "balance", "--json"))
    assert {"year", "transactions", "debits_pence", "credits_pence", "accounts"} <= set(whole)
    assert whole["debits_pence"] == whole["credits_pence"] > 0
    assert whole["transactions"] > 1_000 and whole["year"] is None
    assert all(set(a) == {"account", "balance_pence"} for a in whole["accounts"])
    assert sum(a["balance_pence"] for a in whole["accounts"]) == 0
    year = as_json(ledger(db, "balance", "--by", "district", "--year", "2016/17", "--json"))
    assert year["year"] == "2016/17" and len(year["groups"]) == 11          # ten districts and the pool-wide lines
    assert year["five_year"]["years"][0]["status"] == "closed"
    assert year["five_year"]["years"][0]["result_after_settlement_pence"] == 0


def test_verify_json_contract(gm):
    db, _ = gm
    result = as_json(ledger(db, "verify", "--json"))
    assert result["ok"] is True and result["first_bad_entry"] is None
    assert result["entries"] > 3_000 and len(result["head_hash"]) == 64


def test_the_open_book_shows_price_and_cost_for_every_provider(gm):
    db, _ = gm
    report = as_json(ledger(db, "open-book", "--json"))
    nhs = [p for p in report["providers"] if p["type"] == "nhs_provider"]
    assert len(nhs) == 15
    assert all(p["price_paid_pence"] > 0 and p["cost_pence"] > 0 and p["cost_returns"] > 0 for p in nhs)
    human = ledger(db, "open-book")
    assert human.returncode == 0 and "Open book" in human.stdout


def test_published_books_verify_from_the_files(gm, tmp_path):
    db, _ = gm
    head = as_json(ledger(db, "verify", "--json"))["head_hash"]
    for target in (tmp_path / "journal.csv", tmp_path / "books.xlsx", tmp_path / "fdp"):
        out = as_json(ledger(db, "export", str(target), "--json"))
        assert out["head_hash"] == head
        check = as_json(ledger(db, "verify", "--file", str(target), "--json"))
        assert check["ok"] and check["head_hash"] == head
    package = json.loads((tmp_path / "fdp" / "datapackage.json").read_text(encoding="utf-8"))
    assert package["devolve"]["head_hash"] == head and package["devolve"]["synthetic"]


def test_posting_closing_and_refusing(gm, tmp_path):
    db, _ = gm
    virement = tmp_path / "virement.yaml"
    virement.write_text("key: e2e-virement\nkind: virement\ndate: 2017-05-02\n"
                        "description: SYNTHETIC test virement\npostings:\n"
                        "  - {account: 'Budget:Pool:reablement_episode:E08000001', debit: '10.00'}\n"
                        "  - {account: 'Budget:Pool:home_care_hour:E08000001', credit: '10.00'}\n", encoding="utf-8")
    first = ledger(db, "post", str(virement), "--json")
    assert first.returncode == 2 and "available" in first.stdout          # no budget set in 2017/18 yet
    late = tmp_path / "late.yaml"
    late.write_text("key: e2e-late\nkind: payment\ndate: 2016-06-01\ndescription: SYNTHETIC late\npostings:\n"
                    "  - {account: 'Expenses:Pool:home_care_hour:E08000001', debit: '1.00'}\n"
                    "  - {account: 'Assets:Pool:Bank', credit: '1.00'}\n", encoding="utf-8")
    refused = ledger(db, "post", str(late))
    assert refused.returncode == 2 and "closed" in refused.stderr and "Traceback" not in refused.stderr
    closed = as_json(ledger(db, "close-year", "2017/18", "--json"))
    assert closed["year"] == "2017/18" and closed["result_pence"] == 0
    again = ledger(db, "close-year", "2017/18")
    assert again.returncode == 2 and "already closed" in again.stderr
    assert as_json(ledger(db, "verify", "--json"))["ok"]


def test_init_again_is_safe(gm):
    db, _ = gm
    again = as_json(ledger(db, "init", DEAL, "--demo", "--json"))
    assert again["created"] is False and again["demo"]["already_booked"]


def test_books_that_are_not_there(tmp_path):
    result = ledger(f"sqlite:///{tmp_path / 'none.db'}", "balance")
    assert result.returncode == 2 and "ledger init" in result.stderr
    wrong = ledger("mysql://nowhere/db", "verify")
    assert wrong.returncode == 2 and "not supported" in wrong.stderr


def test_the_default_database_is_devolve_db_here(tmp_path):
    result = run_cli("ledger", "balance", "--json", cwd=tmp_path)
    assert result.returncode == 2 and "devolve.db" in result.stderr


@pytest.mark.postgres
@pytest.mark.slow
def test_the_demo_on_postgresql(pg_database):
    init = as_json(ledger(pg_database, "init", DEAL, "--demo", "--json"))
    assert init["demo"]["year_end"]["overspend_pence"] > 0
    whole = as_json(ledger(pg_database, "balance", "--json"))
    assert whole["debits_pence"] == whole["credits_pence"] and whole["transactions"] > 1_000
    check = as_json(ledger(pg_database, "verify", "--json"))
    assert check["ok"] and check["entries"] == init["entries"]
    book = as_json(ledger(pg_database, "open-book", "--json"))
    assert len([p for p in book["providers"] if p["type"] == "nhs_provider" and p["cost_pence"] > 0]) == 15
