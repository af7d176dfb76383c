"""The rules every entry must pass, as pure functions that return errors as data.

:func:`check_batch` runs the rules over a batch of entries in order, each against the books as the
entries before it left them, and returns every error found (an empty list means the batch may be
appended). Nothing here reads a database or a file; the store hands in a :class:`LedgerState`.

Rules on a transaction (each a named function below):

* ``well_formed`` — a key, a known kind, a date inside its financial year and period, two postings or
  more, whole non-zero pence;
* ``balanced`` — postings add up to zero, and the budgetary accounts (Budget, Commitments) balance on
  their own, so the money accounts do too;
* ``known_accounts``, ``known_partner``;
* ``year_of_deal``, ``open_year`` — no posting outside the deal's years or to a closed year;
* ``close_only`` — risk-share settlements and carry-forwards are posted by the year-end close only;
* ``reversal`` — a reversal is the exact negation of an earlier transaction, reversed once;
* ``virement`` — a virement moves budget between budget lines and nothing else;
* ``available_funds`` — on every budget line it draws on, budget − commitments − actuals must stay
  at or above zero, unless a governance decision authorises the overspend;
* ``fixed_budget`` — the budget set for a year stays within the five-year fixed budget for that
  year (pooled budget + transformation fund + any balance brought forward), unless a decision says so;
* ``delegation`` — virements, drawdowns from the risk reserve, and drawdowns from the transformation
  fund to schemes' budget lines above the deal's delegation limit need a governance decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from devolve.ledger import accounts as acc
from devolve.ledger.entry_rules import check_close, check_cost_return, check_opening
from devolve.ledger.records import (
    CLOSE_KINDS,
    TRANSACTION_KINDS,
    Account,
    AccountOpening,
    BookRules,
    CostReturn,
    Entry,
    Kind,
    LedgerError,
    Transaction,
    YearClose,
    is_text,
    period_of,
    year_of,
)

MAX_KEY = 200
MAX_TEXT = 2_000
REVERSAL, VIREMENT = Kind.REVERSAL.value, Kind.VIREMENT.value


@dataclass(frozen=True)
class LedgerState:
    """What the rules need to know of the books before a batch."""

    rules: BookRules
    accounts: Mapping[str, Account]
    closed_years: frozenset[str] = frozenset()
    balances: Mapping[tuple[str, str], int] = field(default_factory=dict)   # (account, year) → pence
    originals: Mapping[int, Transaction] = field(default_factory=dict)      # entries reversals name
    reversed: frozenset[int] = frozenset()


class _Working:
    """A private, mutable copy of the state as the batch proceeds (never visible outside)."""

    def __init__(self, state: LedgerState):
        self.rules = state.rules
        self.accounts = dict(state.accounts)
        self.closed = set(state.closed_years)
        self.balances = dict(state.balances)
        self.originals = state.originals
        self.reversed = set(state.reversed)
        self.kinds = {}                     # account → what the rules need to know of it (cached)
        self.available_funds = {}           # (line, year) → budget − commitments − actuals (cached)
        self.years = frozenset(state.rules.years)

    def balance(self, account: str, year: str) -> int:
        return self.balances.get((account, year), 0)

    def available(self, line: str, year: str) -> int:
        value = self.available_funds.get((line, year))
        if value is None:
            value = (self.balance(acc.budget(line), year) - self.balance(acc.commitment(line), year)
                     - self.balance(acc.actual(line), year))
            self.available_funds[(line, year)] = value
        return value

    def kind_of(self, name: str) -> tuple | None:
        """(budgetary?, line, sign of its effect on available funds, budget role?, close-only?), or None if unknown."""
        known = self.kinds.get(name)
        if known is None:
            account = self.accounts.get(name)
            if account is None:
                return None
            known = (account.root in ("Budget", "Commitments"), account.line,
                     1 if account.role == "budget" else -1, account.role == "budget",
                     name.startswith(acc.CLOSE_ACCOUNT_PREFIXES))
            self.kinds[name] = known
        return known


class Effects(NamedTuple):
    """What a transaction does, worked out in one pass over its postings (the rules read this)."""

    total: int
    budgetary: int
    unknown: tuple[str, ...]
    lines: dict[str, int]          # budget line → change in its available funds
    funding: int                   # change in Budget:Funding
    drawn: int                     # debits to the risk reserve
    moved: int                     # debits to budget lines (what a virement moves)
    funded: int                    # debits to schemes' budget lines (drawn from the transformation fund)
    outside_budget: str | None     # first posting that is not to a budget line's budget
    close_account: str | None      # first posting to an account only the close posts to


def effects(books: _Working, t: Transaction) -> Effects:
    total = budgetary = funding = drawn = moved = funded = 0
    unknown: list[str] = []
    lines: dict[str, int] = {}
    outside = closing = None
    kind_of = books.kind_of
    for account, amount in t.postings:
        total += amount
        info = kind_of(account)
        if info is None:
            unknown.append(account)
            continue
        is_budgetary, line, sign, is_budget, is_close = info
        if is_budgetary:
            budgetary += amount
        if line is not None:
            lines[line] = lines.get(line, 0) + sign * amount
        if is_budget:
            if amount > 0:
                moved += amount
                if line.startswith("Schemes:"):
                    funded += amount
        elif outside is None:
            outside = account
        if is_close and closing is None:
            closing = account
        if account == acc.BUDGET_FUNDING:
            funding += amount
        elif account == acc.RISK_RESERVE and amount > 0:
            drawn += amount
    return Effects(total, budgetary, tuple(sorted(set(unknown))), lines, funding, drawn, moved, funded, outside,
                   closing)


def check_batch(state: LedgerState, entries: Iterable[Entry], *,
                allow_close_kinds: bool = False) -> list[LedgerError]:
    """Every error in ``entries``, each checked against the books as the entries before it left them."""
    books = _Working(state)
    errors: list[LedgerError] = []
    for entry in entries:
        if type(entry) is Transaction:
            found, e = _check(books, entry, allow_close_kinds)
            if not found:
                _apply(books, entry, e)
        elif isinstance(entry, AccountOpening):
            found = check_opening(books, entry)
            if not found:
                books.accounts.update((a.name, a) for a in entry.accounts)
        elif isinstance(entry, CostReturn):
            found = check_cost_return(books, entry)
        elif isinstance(entry, YearClose):
            found = check_close(books, entry)
            if not found:
                books.closed.add(entry.year)
        else:
            found = [LedgerError("well_formed", str(getattr(entry, "key", "?")), "not an entry of the books")]
        if found:
            errors.extend(found)
    return errors


def check_transaction(books: _Working, t: Transaction, allow_close_kinds: bool = False) -> list[LedgerError]:
    """The errors of one transaction against the books as they stand (see the module docstring)."""
    return _check(books, t, allow_close_kinds)[0]


def _check(books: _Working, t: Transaction, allow_close_kinds: bool) -> tuple[list[LedgerError], Effects | None]:
    errors = well_formed(t)
    if errors:
        return errors, None
    e = effects(books, t)
    kind, partner = t.kind, t.partner
    if (e.total or e.budgetary or e.unknown or (partner is not None and partner not in books.rules.partners)
            or t.year not in books.years or t.year in books.closed or kind in CLOSE_KINDS
            or e.close_account is not None or kind == REVERSAL):
        errors = (balanced(t, e) + known_accounts(t, e) + known_partner(books.rules, t)
                  + year_of_deal(books.rules, t) + open_year(books, t) + close_only(t, e, allow_close_kinds)
                  + reversal(books, t))
        if errors:
            return errors, e
    if kind == VIREMENT:
        errors = errors + virement(t, e)
    if not t.decision:
        if e.lines:
            errors = errors + available_funds(books, t, e)
        if e.funding < 0:
            errors = errors + fixed_budget(books, t, e)
        if (e.drawn or e.funded or kind == VIREMENT) and kind not in CLOSE_KINDS:
            errors = errors + delegation(books, t, e)
    return errors, e


_NONE: list[LedgerError] = []


def _error(rule: str, t, message: str) -> list[LedgerError]:
    return [LedgerError(rule, str(t.key), message)]


def well_formed(t: Transaction) -> list[LedgerError]:
    key, day, period, postings = t.key, t.date, t.period, t.postings
    if type(key) is not str or not 0 < len(key) <= MAX_KEY or key.isspace():
        return _error("well_formed", t, f"the idempotency key must be 1 to {MAX_KEY} characters")
    if t.kind not in TRANSACTION_KINDS:
        return _error("well_formed", t, f"kind '{t.kind}' is not one of {', '.join(sorted(TRANSACTION_KINDS))}")
    if type(day) is not date:
        return _error("well_formed", t, "the transaction has no date")
    if t.year != year_of(day):
        return _error("well_formed", t, f"date {day.isoformat()} is not in financial year {t.year}")
    if type(period) is not int or period != (day.month - 4) % 12 + 1:
        return _error("well_formed", t, f"period {period} does not match date {day.isoformat()} "
                                        f"(expected period {period_of(day)}; April is 1)")
    if len(postings) < 2:
        return _error("well_formed", t, "a transaction needs at least two postings")
    for account, amount in postings:
        if type(amount) is not int or not amount:
            return _error("well_formed", t, f"the amount on {account} must be whole pence, not zero; "
                                            f"found {amount!r}")
    decision, partner, reference, description = t.decision, t.partner, t.reference, t.description
    if decision == "" or partner == "" or type(reference) is not str or type(description) is not str:
        return _error("well_formed", t, "decision and partner are absent or not empty; reference and description "
                                        "are text")
    if (len(reference) > MAX_TEXT or len(description) > MAX_TEXT or (decision and len(decision) > MAX_TEXT)
            or (partner and len(partner) > MAX_TEXT)):
        return _error("well_formed", t, f"a text field is longer than {MAX_TEXT} characters")
    if (t.reverses is not None) != (t.kind == REVERSAL):
        return _error("well_formed", t, "a reversal names the entry it reverses, and only a reversal does")
    if not (key + reference + description + (decision or "") + (partner or "")).isascii() and not all(
            is_text(text) for text in (key, reference, description, decision or "", partner or "")):
        return _error("well_formed", t, "a text field holds characters that are not valid Unicode text")
    return _NONE


def balanced(t: Transaction, e: Effects) -> list[LedgerError]:
    if e.total:
        return _error("balanced", t, f"postings add up to {e.total:+d} pence, not zero (debits must equal credits)")
    if e.budgetary:
        return _error("balanced", t, f"the Budget and Commitments postings add up to {e.budgetary:+d} pence; "
                                     "they must balance on their own")
    return _NONE


def known_accounts(t: Transaction, e: Effects) -> list[LedgerError]:
    if e.unknown:
        return _error("known_accounts", t, f"unknown account(s): {', '.join(e.unknown)} (open them first)")
    return _NONE


def known_partner(rules: BookRules, t: Transaction) -> list[LedgerError]:
    if t.partner is not None and t.partner not in rules.partners:
        return _error("known_partner", t, f"'{t.partner}' is not a partner of {rules.deal_id}")
    return _NONE


def year_of_deal(rules: BookRules, t: Transaction) -> list[LedgerError]:
    if t.year not in rules.years:
        return _error("year_of_deal", t, f"year {t.year} is outside the deal ({rules.years[0]} to {rules.years[-1]})")
    return _NONE


def open_year(books: _Working, t: Transaction) -> list[LedgerError]:
    if t.year in books.closed:
        return _error("open_year", t, f"year {t.year} is closed; post a correction to an open year instead")
    return _NONE


def close_only(t: Transaction, e: Effects, allow_close_kinds: bool) -> list[LedgerError]:
    if t.kind in CLOSE_KINDS:
        if not allow_close_kinds:
            return _error("close_only", t, f"'{t.kind}' transactions are posted by the year-end close only")
    elif e.close_account is not None:
        return _error("close_only", t, f"{e.close_account} is posted to by the year-end close only")
    return _NONE


def reversal(books: _Working, t: Transaction) -> list[LedgerError]:
    if t.kind != REVERSAL:
        return _NONE
    original = books.originals.get(t.reverses)
    if original is None:
        return _error("reversal", t, f"entry {t.reverses} is not a transaction in the books")
    if original.kind == REVERSAL:
        return _error("reversal", t, f"entry {t.reverses} is itself a reversal; post the transaction again instead")
    if original.kind in CLOSE_KINDS:
        return _error("reversal", t, f"entry {t.reverses} is part of a year-end close and cannot be reversed")
    if t.reverses in books.reversed:
        return _error("reversal", t, f"entry {t.reverses} has already been reversed")
    if sorted((p.account, -p.amount) for p in original.postings) != sorted(t.postings):
        return _error("reversal", t, f"the postings are not the exact negation of entry {t.reverses}'s")
    return _NONE


def virement(t: Transaction, e: Effects) -> list[LedgerError]:
    if t.kind == VIREMENT and e.outside_budget is not None:
        return _error("virement", t, f"a virement moves budget between budget lines; {e.outside_budget} is not one")
    return _NONE


def available_funds(books: _Working, t: Transaction, e: Effects) -> list[LedgerError]:
    if t.decision or not e.lines:
        return _NONE
    errors = _NONE
    for line, delta in e.lines.items():
        if delta < 0:
            after = books.available(line, t.year) + delta
            if after < 0:
                errors = errors + _error(
                    "available_funds", t, f"budget line {line} would have {after:+d} pence available in {t.year} "
                                          "(budget − commitments − actuals); an overspend needs a governance decision")
    return errors


def fixed_budget(books: _Working, t: Transaction, e: Effects) -> list[LedgerError]:
    if e.funding >= 0 or t.decision:
        return _NONE
    rules = books.rules
    brought = -books.balance(acc.CARRIED_IN, t.year)
    limit = rules.pooled_budget.get(t.year, 0) + rules.transformation_fund.get(t.year, 0) + max(brought, 0)
    authorised = -(books.balance(acc.BUDGET_FUNDING, t.year) + e.funding)
    if authorised > limit:
        return _error("fixed_budget", t, f"budgets set for {t.year} would reach {authorised} pence, above the "
                                         f"five-year fixed budget of {limit} pence for the year; "
                                         "that needs a governance decision")
    return _NONE


def delegation(books: _Working, t: Transaction, e: Effects) -> list[LedgerError]:
    if t.decision:
        return _NONE
    limit = books.rules.delegation_limit
    if t.kind == VIREMENT and e.moved > limit:
        return _error("delegation", t, f"a virement of {e.moved} pence is above the delegation limit of {limit} "
                                       "pence and needs a governance decision")
    if e.drawn > limit:
        return _error("delegation", t, f"drawing {e.drawn} pence from the risk reserve is above the delegation "
                                       f"limit of {limit} pence and needs a governance decision")
    if e.funded > limit:
        return _error("delegation", t, f"drawing {e.funded} pence from the transformation fund for schemes is above "
                                       f"the delegation limit of {limit} pence and needs a governance decision")
    return _NONE


def _apply(books: _Working, t: Transaction, e: Effects) -> None:
    balances = books.balances
    year = t.year
    for account, amount in t.postings:
        k = (account, year)
        balances[k] = balances.get(k, 0) + amount
    cached = books.available_funds
    for line, delta in e.lines.items():
        k = (line, year)
        if k in cached:
            cached[k] += delta
    if t.reverses is not None:
        books.reversed.add(t.reverses)
