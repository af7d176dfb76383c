"""The books' vocabulary: small immutable records, as Beancount keeps its directives.

Money is integer pence. A posting's amount is positive for a debit and negative for a credit, so
the postings of a transaction add up to zero. Every entry in the books has an idempotency ``key``:
appending an entry whose key is already in the books, with the same content, does nothing.

Entries are of four sorts:

* :class:`Transaction` — balanced postings of one of the :class:`Kind` kinds;
* :class:`AccountOpening` — accounts added to the chart (the first one also carries the
  :class:`BookRules` the books are kept under);
* :class:`CostReturn` — a provider's open-book return of what a service actually cost;
* :class:`YearClose` — a financial year closed; nothing more may be posted to it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from functools import lru_cache
from types import MappingProxyType
from typing import Any, NamedTuple

from devolve.domain.periods import FinancialYear


class Kind(str, Enum):
    """What a transaction does."""

    CONTRIBUTION = "contribution"    # a partner pays into the pool (or the transformation fund)
    BUDGET = "budget"                # budget setting: the year's lines, and the risk reserve set aside
    COMMITMENT = "commitment"        # a contract awarded (an encumbrance on a budget line)
    PAYMENT = "payment"              # money paid out (and the commitment it draws down)
    VIREMENT = "virement"            # budget moved between lines
    ACCRUAL = "accrual"              # a cost recognised before it is paid
    RISK_SHARE = "risk_share"        # year-end settlement of an over- or underspend
    CARRY_FORWARD = "carry_forward"  # a balance carried between years
    REVERSAL = "reversal"            # the exact negation of an earlier transaction


TRANSACTION_KINDS = frozenset(k.value for k in Kind)
#: Kinds only the year-end close posts (an import may not).
CLOSE_KINDS = frozenset({Kind.RISK_SHARE.value, Kind.CARRY_FORWARD.value})
OPEN, COST_RETURN, CLOSE = "open", "cost_return", "close"
ENTRY_KINDS = TRANSACTION_KINDS | {OPEN, COST_RETURN, CLOSE}


class Posting(NamedTuple):
    account: str
    amount: int      # pence; debit > 0, credit < 0


class Transaction(NamedTuple):
    key: str
    kind: str
    date: date
    year: str                        # financial year label, "2016/17"
    period: int                      # 1 (April) … 12 (March)
    postings: tuple[Posting, ...]
    partner: str | None = None
    reference: str = ""
    decision: str | None = None      # the governance decision that authorised it, where one is needed
    description: str = ""
    reverses: int | None = None      # for a reversal: the entry number it negates


class Account(NamedTuple):
    """An account in the chart, with the dimensions its name encodes (see :mod:`.accounts`)."""

    name: str
    root: str                        # Assets | Liabilities | Equity | Income | Expenses | Budget | Commitments
    role: str | None = None          # budget | commitment | actual, for the accounts of a budget line
    line: str | None = None          # the budget line, e.g. "Pool:home_care_hour:E08000001"
    service: str | None = None
    district: str | None = None
    neighbourhood: str | None = None
    scheme: str | None = None
    partner: str | None = None


class AccountOpening(NamedTuple):
    key: str
    accounts: tuple[Account, ...]
    rules: BookRules | None = None   # only on the first entry of the books


class CostReturn(NamedTuple):
    """What one provider says a service line cost it in one period (open-book accounting)."""

    key: str
    provider: str
    year: str
    period: int
    service_line: str
    staff: int                       # pence
    non_pay: int
    overheads: int
    district: str | None = None
    activity: int | None = None      # units of activity delivered, where returned
    reference: str = ""

    @property
    def total(self) -> int:
        return self.staff + self.non_pay + self.overheads


class YearClose(NamedTuple):
    key: str
    year: str


Entry = Transaction | AccountOpening | CostReturn | YearClose


def entry_kind(entry: Entry) -> str:
    if isinstance(entry, Transaction):
        return entry.kind
    if isinstance(entry, AccountOpening):
        return OPEN
    if isinstance(entry, CostReturn):
        return COST_RETURN
    return CLOSE


class LedgerError(NamedTuple):
    """A rule an entry breaks, as data: which rule, which entry (by key) and what is wrong."""

    rule: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message} [{self.rule}]"


def _frozen(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class BookRules:
    """What the books need to know of the deal, fixed when they are opened (and hashed with them).

    Taken from the deal by :meth:`from_deal`, so that every later command works from the books
    alone: the partners and places, the five-year fixed budget, and the pooled-fund agreement
    (host partner, pool manager, delegation limit, risk share, carry-forward limit).
    """

    deal_id: str
    deal_name: str
    years: tuple[str, ...]
    pooled_budget: Mapping[str, int]                 # year → pence (the five-year fixed budget)
    transformation_fund: Mapping[str, int]           # year → pence
    contributions: Mapping[str, Mapping[str, int]]   # year → partner → pence, as the deal plans them
    partners: Mapping[str, Mapping[str, str]]        # id → {"name", "type"}
    districts: Mapping[str, str]                     # code → name
    service_lines: Mapping[str, str]                 # id → setting
    schemes: Mapping[str, str]                       # id → accountable partner ("" when none)
    host_partner: str
    pool_manager: str
    delegation_limit: int                            # pence
    risk_share: Mapping[str, Any]
    carry_forward_limit: float
    governance_source: str = ""
    synthetic: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for name in ("pooled_budget", "transformation_fund", "partners", "districts", "service_lines", "schemes",
                     "risk_share"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(self, "contributions",
                           _frozen({y: _frozen(v) for y, v in dict(self.contributions).items()}))

    @classmethod
    def from_deal(cls, deal) -> BookRules:
        years = tuple(y.label for y in deal.financial_years)
        contributions: dict[str, dict[str, int]] = {y: {} for y in years}
        for partner in deal.partners:
            for year, pence in partner.contributions.items():
                if year.label in contributions and pence:
                    contributions[year.label][partner.id] = int(pence)
        g = deal.governance
        return cls(
            deal_id=deal.id, deal_name=deal.name, years=years,
            pooled_budget={y.label: int(v) for y, v in deal.pooled_budget.items() if y.label in years},
            transformation_fund={y.label: int(v) for y, v in deal.transformation_fund.items() if y.label in years},
            contributions=contributions,
            partners={p.id: {"name": p.name, "type": p.type.value} for p in deal.partners},
            districts={d.code: d.name for d in deal.districts},
            service_lines={s.id: s.setting for s in deal.service_lines},
            schemes={s.id: s.accountable_partner or "" for s in deal.schemes},
            host_partner=g.host_partner, pool_manager=g.pool_manager, delegation_limit=int(g.delegation_limit),
            risk_share=_plain(g.risk_share), carry_forward_limit=float(g.carry_forward_limit),
            governance_source=g.source, synthetic=tuple(deal.synthetic_items),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "deal_id": self.deal_id, "deal_name": self.deal_name, "years": list(self.years),
            "pooled_budget": dict(self.pooled_budget), "transformation_fund": dict(self.transformation_fund),
            "contributions": {y: dict(v) for y, v in self.contributions.items()},
            "partners": {k: dict(v) for k, v in self.partners.items()}, "districts": dict(self.districts),
            "service_lines": dict(self.service_lines), "schemes": dict(self.schemes),
            "host_partner": self.host_partner, "pool_manager": self.pool_manager,
            "delegation_limit": self.delegation_limit, "risk_share": _plain(self.risk_share),
            "carry_forward_limit": self.carry_forward_limit, "governance_source": self.governance_source,
            "synthetic": list(self.synthetic),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> BookRules:
        data = json.loads(text)
        data["years"] = tuple(data["years"])
        data["synthetic"] = tuple(data.get("synthetic", ()))
        return cls(**data)

    def next_year(self, year: str) -> str | None:
        """The deal's year after ``year``, or None when ``year`` is its last."""
        i = self.years.index(year)
        return self.years[i + 1] if i + 1 < len(self.years) else None

    def partners_of_type(self, kind: str) -> tuple[str, ...]:
        return tuple(p for p, v in self.partners.items() if v["type"] == kind)


def _plain(value: Any) -> Any:
    """Mappings and sequences (possibly read-only views) as plain JSON-ready dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def is_text(text: str) -> bool:
    """Whether ``text`` is valid Unicode that can be written as UTF-8 (no lone surrogates)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@lru_cache(maxsize=8192)
def year_of(day: date) -> str:
    return FinancialYear.containing(day).label


def period_of(day: date) -> int:
    return (day.month - 4) % 12 + 1


def year_start(year: str) -> date:
    return FinancialYear.parse(year).start


def year_end(year: str) -> date:
    return FinancialYear.parse(year).end
