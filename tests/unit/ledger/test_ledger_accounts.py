"""The chart of accounts: names mean what the table in the module says."""

from __future__ import annotations

import pytest
from ledger_helpers import make_rules

from devolve.ledger import accounts as acc
from devolve.ledger.records import BookRules


def test_the_chart_covers_partners_lines_and_schemes():
    rules = make_rules()
    names = {a.name for a in acc.chart(rules)}
    assert {acc.BANK, acc.RISK_RESERVE, acc.BUDGET_FUNDING, acc.CARRIED_IN, acc.CARRIED_OUT} <= names
    for partner in rules.partners:
        assert {acc.contribution(partner), acc.payable(partner), acc.receivable(partner)} <= names
    for s in rules.service_lines:
        for d in rules.districts:
            line = acc.pool_line(s, d)
            assert {acc.budget(line), acc.commitment(line), acc.actual(line)} <= names
    assert acc.budget(acc.scheme_line("s1")) in names
    assert len(names) == len(acc.chart(rules))


@pytest.mark.parametrize("name, fields", [
    ("Expenses:Pool:acute:D2", {"role": "actual", "line": "Pool:acute:D2", "service": "acute", "district": "D2"}),
    ("Budget:Pool:home_care:D1:N07", {"role": "budget", "neighbourhood": "N07", "district": "D1"}),
    ("Commitments:Schemes:s1", {"role": "commitment", "scheme": "s1", "line": "Schemes:s1"}),
    ("Liabilities:Payable:prov-b", {"partner": "prov-b", "role": None}),
    ("Budget:Pool:Transfers:RiskReserve", {"role": "budget", "line": acc.RESERVE_LINE, "service": None}),
    ("Assets:Pool:Bank", {"root": "Assets", "line": None}),
])
def test_names_are_parsed_into_their_dimensions(name, fields):
    account, problem = acc.parse_account(name, make_rules())
    assert problem == "" and account.name == name
    for key, value in fields.items():
        assert getattr(account, key) == value


@pytest.mark.parametrize("name, says", [
    ("Expenses:Pool:dentistry:D1", "service line"), ("Expenses:Pool:acute:Z9", "district"),
    ("Liabilities:Payable:nobody", "not a partner"), ("Treasure:Chest", "starts with"),
    ("Assets:Pool:Cash", "chart"), ("Expenses:Pool:acute", "budget line"), ("Assets::Bank", "segments"),
    ("Budget:Schemes:s9", "scheme"), ("", "segments"),
])
def test_names_outside_the_chart_say_why(name, says):
    account, problem = acc.parse_account(name, make_rules())
    assert account is None and says in problem


def test_rules_round_trip_through_json():
    rules = make_rules(risk_share={"method": "overspend_order", "order": ["risk_reserve"], "risk_reserve_share": 0.01})
    assert BookRules.from_json(rules.to_json()) == rules
    assert rules.next_year("2016/17") == "2017/18" and rules.next_year("2020/21") is None
