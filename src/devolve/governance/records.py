"""The board's vocabulary: members, rules, proposals and votes, as small frozen records.

The rules are taken from the deal pack's ``governance.yaml`` once, when the board is set up in a
database (:meth:`BoardRules.from_deal`), and stored with the decision log, so that every later
decision is taken under the rules the log records.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from devolve.domain.errors import InputError

#: What a proposal can do (the deal pack's ``reserved_matters`` name these).
KINDS = ("fund_scheme", "virement", "change_parameter", "adopt_target", "adopt_exemption", "estate_change")
CHOICES = ("yes", "no", "abstain")
OUTCOMES = ("approved", "rejected", "lapsed")
#: Lifecycle: draft → open → approved / rejected / lapsed → enacted (approved ones only).
STATUSES = ("draft", "open") + OUTCOMES + ("enacted",)
#: Kinds an officer may approve alone below the delegation limit (when they are not reserved matters).
DELEGABLE = ("fund_scheme", "virement", "estate_change")
#: Partner types whose members may not vote on a proposal that pays them (conflict of interest).
PROVIDER_TYPES = ("nhs_provider", "primary_care", "voluntary_sector")


class GovernanceError(InputError):
    """A board command cannot be carried out (bad input, or a step the rules forbid). Nothing changed."""


@dataclass(frozen=True)
class Member:
    partner: str                 # partner id (the seat)
    name: str
    type: str                    # partner type: local_authority, commissioner, nhs_provider …
    weight: float                # voting weight under the weighted-majority rule
    representative: str          # who sits for the partner (a role)


@dataclass(frozen=True)
class BoardRules:
    """A board's membership and rules, as the deal pack sets them."""

    deal_id: str
    board: str
    chair: str
    members: tuple[Member, ...]
    voting_rule: str
    quorum: float
    reserved_matters: tuple[str, ...]
    national_consent: str | None
    delegation_limit: int                         # pence
    double_majority_groups: tuple[tuple[str, ...], ...]
    accountable_officers: dict[str, str]          # partner type → accountable officer (a role)
    fund_total: int                               # the transformation fund over the deal, pence
    years: tuple[str, ...]
    source: str
    weights_from: str = "deal"                    # "deal" (governance.yaml) or "contributions"

    @classmethod
    def from_deal(cls, deal) -> BoardRules:
        g = deal.governance
        partners = {p.id: p for p in deal.partners}
        weights = dict(g.weights)
        weights_from = "deal"
        if not weights:    # the weighted rule's weights default to each partner's share of contributions
            weights = {m: float(sum(partners[m].contributions.values())) for m in g.members}
            weights_from = "contributions"
        members = tuple(
            Member(partner=m, name=partners[m].name, type=partners[m].type.value,
                   weight=float(weights.get(m, 0.0)),
                   representative=g.representatives.get(partners[m].type.value, "nominated representative"))
            for m in g.members)
        return cls(deal_id=deal.id, board=g.board, chair=g.chair, members=members, voting_rule=g.voting_rule,
                   quorum=float(g.quorum), reserved_matters=tuple(g.reserved_matters),
                   national_consent=g.national_consent, delegation_limit=int(g.delegation_limit),
                   double_majority_groups=tuple(tuple(x) for x in g.double_majority_groups),
                   accountable_officers=dict(g.accountable_officers),
                   fund_total=int(sum(deal.transformation_fund.values())),
                   years=tuple(y.label for y in deal.financial_years), source=g.source, weights_from=weights_from)

    def member(self, partner: str) -> Member:
        for m in self.members:
            if m.partner == partner:
                return m
        raise GovernanceError(f"'{partner}' is not a member of the {self.board}: "
                              f"run `devolve board members {self.deal_id}` to list the members")

    def group_of(self, member: Member) -> int | None:
        """Which double-majority group (0 or 1) a member's partner type falls in, if any."""
        for i, types in enumerate(self.double_majority_groups):
            if member.type in types:
                return i
        return None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["members"] = [asdict(m) for m in self.members]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> BoardRules:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BoardRules:
        data = dict(data)
        data["members"] = tuple(Member(**m) for m in data["members"])
        data["reserved_matters"] = tuple(data["reserved_matters"])
        data["double_majority_groups"] = tuple(tuple(g) for g in data["double_majority_groups"])
        data["years"] = tuple(data["years"])
        return cls(**data)


@dataclass(frozen=True)
class Proposal:
    """What someone asks the board to decide, with everything its enactment will do.

    ``transactions`` are the ledger transactions an approved fund drawdown or virement posts (as
    JSON-ready dicts, keyed ``board:<id>:<n>`` so a retried enactment is a no-op); ``changes`` the
    parameter changes, targets, exemptions or estate changes it adopts; ``financial_effect`` what
    the relevant engine says it is worth.
    """

    id: str
    kind: str
    title: str
    proposer: str                                  # a member's partner id
    proposed_on: date
    description: str = ""
    evidence: str = ""
    amount: int = 0                                # pence moved or drawn (0 when none)
    interests: tuple[str, ...] = ()                # members with a conflict of interest (may not vote)
    transactions: tuple[dict[str, Any], ...] = ()
    changes: tuple[dict[str, Any], ...] = ()
    financial_effect: dict[str, Any] = field(default_factory=dict)
    accountable: dict[str, str] = field(default_factory=dict)     # {"partner", "officer"}
    synthetic: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["proposed_on"] = self.proposed_on.isoformat()
        data["interests"] = list(self.interests)
        data["transactions"] = list(self.transactions)
        data["changes"] = list(self.changes)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Proposal:
        data = dict(data)
        data["proposed_on"] = date.fromisoformat(data["proposed_on"])
        for name in ("interests", "transactions", "changes"):
            data[name] = tuple(data.get(name, ()))
        return cls(**data)
