"""The voting rules: YAML cases (tests/cases/governance_voting.yaml) and invariants."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from devolve.governance.records import BoardRules, GovernanceError, Member
from devolve.governance.voting import check_vote, tally

CASES = yaml.safe_load((Path(__file__).resolve().parents[2] / "cases" / "governance_voting.yaml").read_text())
for _case in CASES["cases"]:   # YAML 1.1 reads bare yes / no as booleans
    _case["votes"] = {m: {True: "yes", False: "no"}.get(v, v) for m, v in _case["votes"].items()}


def board(rule: str, quorum: float = 0.5) -> BoardRules:
    members = tuple(Member(p, p.upper(), t, float(CASES["weights"][p]), "rep") for p, t in CASES["members"].items())
    return BoardRules(deal_id="test", board="Test board", chair="chair", members=members, voting_rule=rule,
                      quorum=quorum, reserved_matters=("adopt_exemption",), national_consent=CASES["national_consent"],
                      delegation_limit=100_000_000, double_majority_groups=tuple(tuple(g) for g in CASES["groups"]),
                      accountable_officers={}, fund_total=0, years=("2016/17",), source="test")


@pytest.mark.parametrize("case", CASES["cases"], ids=[c["name"] for c in CASES["cases"]])
def test_case(case):
    result = tally(board(case["rule"], case.get("quorum", 0.5)), case["votes"], reserved=case.get("reserved", False),
                   conflicted=set(case.get("conflicted", [])))
    assert result.outcome == case["outcome"], result.reasons
    assert result.reasons


def test_every_rule_and_edge_has_a_case():
    rules = {c["rule"] for c in CASES["cases"]}
    assert rules == {"consensus", "simple_majority", "weighted_majority", "double_majority"}
    assert {c["outcome"] for c in CASES["cases"]} == {"approved", "rejected", "lapsed"}
    assert any(c.get("reserved") for c in CASES["cases"]) and any(c.get("conflicted") for c in CASES["cases"])
    assert any("tie" in c["name"] for c in CASES["cases"])


def test_reasons_name_the_failing_group():
    result = tally(board("double_majority"), {"c1": "yes", "c2": "yes", "g1": "no", "g2": "no", "t1": "no"})
    assert result.outcome == "rejected"
    assert "commissioner / nhs_provider / national_body: 0 yes to 3 no — no majority" in result.reasons[0]
    assert [g["majority"] for g in result.groups] == [True, False]


@pytest.mark.parametrize("member,choice,message", [
    ("zz", "yes", "not a member"), ("c1", "maybe", "one of yes, no, abstain"), ("t1", "yes", "conflict of interest")])
def test_bad_votes_are_refused(member, choice, message):
    with pytest.raises(GovernanceError, match=message):
        check_vote(board("simple_majority"), member, choice, {"t1"})
    with pytest.raises(GovernanceError, match=message):
        tally(board("simple_majority"), {member: choice}, conflicted={"t1"})


MEMBERS = list(CASES["members"])
votes_strategy = st.dictionaries(st.sampled_from(MEMBERS), st.sampled_from(["yes", "no", "abstain"]))


@given(rule=st.sampled_from(["consensus", "simple_majority", "weighted_majority", "double_majority"]),
       votes=votes_strategy, member=st.sampled_from(MEMBERS), reserved=st.booleans(),
       quorum=st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]))
def test_a_further_yes_never_turns_approval_into_rejection(rule, votes, member, reserved, quorum):
    """Changing one member's vote to yes (or adding a yes) never turns approved into anything else."""
    rules = board(rule, quorum)
    before = tally(rules, votes, reserved=reserved)
    after = tally(rules, {**votes, member: "yes"}, reserved=reserved)
    if before.outcome == "approved":
        assert after.outcome == "approved", (before.reasons, after.reasons)


@given(rule=st.sampled_from(["simple_majority", "weighted_majority", "double_majority"]), votes=votes_strategy,
       member=st.sampled_from(MEMBERS))
def test_a_further_no_never_turns_rejection_into_approval(rule, votes, member):
    rules = board(rule, 0.0)
    before = tally(rules, votes)
    after = tally(rules, {**votes, member: "no"})
    if before.outcome == "rejected":
        assert after.outcome == "rejected"


@given(votes=votes_strategy)
def test_counts_add_up(votes):
    result = tally(board("simple_majority", 0.0), votes)
    assert result.yes + result.no + result.abstain == result.voted == len(votes)
