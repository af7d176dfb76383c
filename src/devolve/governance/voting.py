"""The board's voting rules as one pure function: who could vote, how they voted, and the outcome.

:func:`tally` takes the rules, the votes cast (member → yes / no / abstain) and the members with a
conflict of interest, and returns a :class:`Tally` whose ``reasons`` say, in words, why the outcome
is what it is. The rules (``voting_rule`` in the deal's ``governance.yaml``):

* **quorum** — at least ``quorum`` of the members entitled to vote (members less those with a
  conflict of interest) must have voted (yes, no or abstain), else the proposal **lapses**;
* **consensus** — approved when at least one member votes yes and none votes no;
* **simple majority** — approved when more members vote yes than no (a tie is not a majority);
* **weighted majority** — as simple majority, counting each member's weight (set in the deal, or
  by default its contributions to the pool);
* **double majority** — approved when, in each of the deal's two groups of partner types (e.g.
  councils; NHS bodies), more members vote yes than no; a group in which nobody voted yes or no
  has no majority;
* **reserved matters** (proposal kinds the deal names) need unanimity — every vote cast is yes,
  with no abstentions — and, where the deal names one, the national body's yes (its consent).

Abstentions count towards the quorum but not towards a majority.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from devolve.governance.records import CHOICES, BoardRules, GovernanceError


@dataclass(frozen=True)
class Tally:
    outcome: str                       # approved | rejected | lapsed
    reasons: tuple[str, ...]
    entitled: int                      # members entitled to vote (not conflicted)
    voted: int
    yes: int
    no: int
    abstain: int
    quorum_met: bool
    weight_yes: float = 0.0
    weight_no: float = 0.0
    groups: tuple[dict, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        return {"outcome": self.outcome, "reasons": list(self.reasons), "entitled": self.entitled,
                "voted": self.voted, "yes": self.yes, "no": self.no, "abstain": self.abstain,
                "quorum_met": self.quorum_met, "weight_yes": self.weight_yes, "weight_no": self.weight_no,
                "groups": [dict(g) for g in self.groups]}


def check_vote(rules: BoardRules, member: str, choice: str, conflicted: frozenset[str] | set[str]) -> None:
    """Raise :class:`GovernanceError` when ``member`` may not cast ``choice``."""
    rules.member(member)
    if choice not in CHOICES:
        raise GovernanceError(f"a vote is one of {', '.join(CHOICES)}, not '{choice}'")
    if member in conflicted:
        raise GovernanceError(f"{member} has a conflict of interest in this proposal and may not vote on it")


def tally(rules: BoardRules, votes: Mapping[str, str], *, reserved: bool = False,
          conflicted: frozenset[str] | set[str] = frozenset()) -> Tally:
    """The outcome of ``votes`` under ``rules`` (``reserved``: the proposal is a reserved matter)."""
    members = {m.partner: m for m in rules.members}
    for member, choice in votes.items():
        check_vote(rules, member, choice, conflicted)
    entitled = [m for m in rules.members if m.partner not in conflicted]
    cast = {p: c for p, c in votes.items()}
    yes = sum(1 for c in cast.values() if c == "yes")
    no = sum(1 for c in cast.values() if c == "no")
    abstain = len(cast) - yes - no
    w_yes = sum(members[p].weight for p, c in cast.items() if c == "yes")
    w_no = sum(members[p].weight for p, c in cast.items() if c == "no")
    quorum_met = bool(entitled) and len(cast) >= rules.quorum * len(entitled) - 1e-9
    common = dict(entitled=len(entitled), voted=len(cast), yes=yes, no=no, abstain=abstain, quorum_met=quorum_met,
                  weight_yes=w_yes, weight_no=w_no)
    if not quorum_met:
        need = rules.quorum * len(entitled)
        return Tally("lapsed", (f"quorum not met: {len(cast)} of {len(entitled)} entitled members voted; "
                                f"the quorum is {rules.quorum:.0%} ({need:g})",), **common)
    if reserved:
        reasons = []
        if no or abstain:
            reasons.append(f"a reserved matter needs unanimity: {no} voted no and {abstain} abstained")
        consent = rules.national_consent
        if consent and cast.get(consent) != "yes":
            reasons.append(f"a reserved matter needs the consent of {consent}, which "
                           + ("was not given" if consent in cast else "did not vote"))
        if reasons:
            return Tally("rejected", tuple(reasons), **common)
        return Tally("approved", ("unanimous" + (f", with the consent of {consent}" if consent else ""),), **common)
    rule = rules.voting_rule
    if rule == "consensus":
        if no:
            return Tally("rejected", (f"no consensus: {no} voted no",), **common)
        if not yes:
            return Tally("rejected", ("no consensus: nobody voted yes",), **common)
        return Tally("approved", (f"consensus: {yes} yes, none against",), **common)
    if rule == "simple_majority":
        if yes > no:
            return Tally("approved", (f"simple majority: {yes} yes to {no} no",), **common)
        return Tally("rejected", (f"no majority: {yes} yes to {no} no" + (" (a tie)" if yes == no else ""),), **common)
    if rule == "weighted_majority":
        if w_yes > w_no:
            return Tally("approved", (f"weighted majority: {w_yes:g} yes to {w_no:g} no",), **common)
        return Tally("rejected", (f"no weighted majority: {w_yes:g} yes to {w_no:g} no",), **common)
    if rule == "double_majority":
        groups, reasons, passed = [], [], True
        for i, types in enumerate(rules.double_majority_groups):
            g_yes = sum(1 for p, c in cast.items() if c == "yes" and rules.group_of(members[p]) == i)
            g_no = sum(1 for p, c in cast.items() if c == "no" and rules.group_of(members[p]) == i)
            ok = g_yes > g_no
            passed = passed and ok
            label = " / ".join(types)
            groups.append({"group": label, "yes": g_yes, "no": g_no, "majority": ok})
            reasons.append(f"{label}: {g_yes} yes to {g_no} no — " + ("a majority" if ok else "no majority"))
        outcome = "approved" if passed else "rejected"
        return Tally(outcome, (("double majority: " if passed else "no double majority: ") + "; ".join(reasons),),
                     groups=tuple(groups), **common)
    raise GovernanceError(f"unknown voting rule '{rule}'")
