"""The chart of accounts: what each account name means, and the chart a deal's books open with.

Names are colon-separated paths (as in Beancount). The first segment is the account's root:

=================================================  ==================================================
account                                            holds
=================================================  ==================================================
``Assets:Pool:Bank``                               the pooled fund's cash, kept by the host partner
``Assets:Receivable:<partner>``                    sums a partner owes the pool (risk-share top-ups)
``Liabilities:Payable:<provider>``                 what the pool owes a provider (accruals)
``Liabilities:Refunds:<partner>``                  underspend the pool returns to a partner
``Equity:Reserves:Risk``                           the risk reserve
``Equity:CarriedForward``                          a balance on its way from one year to the next
``Income:Pool:Contributions:<partner>``            a partner's contribution to the pooled budget
``Income:Pool:CarriedForward``                     last year's balance brought into this year
``Income:Pool:RiskShare:Reserve``                  overspend covered from the risk reserve
``Income:Pool:RiskShare:SchemeMoney``              overspend covered by uncommitted scheme money
``Income:Pool:RiskShare:Partners:<partner>``       overspend covered by a partner (outside the pool)
``Income:Schemes:Fund:<partner>``                  transformation fund received
``Expenses:Pool:<service>:<district>[:<nbhd>]``    actual spend on a budget line
``Expenses:Pool:Transfers:RiskReserve``            money set aside into the risk reserve
``Expenses:Pool:Transfers:CarryForward``           balance carried out of the year
``Expenses:Pool:Returns:<partner>``                underspend returned to a partner
``Expenses:Schemes:<scheme>``                      actual spend on a transformation scheme
``Expenses:Schemes:Transfers:RiskShare``           scheme money released to cover an overspend
``Budget:Funding``                                 budget authority (credit; the year's fixed budget)
``Budget:<line>``                                  a budget line's budget (debit)
``Commitments:<line>``                             open commitments on a budget line (debit)
``Commitments:Contracts:<provider>``               contracts let to a provider (credit)
=================================================  ==================================================

A budget line is ``Pool:<service>:<district>[:<neighbourhood>]``, ``Pool:Transfers:RiskReserve`` or
``Schemes:<scheme>``; it owns three accounts: ``Budget:<line>``, ``Commitments:<line>`` and
``Expenses:<line>``. The budgetary roots (Budget, Commitments) are memorandum accounts: every
transaction balances within them as well as overall.
"""

from __future__ import annotations

import re

from devolve.domain.errors import InputError
from devolve.ledger.records import Account, BookRules

ROOTS = ("Assets", "Liabilities", "Equity", "Income", "Expenses", "Budget", "Commitments")
LINE_ROOTS = {"Budget": "budget", "Commitments": "commitment", "Expenses": "actual"}

BANK = "Assets:Pool:Bank"
RISK_RESERVE = "Equity:Reserves:Risk"
CARRIED_FORWARD = "Equity:CarriedForward"
CARRIED_IN = "Income:Pool:CarriedForward"
COVERED_BY_RESERVE = "Income:Pool:RiskShare:Reserve"
COVERED_BY_SCHEME_MONEY = "Income:Pool:RiskShare:SchemeMoney"
CARRIED_OUT = "Expenses:Pool:Transfers:CarryForward"
SCHEME_MONEY_RELEASED = "Expenses:Schemes:Transfers:RiskShare"
BUDGET_FUNDING = "Budget:Funding"
RESERVE_LINE = "Pool:Transfers:RiskReserve"

#: Accounts whose movements in a year make up the pool's result (income less spending).
POOL_PREFIXES = ("Income:Pool:", "Expenses:Pool:")
#: Of those, the ones the year-end settlement posts to (not part of the year's underlying result).
SETTLEMENT_PREFIXES = ("Income:Pool:RiskShare:", "Expenses:Pool:Returns:", CARRIED_OUT)

#: Accounts only the year-end close posts to.
CLOSE_ACCOUNT_PREFIXES = (*SETTLEMENT_PREFIXES, CARRIED_IN, CARRIED_FORWARD, SCHEME_MONEY_RELEASED)

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_RESERVED = {"Transfers", "Returns", "Contracts", "Funding"}

# (segments after the root, role-bearing line?) — "{x}" stands for an id of kind x.
_PATTERNS: tuple[tuple[str, ...], ...] = (
    ("Assets", "Pool", "Bank"),
    ("Assets", "Receivable", "{partner}"),
    ("Liabilities", "Payable", "{partner}"),
    ("Liabilities", "Refunds", "{partner}"),
    ("Equity", "Reserves", "Risk"),
    ("Equity", "CarriedForward"),
    ("Income", "Pool", "Contributions", "{partner}"),
    ("Income", "Pool", "CarriedForward"),
    ("Income", "Pool", "RiskShare", "Reserve"),
    ("Income", "Pool", "RiskShare", "SchemeMoney"),
    ("Income", "Pool", "RiskShare", "Partners", "{partner}"),
    ("Income", "Schemes", "Fund", "{partner}"),
    ("Expenses", "Pool", "Transfers", "CarryForward"),
    ("Expenses", "Pool", "Returns", "{partner}"),
    ("Expenses", "Schemes", "Transfers", "RiskShare"),
    ("Budget", "Funding"),
    ("Commitments", "Contracts", "{partner}"),
)


def pool_line(service: str, district: str, neighbourhood: str | None = None) -> str:
    return f"Pool:{service}:{district}" + (f":{neighbourhood}" if neighbourhood else "")


def scheme_line(scheme: str) -> str:
    return f"Schemes:{scheme}"


def budget(line: str) -> str:
    return f"Budget:{line}"


def commitment(line: str) -> str:
    return f"Commitments:{line}"


def actual(line: str) -> str:
    return f"Expenses:{line}"


def contribution(partner: str) -> str:
    return f"Income:Pool:Contributions:{partner}"


def scheme_fund(partner: str) -> str:
    return f"Income:Schemes:Fund:{partner}"


def covered_by_partner(partner: str) -> str:
    return f"Income:Pool:RiskShare:Partners:{partner}"


def receivable(partner: str) -> str:
    return f"Assets:Receivable:{partner}"


def payable(provider: str) -> str:
    return f"Liabilities:Payable:{provider}"


def refund(partner: str) -> str:
    return f"Liabilities:Refunds:{partner}"


def returned(partner: str) -> str:
    return f"Expenses:Pool:Returns:{partner}"


def contract(provider: str) -> str:
    return f"Commitments:Contracts:{provider}"


def parse_account(name: str, rules: BookRules) -> tuple[Account | None, str]:
    """What an account name means under the deal's rules: (account, "") or (None, why not)."""
    segments = name.split(":") if isinstance(name, str) else []
    if len(segments) < 2 or not all(_SEGMENT.match(s) for s in segments):
        return None, (f"'{name}' is not an account name: expected segments of letters, digits, '_', '-' or '.' "
                      "joined by ':' (e.g. Assets:Pool:Bank)")
    root = segments[0]
    if root not in ROOTS:
        return None, f"'{name}' starts with '{root}'; accounts start with one of {', '.join(ROOTS)}"
    for pattern in _PATTERNS:
        if len(pattern) == len(segments) and all(p == s or p == "{partner}" for p, s in zip(pattern, segments)):
            if "{partner}" in pattern:
                partner = segments[pattern.index("{partner}")]
                if partner not in rules.partners:
                    return None, f"'{name}' names '{partner}', who is not a partner of {rules.deal_id}"
                return Account(name, root, partner=partner), ""
            return Account(name, root), ""
    if root in LINE_ROOTS:
        return _line_account(name, root, segments[1:], rules)
    return None, f"'{name}' is not an account of the pooled fund's chart (see docs/method/ledger.md)"


def _line_account(name: str, root: str, rest: list[str], rules: BookRules) -> tuple[Account | None, str]:
    role = LINE_ROOTS[root]
    line = ":".join(rest)
    if line == RESERVE_LINE:
        return Account(name, root, role=role, line=line), ""
    if rest[0] == "Schemes" and len(rest) == 2:
        if rest[1] not in rules.schemes:
            return None, f"'{name}' names scheme '{rest[1]}', which is not a scheme of {rules.deal_id}"
        return Account(name, root, role=role, line=line, scheme=rest[1]), ""
    if rest[0] == "Pool" and len(rest) in (3, 4) and rest[1] not in _RESERVED:
        service, district = rest[1], rest[2]
        if service not in rules.service_lines:
            return None, f"'{name}' names service line '{service}', which is not one of {rules.deal_id}'s"
        if district not in rules.districts:
            return None, f"'{name}' names district '{district}', which is not one of {rules.deal_id}'s"
        neighbourhood = rest[3] if len(rest) == 4 else None
        return Account(name, root, role=role, line=line, service=service, district=district,
                       neighbourhood=neighbourhood), ""
    return None, (f"'{name}' is not a budget line account: expected {root}:Pool:<service>:<district>"
                  f"[:<neighbourhood>] or {root}:Schemes:<scheme>")


def chart(rules: BookRules) -> tuple[Account, ...]:
    """The accounts the books open with: fixed accounts, every partner's, every service × district line
    and every scheme line (neighbourhood lines are opened when neighbourhoods are set)."""
    names: list[str] = []
    for pattern in _PATTERNS:
        if "{partner}" in pattern:
            i = pattern.index("{partner}")
            names.extend(":".join(pattern[:i] + (p,) + pattern[i + 1:]) for p in rules.partners)
        else:
            names.append(":".join(pattern))
    lines = [RESERVE_LINE]
    lines += [pool_line(s, d) for s in rules.service_lines for d in rules.districts]
    lines += [scheme_line(s) for s in rules.schemes]
    for line in lines:
        names += [budget(line), commitment(line), actual(line)]
    accounts = []
    for name in names:
        account, problem = parse_account(name, rules)
        if account is None:  # a deal whose ids cannot make account names (checked by the loader's id rules)
            raise InputError(problem)
        accounts.append(account)
    return tuple(accounts)
