"""The synthetic demo year: labelled synthetic throughout, valid, and closing with the risk share applied."""

from __future__ import annotations

import dataclasses

import pytest

from devolve.ledger.demo import generate_demo
from devolve.ledger.records import CostReturn, Transaction
from devolve.ledger.store import Books
from devolve.packs.synthetic import generate_deal
from devolve.services import ledger as service


@pytest.fixture(scope="module")
def deal():
    return generate_deal(districts=3, areas_per_district=10, seed=5)


def demo(deal, method: dict):
    from devolve.ledger.records import BookRules
    rules = dataclasses.replace(BookRules.from_deal(deal), risk_share=method)
    weights = {d.code: d.population for d in deal.districts}
    return rules, generate_demo(deal, rules, weights, "district population")


def test_every_entry_is_labelled_synthetic(deal):
    _, year = demo(deal, {"method": "pro_rata"})
    transactions = [e for e in year.entries if isinstance(e, Transaction)]
    assert transactions and all(t.description.startswith("SYNTHETIC demo:") for t in transactions)
    assert all(t.reference.startswith("SYN-") for t in transactions)
    assert all(t.decision is None or t.decision.startswith("SYN-DEC") for t in transactions)
    costs = [e for e in year.entries if isinstance(e, CostReturn)]
    assert costs and all(c.reference.startswith("SYN-") for c in costs)
    kinds = {t.kind for t in transactions}
    assert {"contribution", "budget", "commitment", "payment", "accrual", "virement"} <= kinds


def test_the_same_seed_gives_the_same_year(deal):
    assert demo(deal, {"method": "pro_rata"})[1].entries == demo(deal, {"method": "pro_rata"})[1].entries


@pytest.mark.parametrize("method", [{"method": "overspend_order", "risk_reserve_share": 0.01}, {"method": "pro_rata"},
                                    {"method": "none"}])
def test_the_year_books_closes_and_verifies(tmp_path, deal, method):
    rules, year = demo(deal, method)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    books, _ = Books.create(url, rules)
    books.append(year.entries)
    plan = books.close_year(year.year)
    books.dispose()
    sources = {c.source for c in plan.covers}
    assert plan.overspend > 0 and "underspends_in_pool" in sources
    if method["method"] == "overspend_order":
        assert {"risk_reserve", "uncommitted_scheme_money", "partners_outside_pool"} <= sources
    elif method["method"] == "pro_rata":
        assert "partners_outside_pool" in sources
    else:
        assert plan.carried_forward == -plan.overspend
    assert service.verify(url)["ok"]
    whole = service.balance(url, year=year.year)
    assert whole["debits_pence"] == whole["credits_pence"]
    assert whole["five_year"]["years"][0]["result_after_settlement_pence"] == 0
    providers = service.open_book_report(url)["providers"]
    nhs = [p for p in providers if p["type"] == "nhs_provider"]
    assert nhs and all(p["price_paid_pence"] > 0 and p["cost_pence"] > 0 for p in nhs)


def test_a_budget_seeded_from_fair_shares(tmp_path):
    from devolve.ledger.records import BookRules
    from devolve.packs.loader import load_deal
    from devolve.packs.synthetic import write_synthetic_pack
    pack = write_synthetic_pack(tmp_path / "pack", districts=3, areas_per_district=10, seed=5)
    empty = tmp_path / "no-data"
    empty.mkdir()
    deal = load_deal(pack, data_dir=empty)
    url = f"sqlite:///{tmp_path / 'seed.db'}"
    Books.create(url, BookRules.from_deal(deal))[0].dispose()
    seeded = service.seed_budget(url, str(pack), "2017/18", decision="SYN-DEC-7", data_dir=empty)
    assert seeded["added"] == 1 and seeded["lines"] == 3 * len(deal.service_lines)
    assert seeded["budget_pence"] == deal.pooled_budget[deal.financial_years[1]]    # no schemes, no reserve
    again = service.seed_budget(url, str(pack), "2017/18", decision="SYN-DEC-7", data_dir=empty)
    assert again["added"] == 0
    lines = service.balance(url, by="district", year="2017/18")["groups"]
    assert sum(g["budget_pence"] for g in lines) == seeded["budget_pence"]
    summary = service.books_summary(url)
    assert summary["entries"] == 2 and summary["debits_pence"] == summary["credits_pence"]
