"""Closing a financial year: the pool's result, the risk share, carry-forward and the close — pure.

Given the balances of the books, :func:`plan_year_end` works out (all in pence, for year *Y*):

* the pool's result ``R = −Σ`` of the year's movements on ``Income:Pool:*`` and ``Expenses:Pool:*``
  (contributions and any balance brought forward, less spending and money set aside into the risk
  reserve): ``R > 0`` is an underspend, ``R < 0`` an overspend ``O = −R``;
* the gross overspend ``G = Σ max(0, actual − budget)`` over the pool's budget lines;
* for an overspend, who covers it under the deal's risk-share agreement (:mod:`.risk_share`): the
  risk reserve (its balance up to *Y*), uncommitted scheme money (transformation fund received less
  spent less still committed), partners (pro rata to their contributions in *Y*, or fixed shares);
  whatever no-one covers is carried into *Y+1* as a deficit, or, after the deal's last year, stays
  ``unfunded``;
* for an underspend ``S``, the part carried into *Y+1*, ``min(S, ⌊limit × fixed budget of Y⌋)``
  (none after the last year), and the rest returned to partners pro rata (or by fixed shares);

and the entries that enact it: a ``risk_share`` transaction, a ``carry_forward`` out of *Y* and into
*Y+1*, and the :class:`YearClose`. After them the year's pool result is exactly zero (or the
unfunded deficit, after the last year).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from devolve.ledger import accounts as acc
from devolve.ledger.records import (
    Account,
    BookRules,
    Entry,
    Kind,
    Posting,
    Transaction,
    YearClose,
    year_end,
    year_start,
)
from devolve.ledger.risk_share import (
    PARTNERS,
    RESERVE,
    SCHEME_MONEY,
    UNFUNDED,
    Cover,
    Position,
    share_overspend,
    share_underspend,
)


@dataclass(frozen=True)
class YearEnd:
    year: str
    contributions: int
    brought_forward: int
    spend: int
    set_aside: int
    result: int
    gross_overspend: int
    underspends: int
    overspend: int
    covers: tuple[Cover, ...]
    returned: Mapping[str, int]
    carried_forward: int
    unfunded: int
    entries: tuple[Entry, ...]

    def summary(self) -> dict:
        return {
            "year": self.year, "contributions_pence": self.contributions,
            "brought_forward_pence": self.brought_forward, "spend_pence": self.spend,
            "set_aside_to_risk_reserve_pence": self.set_aside, "result_pence": self.result,
            "gross_overspend_pence": self.gross_overspend, "line_underspends_pence": self.underspends,
            "overspend_pence": self.overspend,
            "covers": [{"source": c.source, "partner": c.partner, "pence": c.pence} for c in self.covers],
            "returned_pence": dict(self.returned), "carried_forward_pence": self.carried_forward,
            "unfunded_pence": self.unfunded,
        }


def year_balances(balances: Mapping[tuple[str, str], int], year: str) -> dict[str, int]:
    return {a: v for (a, y), v in balances.items() if y == year}


def to_date(balances: Mapping[tuple[str, str], int], year: str) -> dict[str, int]:
    """Cumulative balances over every year up to and including ``year``."""
    out: dict[str, int] = {}
    for (a, y), v in balances.items():
        if y <= year:
            out[a] = out.get(a, 0) + v
    return out


def pool_lines(accounts: Mapping[str, Account], moves: Mapping[str, int]) -> dict[str, tuple[int, int, int]]:
    """Budget line → (budget, commitments, actuals) for the pool's lines (not schemes)."""
    lines: dict[str, list[int]] = {}
    index = {"budget": 0, "commitment": 1, "actual": 2}
    for name, account in accounts.items():
        if account.line is not None and account.line.startswith("Pool:"):
            lines.setdefault(account.line, [0, 0, 0])[index[account.role]] += moves.get(name, 0)
    return {line: (b, c, a) for line, (b, c, a) in lines.items()}


def contribution_weights(rules: BookRules, moves: Mapping[str, int], year: str) -> dict[str, int]:
    """Each partner's contribution to the pool in the year (what was booked; else what the deal plans)."""
    prefix = "Income:Pool:Contributions:"
    booked = {a[len(prefix):]: -v for a, v in moves.items() if a.startswith(prefix) and v < 0}
    if booked:
        return booked
    planned = {p: v for p, v in rules.contributions.get(year, {}).items() if v > 0}
    return planned or {rules.host_partner: 1}


def scheme_money(accounts: Mapping[str, Account], cumulative: Mapping[str, int], moves: Mapping[str, int]) -> int:
    """Transformation fund received less spent (to date) less still committed (this year), at least 0."""
    held = -sum(v for a, v in cumulative.items() if a.startswith(("Income:Schemes:", "Expenses:Schemes:")))
    committed = sum(v for a, v in moves.items() if a.startswith("Commitments:Schemes:"))
    return max(0, held - committed)


def plan_year_end(rules: BookRules, year: str, balances: Mapping[tuple[str, str], int],
                  accounts: Mapping[str, Account]) -> YearEnd:
    moves = year_balances(balances, year)
    cumulative = to_date(balances, year)
    result = -sum(v for a, v in moves.items() if a.startswith(acc.POOL_PREFIXES))
    contributions = -sum(v for a, v in moves.items() if a.startswith("Income:Pool:Contributions:"))
    brought = -moves.get(acc.CARRIED_IN, 0)
    set_aside = moves.get(acc.actual(acc.RESERVE_LINE), 0)
    lines = pool_lines(accounts, moves)
    spend = sum(a for line, (_, _, a) in lines.items() if line != acc.RESERVE_LINE)
    gross = sum(max(0, a - b) for _, (b, _, a) in lines.items())
    under = sum(max(0, b - a) for _, (b, _, a) in lines.items())
    weights = contribution_weights(rules, moves, year)
    agreement = rules.risk_share
    following = rules.next_year(year)
    overspend = max(0, -result)
    position = Position(overspend=overspend, gross_overspend=gross, weights=weights,
                        risk_reserve=-cumulative.get(acc.RISK_RESERVE, 0),
                        scheme_money=scheme_money(accounts, cumulative, moves))
    covers = share_overspend(agreement, position)
    returned: dict[str, int] = {}
    unfunded = sum(c.pence for c in covers if c.source == UNFUNDED)
    if result >= 0:
        limit = math.floor(rules.carry_forward_limit * rules.pooled_budget.get(year, 0))
        carried = min(result, limit) if following else 0
        returned = {p: v for p, v in share_underspend(agreement, result - carried, weights).items() if v}
        left_unfunded = 0
    else:
        carried = -unfunded if following else 0
        left_unfunded = 0 if following else unfunded
    entries = _entries(rules, year, following, covers, returned, carried)
    return YearEnd(year=year, contributions=contributions, brought_forward=brought, spend=spend,
                   set_aside=set_aside, result=result, gross_overspend=gross, underspends=under,
                   overspend=overspend, covers=covers, returned=returned, carried_forward=carried,
                   unfunded=left_unfunded, entries=entries)


def _entries(rules: BookRules, year: str, following: str | None, covers: tuple[Cover, ...],
             returned: Mapping[str, int], carried: int) -> tuple[Entry, ...]:
    method = rules.risk_share.get("method")
    postings: list[Posting] = []
    for cover in covers:
        if cover.source == RESERVE:
            postings += [Posting(acc.RISK_RESERVE, cover.pence), Posting(acc.COVERED_BY_RESERVE, -cover.pence)]
        elif cover.source == SCHEME_MONEY:
            postings += [Posting(acc.SCHEME_MONEY_RELEASED, cover.pence),
                         Posting(acc.COVERED_BY_SCHEME_MONEY, -cover.pence)]
        elif cover.source == PARTNERS:
            postings += [Posting(acc.receivable(cover.partner), cover.pence),
                         Posting(acc.covered_by_partner(cover.partner), -cover.pence)]
    for partner, pence in returned.items():
        postings += [Posting(acc.returned(partner), pence), Posting(acc.refund(partner), -pence)]
    end = year_end(year)
    entries: list[Entry] = []
    if postings:
        entries.append(Transaction(
            key=f"year-end:{year}:risk-share", kind=Kind.RISK_SHARE.value, date=end, year=year, period=12,
            postings=tuple(postings), reference=f"{rules.deal_id} risk-share agreement",
            description=f"Year-end settlement of {year} under the pooled fund's risk-share agreement ({method})"))
    if carried and following:
        what = "underspend" if carried > 0 else "deficit"
        entries.append(Transaction(
            key=f"year-end:{year}:carry-out", kind=Kind.CARRY_FORWARD.value, date=end, year=year, period=12,
            postings=(Posting(acc.CARRIED_OUT, carried), Posting(acc.CARRIED_FORWARD, -carried)),
            reference=f"{rules.deal_id} carry-forward",
            description=f"{what.capitalize()} of {year} carried into {following} (five-year fixed budget)"))
        entries.append(Transaction(
            key=f"year-end:{year}:carry-in", kind=Kind.CARRY_FORWARD.value, date=year_start(following),
            year=following, period=1,
            postings=(Posting(acc.CARRIED_FORWARD, carried), Posting(acc.CARRIED_IN, -carried)),
            reference=f"{rules.deal_id} carry-forward",
            description=f"{what.capitalize()} brought forward from {year}"))
    entries.append(YearClose(key=f"year-end:{year}:close", year=year))
    return tuple(entries)
