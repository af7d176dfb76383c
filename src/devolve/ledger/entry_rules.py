"""The rules for entries other than transactions: account openings, cost returns and year closes.

Pure functions of the books as the rules see them (``books``: the working view of
:func:`devolve.ledger.rules.check_batch`, with ``accounts``, ``closed`` years and the deal's ``rules``)
and one entry; they return errors as data, like :mod:`.rules`.
"""

from __future__ import annotations

from devolve.ledger import accounts as acc
from devolve.ledger.records import AccountOpening, CostReturn, LedgerError, YearClose, is_text

MAX_KEY = 200


def _error(rule: str, entry, message: str) -> list[LedgerError]:
    return [LedgerError(rule, str(entry.key), message)]


def check_opening(books, o: AccountOpening) -> list[LedgerError]:
    if not isinstance(o.key, str) or not o.key.strip() or len(o.key) > MAX_KEY:
        return _error("well_formed", o, f"the idempotency key must be 1 to {MAX_KEY} characters")
    if (o.rules is not None) != (not books.accounts):
        return _error("well_formed", o, "the first entry of the books, and only it, carries the deal's rules")
    if not o.accounts:
        return _error("well_formed", o, "an account opening needs at least one account")
    errors: list[LedgerError] = []
    seen: set[str] = set()
    for account in o.accounts:
        parsed, problem = acc.parse_account(account.name, books.rules)
        if parsed is None:
            errors += _error("known_accounts", o, problem)
        elif parsed != account:
            errors += _error("known_accounts", o, f"account {account.name} does not match what its name means")
        elif account.name in books.accounts or account.name in seen:
            errors += _error("known_accounts", o, f"account {account.name} is already open")
        seen.add(account.name)
    return errors


def check_cost_return(books, c: CostReturn) -> list[LedgerError]:
    rules = books.rules
    if not isinstance(c.key, str) or not c.key.strip() or len(c.key) > MAX_KEY:
        return _error("well_formed", c, f"the idempotency key must be 1 to {MAX_KEY} characters")
    if not (is_text(c.key) and isinstance(c.reference, str) and is_text(c.reference)):
        return _error("well_formed", c, "the key and reference must be valid Unicode text")
    if c.provider not in rules.partners:
        return _error("known_partner", c, f"'{c.provider}' is not a partner of {rules.deal_id}")
    if c.service_line not in rules.service_lines and c.service_line not in rules.schemes:
        return _error("well_formed", c, f"'{c.service_line}' is neither a service line nor a scheme of the deal")
    if c.district is not None and c.district not in rules.districts:
        return _error("well_formed", c, f"'{c.district}' is not a district of {rules.deal_id}")
    if c.year not in rules.years:
        return _error("year_of_deal", c, f"year {c.year} is outside the deal")
    if isinstance(c.period, bool) or not isinstance(c.period, int) or not 1 <= c.period <= 12:
        return _error("well_formed", c, f"period {c.period!r} is not between 1 (April) and 12 (March)")
    amounts = (c.staff, c.non_pay, c.overheads)
    if any(isinstance(a, bool) or not isinstance(a, int) or a < 0 for a in amounts):
        return _error("well_formed", c, "staff, non-pay and overhead costs must be whole pence, not negative")
    if sum(amounts) == 0:
        return _error("well_formed", c, "a cost return of nothing")
    if c.activity is not None and (isinstance(c.activity, bool) or not isinstance(c.activity, int)
                                   or c.activity < 0):
        return _error("well_formed", c, "activity must be a whole number of units, not negative")
    return []


def check_close(books, c: YearClose) -> list[LedgerError]:
    rules = books.rules
    if c.year not in rules.years:
        return _error("year_of_deal", c, f"year {c.year} is outside the deal")
    if c.year in books.closed:
        return _error("open_year", c, f"year {c.year} is already closed")
    earlier = [y for y in rules.years if y < c.year and y not in books.closed]
    if earlier:
        return _error("open_year", c, f"close {', '.join(earlier)} first: years close in order")
    return []
