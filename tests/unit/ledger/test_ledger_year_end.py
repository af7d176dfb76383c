"""Closing a year: the result, the risk share, carry-forward within the limit, and a pool at zero."""

from __future__ import annotations

from ledger_helpers import LINE, LINE2, make_rules

from devolve.ledger import accounts as acc
from devolve.ledger.records import Transaction, YearClose
from devolve.ledger.rules import LedgerState, check_batch
from devolve.ledger.year_end import plan_year_end

Y = "2016/17"


def books(rules, spend_line1: int, spend_line2: int, year: str = Y, extra: dict | None = None) -> dict:
    """A year: £1m contributed (40/60), £500k budget on each line, the given spending."""
    b = {
        (acc.contribution("la-a"), year): -400_000_00, (acc.contribution("ccg-a"), year): -600_000_00,
        (acc.BANK, year): 1_000_000_00 - spend_line1 - spend_line2,
        (acc.budget(LINE), year): 500_000_00, (acc.budget(LINE2), year): 500_000_00,
        (acc.BUDGET_FUNDING, year): -1_000_000_00,
        (acc.actual(LINE), year): spend_line1, (acc.actual(LINE2), year): spend_line2,
    }
    for k, v in (extra or {}).items():
        b[k] = b.get(k, 0) + v
    return b


def chart(rules):
    return {a.name: a for a in acc.chart(rules)}


def apply(rules, balances, plan, year=Y):
    """Post the plan's entries through the rules, then the year's pool result."""
    earlier = frozenset(y for y in rules.years if y < year)          # years close in order
    state = LedgerState(rules=rules, accounts=chart(rules), balances=balances, closed_years=earlier)
    assert check_batch(state, plan.entries, allow_close_kinds=True) == []
    after = dict(balances)
    for e in plan.entries:
        if isinstance(e, Transaction):
            for p in e.postings:
                after[(p.account, e.year)] = after.get((p.account, e.year), 0) + p.amount
    return -sum(v for (a, y), v in after.items() if y == year and a.startswith(acc.POOL_PREFIXES)), after


def test_pro_rata_overspend():
    rules = make_rules()
    balances = books(rules, 520_000_00, 490_000_00)      # 20k over on one line, 10k under on the other
    plan = plan_year_end(rules, Y, balances, chart(rules))
    assert (plan.result, plan.gross_overspend, plan.underspends, plan.overspend) == (
        -10_000_00, 20_000_00, 10_000_00, 10_000_00)
    assert {(c.source, c.partner): c.pence for c in plan.covers} == {
        ("underspends_in_pool", None): 10_000_00, ("partners_outside_pool", "la-a"): 4_000_00,
        ("partners_outside_pool", "ccg-a"): 6_000_00}
    assert plan.carried_forward == 0 and plan.unfunded == 0
    assert isinstance(plan.entries[-1], YearClose)
    result, after = apply(rules, balances, plan)
    assert result == 0
    assert after[(acc.receivable("ccg-a"), Y)] == 6_000_00


def test_underspend_is_carried_up_to_the_limit_and_the_rest_returned():
    rules = make_rules()
    balances = books(rules, 450_000_00, 450_000_00)      # 100k under
    plan = plan_year_end(rules, Y, balances, chart(rules))
    limit = int(0.02 * rules.pooled_budget[Y])            # 20k
    assert plan.result == 100_000_00 and plan.carried_forward == limit
    assert plan.returned == {"ccg-a": 48_000_00, "la-a": 32_000_00}
    result, after = apply(rules, balances, plan)
    assert result == 0
    assert after[(acc.CARRIED_IN, "2017/18")] == -limit           # brought into next year as income
    assert after[(acc.CARRIED_FORWARD, Y)] + after[(acc.CARRIED_FORWARD, "2017/18")] == 0


def test_nothing_is_carried_beyond_the_deal():
    rules = make_rules()
    last = rules.years[-1]
    balances = books(rules, 450_000_00, 450_000_00, year=last)
    plan = plan_year_end(rules, last, balances, chart(rules))
    assert plan.carried_forward == 0 and sum(plan.returned.values()) == 100_000_00
    assert apply(rules, balances, plan, last)[0] == 0


def test_none_carries_a_deficit_then_leaves_it_unfunded():
    rules = make_rules(risk_share={"method": "none"})
    balances = books(rules, 530_000_00, 500_000_00)
    plan = plan_year_end(rules, Y, balances, chart(rules))
    assert plan.carried_forward == -30_000_00 and plan.unfunded == 0
    assert apply(rules, balances, plan)[0] == 0
    last = rules.years[-1]
    final = plan_year_end(rules, last, books(rules, 530_000_00, 500_000_00, year=last), chart(rules))
    assert final.carried_forward == 0 and final.unfunded == 30_000_00


def test_overspend_order_draws_the_reserve_and_scheme_money_first():
    rules = make_rules(risk_share={"method": "overspend_order"})
    scheme = acc.scheme_line("s1")
    extra = {(acc.RISK_RESERVE, Y): -15_000_00, (acc.actual(acc.RESERVE_LINE), Y): 15_000_00,
             (acc.scheme_fund("nat"), Y): -50_000_00, (acc.actual(scheme), Y): 40_000_00,
             (acc.commitment(scheme), Y): 6_000_00, (acc.contract("la-a"), Y): -6_000_00,
             (acc.BANK, Y): 50_000_00 - 40_000_00}
    balances = books(rules, 530_000_00, 490_000_00, extra=extra)   # result: -20k -15k set aside = -35k
    plan = plan_year_end(rules, Y, balances, chart(rules))
    assert plan.overspend == 35_000_00
    got = {(c.source, c.partner): c.pence for c in plan.covers}
    assert got[("risk_reserve", None)] == 15_000_00
    assert got[("uncommitted_scheme_money", None)] == 4_000_00          # 50k received − 40k spent − 6k committed
    assert got[("partners_outside_pool", "la-a")] + got[("partners_outside_pool", "ccg-a")] == 16_000_00
    result, after = apply(rules, balances, plan)
    assert result == 0 and after[(acc.RISK_RESERVE, Y)] == 0


def test_fixed_shares_with_caps_leave_the_uncapped_rest_carried_as_deficit():
    rules = make_rules(risk_share={"method": "fixed_shares", "shares": {"la-a": 0.5, "ccg-a": 0.5},
                                   "caps_gbp": {"la-a": 1000, "ccg-a": 1000}})
    balances = books(rules, 510_000_00, 500_000_00)
    plan = plan_year_end(rules, Y, balances, chart(rules))
    assert sum(c.pence for c in plan.covers if c.source == "partners_outside_pool") == 2_000_00
    assert plan.carried_forward == -8_000_00
    assert apply(rules, balances, plan)[0] == 0
