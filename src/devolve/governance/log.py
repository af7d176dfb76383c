"""The decision log: append-only entries, each hashed over its body and the previous entry's hash
(the same SHA-256 chain as the books, :mod:`devolve.ledger.hashing`), and the board's state replayed
from them.

An entry is one of:

* ``board`` — entry 1: the board's rules, as the deal set them when the board was set up;
* ``propose`` — a proposal, with what it would enact and its financial effect (status draft or open);
* ``open`` — a draft opened for votes;
* ``vote`` — a member's vote (yes / no / abstain) for their seat;
* ``close`` — the outcome (approved / rejected / lapsed) and the tally that gave it, or an officer's
  approval under delegation;
* ``enact`` — what an approved proposal changed: the ledger transactions it posted (their keys and
  entry numbers in the books) or the parameter changes, targets, exemptions or estate changes adopted.

Nothing is ever edited or deleted; the state of every proposal is the log replayed (:func:`replay`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from devolve.governance.records import BoardRules, GovernanceError, Proposal
from devolve.ledger.hashing import canonical, chain_hash

EVENTS = ("board", "propose", "open", "vote", "close", "enact")


@dataclass(frozen=True)
class LogEntry:
    seq: int
    event: str
    proposal: str | None
    at: date
    data: dict[str, Any]

    def body(self) -> str:
        return canonical({"seq": self.seq, "event": self.event, "proposal": self.proposal,
                          "at": self.at.isoformat(), "data": self.data})

    @classmethod
    def from_body(cls, text: str) -> LogEntry:
        d = json.loads(text)
        return cls(int(d["seq"]), d["event"], d["proposal"], date.fromisoformat(d["at"]), d["data"])


def hash_entries(entries: list[LogEntry], previous: str) -> list[tuple[LogEntry, str, str]]:
    """(entry, body, hash) for each of ``entries``, chained on from ``previous``."""
    out = []
    for entry in entries:
        text = entry.body()
        previous = chain_hash(previous, text)
        out.append((entry, text, previous))
    return out


@dataclass
class ProposalState:
    proposal: Proposal
    status: str
    opened_on: date | None = None
    votes: dict[str, str] = field(default_factory=dict)
    vote_log: list[dict[str, Any]] = field(default_factory=list)
    tally: dict[str, Any] | None = None
    decided_on: date | None = None
    decided_by: str | None = None              # "board" or "officer: <name>"
    enacted_on: date | None = None
    ledger: list[dict[str, Any]] = field(default_factory=list)   # [{"key", "seq"}]
    adopted: list[dict[str, Any]] = field(default_factory=list)

    @property
    def outcome(self) -> str | None:
        return None if self.tally is None else self.tally["outcome"]

    def as_dict(self) -> dict[str, Any]:
        p = self.proposal
        return {"id": p.id, "kind": p.kind, "title": p.title, "proposer": p.proposer,
                "proposed_on": p.proposed_on.isoformat(), "status": self.status, "outcome": self.outcome,
                "enacted": self.enacted_on is not None, "votes": len(self.votes),
                "ledger_transactions": [t["seq"] for t in self.ledger],
                "ledger_keys": [t["key"] for t in self.ledger],
                "decided_on": None if self.decided_on is None else self.decided_on.isoformat(),
                "decided_by": self.decided_by,
                "enacted_on": None if self.enacted_on is None else self.enacted_on.isoformat(),
                "amount_gbp": p.amount / 100, "reasons": [] if self.tally is None else self.tally["reasons"],
                "tally": self.tally, "evidence": p.evidence, "financial_effect": p.financial_effect,
                "accountable": p.accountable, "interests": list(p.interests), "synthetic": p.synthetic,
                "vote_log": list(self.vote_log), "adopted": list(self.adopted)}


@dataclass
class BoardState:
    rules: BoardRules
    proposals: dict[str, ProposalState] = field(default_factory=dict)
    seq: int = 0

    def get(self, proposal_id: str) -> ProposalState:
        try:
            return self.proposals[proposal_id]
        except KeyError:
            raise GovernanceError(f"there is no proposal '{proposal_id}': `devolve board log --all` lists them") from None

    def next_id(self) -> str:
        return f"P-{len(self.proposals) + 1:04d}"


def replay(entries: list[LogEntry]) -> BoardState:
    """The board as the log leaves it."""
    if not entries or entries[0].event != "board":
        raise GovernanceError("the decision log does not begin with the board's rules")
    state = BoardState(BoardRules.from_dict(entries[0].data["rules"]), seq=entries[0].seq)
    for entry in entries[1:]:
        apply(state, entry)
    return state


def apply(state: BoardState, entry: LogEntry) -> None:
    """Fold one entry into ``state`` (entries were checked when they were appended)."""
    state.seq = entry.seq
    d = entry.data
    if entry.event == "propose":
        p = Proposal.from_dict(d["proposal"])
        state.proposals[p.id] = ProposalState(p, d["status"], opened_on=entry.at if d["status"] == "open" else None)
        return
    s = state.proposals[entry.proposal]
    if entry.event == "open":
        s.status, s.opened_on = "open", entry.at
    elif entry.event == "vote":
        s.votes[d["member"]] = d["choice"]
        s.vote_log.append({"member": d["member"], "choice": d["choice"], "on": entry.at.isoformat(),
                           "representative": d.get("representative", "")})
    elif entry.event == "close":
        s.tally, s.decided_on, s.status = d["tally"], entry.at, d["tally"]["outcome"]
        s.decided_by = d.get("decided_by", "board")
    elif entry.event == "enact":
        s.status, s.enacted_on = "enacted", entry.at
        s.ledger, s.adopted = list(d.get("ledger", [])), list(d.get("adopted", []))
