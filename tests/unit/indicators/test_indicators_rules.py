"""Which rule applies (national, local, exempt, none), dated rules, RAG, and money directives."""

from __future__ import annotations

from datetime import date

import pytest

from devolve.engines.indicators import IndicatorError, Rule, decide, rate
from devolve.engines.indicators.rules import check_directive


def _rule(rule_id, value, *, scope="national", exempt=False, start=None, end=None, measure="dtoc",
          direction="lower_is_better", unit="fraction", kind="target", scale=None):
    return Rule(rule_id, measure, kind, f"rule {rule_id}", value, unit, direction, scope, "test-source", exempt,
                start, end, scale, "test")


NATIONAL = (_rule("dtoc_old", 0.05, start=date(2015, 4, 1), end=date(2017, 9, 1)),
            _rule("dtoc_new", 0.035, start=date(2017, 9, 1)))


def test_the_national_rule_in_force_on_the_date_applies():
    early = decide("dtoc", date(2016, 4, 1), NATIONAL, ())
    late = decide("dtoc", date(2018, 1, 1), NATIONAL, ())
    assert (early.source, early.rule.id) == ("national", "dtoc_old")
    assert (late.source, late.rule.id) == ("national", "dtoc_new")
    assert "from 2017-09-01" in late.reason


def test_before_any_rule_there_is_no_target_and_the_reason_says_when_rules_apply():
    decision = decide("dtoc", date(2014, 1, 1), NATIONAL, ())
    assert decision.rule is None and decision.source == "national"
    assert "no national rule in force on 2014-01-01" in decision.reason and "dtoc_new" in decision.reason


def test_a_local_target_replaces_the_national_one_and_says_so():
    local = (_rule("dtoc_new", 0.045, scope="local"),)
    decision = decide("dtoc", date(2018, 1, 1), NATIONAL, local)
    assert decision.source == "local" and decision.rule.value == 0.045
    assert decision.national.id == "dtoc_new"
    assert "replaces the national 'dtoc_new'" in decision.reason


def test_an_exemption_wins_over_a_local_target():
    local = (_rule("local_dtoc", 0.045, scope="local"), _rule("dtoc_new", 0.035, scope="local", exempt=True))
    decision = decide("dtoc", date(2018, 1, 1), NATIONAL, local)
    assert decision.source == "exempt" and decision.rule is None
    assert "exempt from the national rule 'dtoc_new'" in decision.reason


def test_a_local_rule_not_yet_in_force_does_not_apply():
    local = (_rule("dtoc_new", 0.045, scope="local", start=date(2019, 4, 1)),)
    assert decide("dtoc", date(2018, 1, 1), NATIONAL, local).source == "national"
    assert decide("dtoc", date(2019, 4, 1), NATIONAL, local).source == "local"


def test_sources_are_cited_in_full():
    decision = decide("dtoc", date(2018, 1, 1), NATIONAL, (), {"test-source": "The Test Mandate (2017)"})
    assert "The Test Mandate (2017)" in decision.reason


@pytest.mark.parametrize(("value", "expected"), [(0.030, "green"), (0.035, "green"), (0.0365, "amber"),
                                                 (0.03675, "amber"), (0.0368, "red"), (0.06, "red")])
def test_rag_for_a_lower_is_better_target(value, expected):
    assert rate(value, "fraction", NATIONAL[1], "lower_is_better", 0.05)[0] == expected


@pytest.mark.parametrize(("value", "expected"), [(0.96, "green"), (0.95, "green"), (0.91, "amber"),
                                                 (0.90, "red")])
def test_rag_for_a_higher_is_better_target(value, expected):
    target = _rule("ae", 0.95, direction="higher_is_better", measure="ae")
    assert rate(value, "fraction", target, "higher_is_better", 0.05)[0] == expected


def test_rag_converts_rate_units():
    target = _rule("adm", 1.2, unit="per_1000_per_year", measure="adm")   # 1.2 per 1,000 = 120 per 100,000
    assert rate(119.0, "per_100000_per_year", target, "lower_is_better", 0.0)[0] == "green"
    assert rate(121.0, "per_100000_per_year", target, "lower_is_better", 0.0)[0] == "red"


def test_rag_refuses_incomparable_units_and_contradictory_directions():
    with pytest.raises(IndicatorError, match="cannot compare"):
        rate(0.5, "fraction", _rule("x", 5, unit="per_1000_per_year"), "lower_is_better", 0.05)
    with pytest.raises(IndicatorError, match="says higher is better"):
        rate(0.5, "fraction", _rule("x", 0.5, direction="higher_is_better"), "lower_is_better", 0.05)


def test_the_better_care_fund_minimum_is_shared_per_head_of_england():
    bcf = _rule("bcf", 3_900_000_000, unit="GBP", direction="higher_is_better", kind="directive",
                measure="pooled_budget", scale="per_head_of_england")
    decision = decide("pooled_budget", date(2016, 4, 1), (bcf,), ())
    check = check_directive(decision, "2016/17", 100_000_000, 1_000_000, 50_000_000)
    assert check.required_gbp == pytest.approx(78_000_000)
    assert check.status == "met"
    assert check_directive(decision, "2016/17", 70_000_000, 1_000_000, 50_000_000).status == "not met"
    exempt = decide("pooled_budget", date(2016, 4, 1), (bcf,), (_rule("bcf", 0, unit="GBP", exempt=True,
                                                                     measure="pooled_budget"),))
    assert check_directive(exempt, "2016/17", 1.0, 1_000_000, 50_000_000).status == "exempt"
