"""The books' rules, each on an inline ledger: errors come back as data, naming the rule."""

from __future__ import annotations

from datetime import date

import pytest
from ledger_helpers import LINE, LINE2, make_rules, txn

from devolve.ledger import accounts as acc
from devolve.ledger.records import AccountOpening, CostReturn, Transaction, YearClose
from devolve.ledger.rules import LedgerState, check_batch


def state(rules, **kw) -> LedgerState:
    return LedgerState(rules=rules, accounts={a.name: a for a in acc.chart(rules)}, **kw)


def budget(key="b1", line=LINE, pence=1_000_00, day="2016-04-01", **kw):
    return txn(key, day, "budget", (acc.budget(line), pence), (acc.BUDGET_FUNDING, -pence), **kw)


def pay(key, pence, line=LINE, day="2016-05-01", **kw):
    return txn(key, day, "payment", (acc.actual(line), pence), (acc.BANK, -pence), partner="prov-a", **kw)


def rules_of(errors):
    return [e.rule for e in errors]


def test_a_sound_batch_has_no_errors(rules):
    assert check_batch(state(rules), [budget(), pay("p1", 600_00), pay("p2", 400_00)]) == []


def test_postings_must_balance(rules):
    t = txn("x", "2016-05-01", "payment", (acc.actual(LINE), 100), (acc.BANK, -99))
    errors = check_batch(state(rules), [budget(), t])
    assert rules_of(errors) == ["balanced"]
    assert "+1 pence" in errors[0].message and errors[0].key == "x"


def test_budgetary_accounts_balance_on_their_own(rules):
    t = txn("x", "2016-05-01", "commitment", (acc.commitment(LINE), 100), (acc.BANK, -100))
    assert rules_of(check_batch(state(rules), [budget(), t])) == ["balanced"]


def test_unknown_accounts_are_refused(rules):
    t = txn("x", "2016-05-01", "payment", ("Expenses:Pool:home_care:D1:N9", 100), (acc.BANK, -100))
    errors = check_batch(state(rules), [t])
    assert rules_of(errors) == ["known_accounts"] and "Expenses:Pool:home_care:D1:N9" in errors[0].message


def test_an_opened_account_can_be_posted_to_in_the_same_batch(rules):
    name = "Budget:Pool:home_care:D1:N9"
    parsed = acc.parse_account(name, rules)[0]
    opening = AccountOpening("open-n9", (parsed,))
    assert check_batch(state(rules), [opening, budget(line="Pool:home_care:D1:N9")]) == []


def test_no_posting_to_a_closed_year(rules):
    errors = check_batch(state(rules, closed_years=frozenset({"2016/17"})), [budget()])
    assert rules_of(errors) == ["open_year"]


def test_no_posting_outside_the_deal(rules):
    assert rules_of(check_batch(state(rules), [budget(day="2021-04-01")])) == ["year_of_deal"]


def test_period_must_match_the_date(rules):
    t = budget()._replace(period=3)
    assert rules_of(check_batch(state(rules), [t])) == ["well_formed"]


def test_amounts_are_whole_pence(rules):
    t = txn("x", "2016-05-01", "payment", (acc.actual(LINE), 1.5), (acc.BANK, -1.5))
    errors = check_batch(state(rules), [t])
    assert rules_of(errors) == ["well_formed"] and "whole pence" in errors[0].message


def test_available_funds_are_checked_per_budget_line(rules):
    errors = check_batch(state(rules), [budget(), pay("p1", 600_00), pay("p2", 400_01)])
    assert rules_of(errors) == ["available_funds"]
    assert errors[0].key == "p2" and "-1 pence" in errors[0].message


def test_commitments_count_against_available_funds(rules):
    commit = txn("c1", "2016-04-02", "commitment", (acc.commitment(LINE), 900_00), (acc.contract("prov-a"), -900_00))
    errors = check_batch(state(rules), [budget(), commit, pay("p1", 200_00)])
    assert rules_of(errors) == ["available_funds"]
    # a payment that draws the commitment down leaves available funds unchanged
    drawn = txn("p1", "2016-05-01", "payment", (acc.actual(LINE), 200_00), (acc.BANK, -200_00),
                (acc.commitment(LINE), -200_00), (acc.contract("prov-a"), 200_00))
    assert check_batch(state(rules), [budget(), commit, drawn]) == []


def test_an_overspend_with_a_decision_is_allowed(rules):
    assert check_batch(state(rules), [budget(), pay("p1", 1_500_00, decision="SPB-42")]) == []


def test_lines_are_independent(rules):
    errors = check_batch(state(rules), [budget(), pay("p1", 100, line=LINE2)])
    assert rules_of(errors) == ["available_funds"] and LINE2 in errors[0].message


def test_virements_above_the_delegation_limit_need_a_decision(rules):
    two = [budget("b1", LINE, 50_000_00), budget("b2", LINE2, 50_000_00)]
    small = txn("v1", "2016-06-01", "virement", (acc.budget(LINE2), 10_000_00), (acc.budget(LINE), -10_000_00))
    big = txn("v2", "2016-06-01", "virement", (acc.budget(LINE2), 10_000_01), (acc.budget(LINE), -10_000_01))
    assert check_batch(state(rules), [*two, small]) == []
    assert rules_of(check_batch(state(rules), [*two, big])) == ["delegation"]
    assert check_batch(state(rules), [*two, big._replace(decision="SPB-7")]) == []


def test_a_virement_moves_budget_only(rules):
    v = txn("v1", "2016-06-01", "virement", (acc.actual(LINE), 100), (acc.BANK, -100))
    assert rules_of(check_batch(state(rules), [budget(), v])) == ["virement"]


def test_drawing_the_risk_reserve_above_the_limit_needs_a_decision(rules):
    setaside = txn("r0", "2016-04-01", "budget", (acc.budget(acc.RESERVE_LINE), 50_000_00),
                   (acc.BUDGET_FUNDING, -50_000_00), (acc.actual(acc.RESERVE_LINE), 50_000_00),
                   (acc.RISK_RESERVE, -50_000_00))
    draw = txn("r1", "2016-09-01", "budget", (acc.RISK_RESERVE, 20_000_00), (acc.actual(acc.RESERVE_LINE), -20_000_00),
               (acc.budget(LINE), 20_000_00), (acc.budget(acc.RESERVE_LINE), -20_000_00))
    assert rules_of(check_batch(state(rules), [setaside, draw])) == ["delegation"]
    assert check_batch(state(rules), [setaside, draw._replace(decision="SPB-9")]) == []


def test_budgets_stay_within_the_five_year_fixed_budget(rules):
    limit = rules.pooled_budget["2016/17"] + rules.transformation_fund["2016/17"]
    assert check_batch(state(rules), [budget(pence=limit)]) == []
    assert rules_of(check_batch(state(rules), [budget(pence=limit + 1)])) == ["fixed_budget"]
    assert check_batch(state(rules), [budget(pence=limit + 1, decision="SPB-1")]) == []


def test_settlements_come_from_the_close_only(rules):
    share = txn("rs", "2017-03-31", "risk_share", (acc.receivable("la-a"), 100), (acc.covered_by_partner("la-a"), -100))
    assert rules_of(check_batch(state(rules), [share])) == ["close_only"]
    assert check_batch(state(rules), [share], allow_close_kinds=True) == []
    sneaky = txn("x", "2017-03-31", "payment", (acc.receivable("la-a"), 100), (acc.covered_by_partner("la-a"), -100))
    assert rules_of(check_batch(state(rules), [sneaky])) == ["close_only"]


def test_a_reversal_negates_an_earlier_transaction_once(rules):
    original = pay("p1", 100_00)
    books = state(rules, originals={7: original}, balances={(acc.budget(LINE), "2016/17"): 1_000_00,
                                                            (acc.actual(LINE), "2016/17"): 100_00})
    reverse = txn("r1", "2016-06-01", "reversal", (acc.actual(LINE), -100_00), (acc.BANK, 100_00), reverses=7)
    assert check_batch(books, [reverse]) == []
    assert rules_of(check_batch(books, [reverse, reverse._replace(key="r2")])) == ["reversal"]
    wrong = reverse._replace(postings=reverse.postings[:1] + ((acc.BANK, 99_00),) + ((acc.CARRIED_IN, 0),))
    assert rules_of(check_batch(books, [wrong])) == ["well_formed"]
    partial = txn("r3", "2016-06-01", "reversal", (acc.actual(LINE), -50_00), (acc.BANK, 50_00), reverses=7)
    assert rules_of(check_batch(books, [partial])) == ["reversal"]
    assert rules_of(check_batch(books, [reverse._replace(reverses=8)])) == ["reversal"]
    assert rules_of(check_batch(state(rules, reversed=frozenset({7}), originals={7: original}), [reverse])) == [
        "reversal"]


def test_only_a_reversal_names_what_it_reverses(rules):
    assert rules_of(check_batch(state(rules), [budget()._replace(reverses=3)])) == ["well_formed"]


@pytest.mark.parametrize("change, rule", [
    ({"key": ""}, "well_formed"), ({"kind": "gift"}, "well_formed"), ({"decision": ""}, "well_formed"),
    ({"partner": "nobody"}, "known_partner"), ({"postings": ((acc.BANK, 0), (acc.BANK, 0))}, "well_formed"),
    ({"postings": ((acc.BANK, 5),)}, "well_formed"), ({"year": "2017/18"}, "well_formed"),
])
def test_malformed_transactions(rules, change, rule):
    assert rules_of(check_batch(state(rules), [budget()._replace(**change)])) == [rule]


def test_errors_are_reported_for_every_bad_entry(rules):
    errors = check_batch(state(rules), [pay("p1", 1), budget(), pay("p2", 2_000_00), budget("b2", day="2030-01-01")])
    assert [(e.key, e.rule) for e in errors] == [("p1", "available_funds"), ("p2", "available_funds"),
                                                 ("b2", "year_of_deal")]


def test_cost_returns_and_closes(rules):
    good = CostReturn("c1", "prov-a", "2016/17", 3, "acute", 100, 50, 10, "D1", 12)
    assert check_batch(state(rules), [good]) == []
    for bad in (good._replace(provider="nobody"), good._replace(service_line="x"), good._replace(period=13),
                good._replace(staff=-1), good._replace(year="2030/31"), good._replace(staff=0, non_pay=0, overheads=0),
                good._replace(district="Z9"), good._replace(activity=-2)):
        assert len(check_batch(state(rules), [bad])) == 1, bad
    assert check_batch(state(rules), [YearClose("y1", "2016/17")]) == []
    assert rules_of(check_batch(state(rules), [YearClose("y2", "2017/18")])) == ["open_year"]
    assert rules_of(check_batch(state(rules), [YearClose("y1", "2016/17"), YearClose("y1b", "2016/17")])) == [
        "open_year"]
    closed = state(rules, closed_years=frozenset({"2016/17"}))
    assert check_batch(closed, [YearClose("y2", "2017/18")]) == []


def test_openings(rules):
    first = AccountOpening("open", acc.chart(rules))
    assert rules_of(check_batch(LedgerState(rules=rules, accounts={}), [first])) == ["well_formed"]
    assert check_batch(LedgerState(rules=rules, accounts={}), [first._replace(rules=rules)]) == []
    again = AccountOpening("open-2", (acc.parse_account(acc.BANK, rules)[0],))
    assert rules_of(check_batch(state(rules), [again])) == ["known_accounts"]
    lying = AccountOpening("open-3", (acc.parse_account("Budget:Pool:acute:D1:N1", rules)[0]._replace(district="D2"),))
    assert rules_of(check_batch(state(rules), [lying])) == ["known_accounts"]


def test_inputs_are_not_changed(rules):
    s = state(rules)
    before = dict(s.balances)
    check_batch(s, [budget(), pay("p1", 1)])
    assert dict(s.balances) == before


def test_a_transaction_is_a_record(rules):
    t = budget()
    assert isinstance(t, Transaction) and t.date == date(2016, 4, 1) and t.period == 1 and t.year == "2016/17"
    assert make_rules().years[0] == "2016/17"
