"""The four risk-share agreements: worked examples, and invariants for any overspend."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devolve.ledger.risk_share import (
    PARTNERS,
    RESERVE,
    SCHEME_MONEY,
    UNDERSPENDS,
    UNFUNDED,
    Position,
    RiskShareError,
    fixed_shares,
    share_overspend,
    share_underspend,
)

WEIGHTS = {"la-a": 400, "ccg-a": 600}


def covered(covers, source=None):
    return {(c.source, c.partner): c.pence for c in covers if source is None or c.source == source}


def test_none_leaves_the_overspend_with_the_pool():
    covers = share_overspend({"method": "none"}, Position(overspend=1_000, gross_overspend=1_500, weights=WEIGHTS))
    assert covered(covers) == {(UNDERSPENDS, None): 500, (UNFUNDED, None): 1_000}


def test_pro_rata_to_contributions():
    covers = share_overspend({"method": "pro_rata"}, Position(overspend=1_001, gross_overspend=1_001, weights=WEIGHTS))
    # 1,001 × 40% = 400.4 and × 60% = 600.6: the penny left goes to the larger remainder
    assert covered(covers) == {(PARTNERS, "la-a"): 400, (PARTNERS, "ccg-a"): 601}


def test_fixed_shares_with_a_cap_redistribute_what_the_capped_partner_cannot_take():
    agreement = {"method": "fixed_shares", "shares": {"la-a": 0.5, "ccg-a": 0.3, "nat": 0.2},
                 "caps_gbp": {"la-a": "2.00"}}
    covers = share_overspend(agreement, Position(overspend=1_000, gross_overspend=1_000, weights=WEIGHTS))
    # la-a would take 500p but is capped at 200p; the other 800p split 3:2
    assert covered(covers) == {(PARTNERS, "la-a"): 200, (PARTNERS, "ccg-a"): 480, (PARTNERS, "nat"): 320}


def test_fixed_shares_all_capped_leaves_the_rest_unfunded():
    parts, unfunded = fixed_shares(1_000, {"a": 0.5, "b": 0.5}, {"a": 100, "b": 200})
    assert parts == {"a": 100, "b": 200} and unfunded == 700


def test_overspend_order_uses_reserve_then_scheme_money_then_partners():
    agreement = {"method": "overspend_order"}
    position = Position(overspend=1_000, gross_overspend=1_300, weights=WEIGHTS, risk_reserve=600, scheme_money=150)
    covers = share_overspend(agreement, position)
    assert covered(covers) == {(UNDERSPENDS, None): 300, (RESERVE, None): 600, (SCHEME_MONEY, None): 150,
                               (PARTNERS, "la-a"): 100, (PARTNERS, "ccg-a"): 150}
    assert [c.source for c in covers] == [UNDERSPENDS, RESERVE, SCHEME_MONEY, PARTNERS, PARTNERS]


def test_overspend_order_follows_the_agreements_order_and_stops_when_covered():
    agreement = {"method": "overspend_order", "order": ["uncommitted_scheme_money", "risk_reserve"]}
    covers = share_overspend(agreement, Position(overspend=500, gross_overspend=500, weights=WEIGHTS,
                                                 risk_reserve=1_000, scheme_money=300))
    assert covered(covers) == {(SCHEME_MONEY, None): 300, (RESERVE, None): 200}
    short = share_overspend(agreement, Position(overspend=500, gross_overspend=500, weights=WEIGHTS,
                                                risk_reserve=100, scheme_money=100))
    assert covered(short)[(UNFUNDED, None)] == 300


@pytest.mark.parametrize("agreement", [
    {"method": "shared"}, {"method": "overspend_order", "order": ["luck"]},
    {"method": "overspend_order", "order": ["partners_outside_pool", "risk_reserve"]},
    {"method": "overspend_order", "order": ["risk_reserve", "risk_reserve"]},
    {"method": "fixed_shares", "shares": {"a": 0.5}}, {"method": "fixed_shares"},
])
def test_agreements_that_cannot_be_applied_are_refused(agreement):
    with pytest.raises(RiskShareError):
        share_overspend(agreement, Position(overspend=10, gross_overspend=10, weights=WEIGHTS))


def test_nothing_to_share_by():
    with pytest.raises(RiskShareError):
        share_overspend({"method": "pro_rata"}, Position(overspend=10, gross_overspend=10, weights={}))


def test_underspend_returns():
    assert share_underspend({"method": "pro_rata"}, 1_001, WEIGHTS) == {"ccg-a": 601, "la-a": 400}
    fixed = {"method": "fixed_shares", "shares": {"la-a": 0.25, "ccg-a": 0.75}}
    assert share_underspend(fixed, 100, WEIGHTS) == {"la-a": 25, "ccg-a": 75}
    assert share_underspend({"method": "none"}, 0, WEIGHTS) == {}


methods = st.sampled_from([
    {"method": "none"}, {"method": "pro_rata"},
    {"method": "fixed_shares", "shares": {"la-a": 0.35, "ccg-a": 0.45, "nat": 0.2}, "caps_gbp": {"nat": "30.00"}},
    {"method": "overspend_order"},
    {"method": "overspend_order", "order": ["risk_reserve", "uncommitted_scheme_money"]},
])


@settings(max_examples=300, deadline=None)
@given(agreement=methods, overspend=st.integers(0, 10**12), extra=st.integers(0, 10**9),
       weights=st.dictionaries(st.sampled_from(["la-a", "ccg-a", "nat", "prov-a"]), st.integers(1, 10**11),
                               min_size=1),
       reserve=st.integers(0, 10**11), schemes=st.integers(0, 10**11))
def test_covers_add_up_to_the_overspend_exactly(agreement, overspend, extra, weights, reserve, schemes):
    position = Position(overspend=overspend, gross_overspend=overspend + extra, weights=weights,
                        risk_reserve=reserve, scheme_money=schemes)
    covers = share_overspend(agreement, position)
    assert all(c.pence > 0 and isinstance(c.pence, int) for c in covers)
    assert sum(c.pence for c in covers if c.source != UNDERSPENDS) == overspend
    assert sum(c.pence for c in covers if c.source == UNDERSPENDS) == extra
    assert covered(covers, RESERVE).get((RESERVE, None), 0) <= reserve
    assert covered(covers, SCHEME_MONEY).get((SCHEME_MONEY, None), 0) <= schemes
    if agreement["method"] == "fixed_shares":
        assert covered(covers).get((PARTNERS, "nat"), 0) <= 3_000
    if agreement["method"] == "pro_rata" and overspend:
        total = sum(weights.values())
        for (source, partner), pence in covered(covers, PARTNERS).items():
            assert abs(pence - overspend * weights[partner] / total) < 1 + 1e-6 * overspend


@settings(max_examples=200, deadline=None)
@given(amount=st.integers(0, 10**12),
       weights=st.dictionaries(st.text("abcdef", min_size=1, max_size=4), st.integers(1, 10**11), min_size=1))
def test_returns_add_up_exactly(amount, weights):
    parts = share_underspend({"method": "pro_rata"}, amount, weights)
    assert sum(parts.values()) == amount and all(v >= 0 for v in parts.values())
