"""Reports over the books' balances — pure: trial balance, budget against actual, partners, five years.

Inputs are balance rows ``(account, year, pence)`` (debit positive) and the chart; outputs are
plain, JSON-ready dicts in pence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from devolve.ledger import accounts as acc
from devolve.ledger.records import Account, BookRules

BY = ("account", "line", "service", "district", "neighbourhood", "partner")
POOL_WIDE = "(pool-wide)"
DISTRICT_LEVEL = "(district level)"

Rows = Iterable[tuple[str, str, int]]


def movements(rows: Rows, year: str | None = None) -> dict[str, int]:
    """Each account's balance: over one year's movements, or over all years when ``year`` is None."""
    out: dict[str, int] = {}
    for account, y, pence in rows:
        if year is None or y == year:
            out[account] = out.get(account, 0) + int(pence)
    return out


def trial_balance(balances: Mapping[str, int]) -> dict:
    """Accounts with their balances; total debit balances equal total credit balances."""
    listed = [{"account": a, "balance_pence": v} for a, v in sorted(balances.items()) if v]
    debits = sum(v for v in balances.values() if v > 0)
    credits = -sum(v for v in balances.values() if v < 0)
    return {"debits_pence": debits, "credits_pence": credits, "accounts": listed}


def _group_key(account: Account, by: str) -> str:
    if by == "line":
        return account.line
    if by == "service":
        return account.service or account.scheme and f"scheme:{account.scheme}" or POOL_WIDE
    if by == "district":
        return account.district or POOL_WIDE
    if by == "neighbourhood":
        if account.district is None:
            return POOL_WIDE
        return f"{account.district}:{account.neighbourhood or DISTRICT_LEVEL}"
    raise ValueError(by)


def budget_against_actual(balances: Mapping[str, int], chart: Mapping[str, Account], by: str = "line") -> list[dict]:
    """Budget, open commitments, actuals and available funds (budget − commitments − actuals) by
    budget line, service, district or neighbourhood."""
    groups: dict[str, dict[str, int]] = {}
    for name, account in chart.items():
        if account.line is None:
            continue
        key = _group_key(account, by)
        g = groups.setdefault(key, {"budget_pence": 0, "committed_pence": 0, "actual_pence": 0})
        field = {"budget": "budget_pence", "commitment": "committed_pence", "actual": "actual_pence"}[account.role]
        g[field] += balances.get(name, 0)
    out = []
    for key in sorted(groups):
        g = groups[key]
        if not any(g.values()):
            continue
        out.append({by: key, **g, "available_pence": g["budget_pence"] - g["committed_pence"] - g["actual_pence"],
                    "variance_pence": g["budget_pence"] - g["actual_pence"]})
    return out


def by_partner(balances: Mapping[str, int], rules: BookRules, paid: Mapping[str, int] | None = None) -> list[dict]:
    """What each partner put in, covered, got back, is owed and was contracted and paid (as a provider)."""
    paid = paid or {}
    out = []
    for partner, info in rules.partners.items():
        row = {
            "partner": partner, "name": info["name"], "type": info["type"],
            "contributed_pence": -balances.get(acc.contribution(partner), 0),
            "transformation_fund_pence": -balances.get(acc.scheme_fund(partner), 0),
            "risk_share_pence": -balances.get(acc.covered_by_partner(partner), 0),
            "returned_pence": balances.get(acc.returned(partner), 0),
            "receivable_pence": balances.get(acc.receivable(partner), 0),
            "refund_due_pence": -balances.get(acc.refund(partner), 0),
            "contracted_pence": -balances.get(acc.contract(partner), 0),
            "payable_pence": -balances.get(acc.payable(partner), 0),
            "paid_as_provider_pence": int(paid.get(partner, 0)),
        }
        if any(v for k, v in row.items() if k.endswith("_pence")):
            out.append(row)
    return out


def _sum(balances: Mapping[str, int], prefix: str) -> int:
    return sum(v for a, v in balances.items() if a.startswith(prefix))


def _spend(balances: Mapping[str, int], chart: Mapping[str, Account], pool: bool) -> int:
    start = "Pool:" if pool else "Schemes:"
    return sum(balances.get(n, 0) for n, a in chart.items()
               if a.role == "actual" and a.line.startswith(start) and a.line != acc.RESERVE_LINE)


def year_position(balances: Mapping[str, int], chart: Mapping[str, Account], rules: BookRules, year: str,
                  closed: bool) -> dict:
    contributions = -_sum(balances, "Income:Pool:Contributions:")
    brought = -balances.get(acc.CARRIED_IN, 0)
    spend = _spend(balances, chart, pool=True)
    set_aside = balances.get(acc.actual(acc.RESERVE_LINE), 0)
    return {
        "year": year, "status": "closed" if closed else "open",
        "fixed_budget_pence": rules.pooled_budget.get(year, 0) + rules.transformation_fund.get(year, 0),
        "budget_set_pence": -balances.get(acc.BUDGET_FUNDING, 0),
        "contributions_pence": contributions,
        "transformation_fund_pence": -_sum(balances, "Income:Schemes:Fund:"),
        "brought_forward_pence": brought,
        "pool_spend_pence": spend,
        "scheme_spend_pence": _spend(balances, chart, pool=False),
        "set_aside_to_risk_reserve_pence": set_aside,
        "result_before_settlement_pence": contributions + brought - spend - set_aside,
        "covered_by_reserve_pence": -balances.get(acc.COVERED_BY_RESERVE, 0),
        "covered_by_scheme_money_pence": -balances.get(acc.COVERED_BY_SCHEME_MONEY, 0),
        "covered_by_partners_pence": -_sum(balances, "Income:Pool:RiskShare:Partners:"),
        "returned_to_partners_pence": _sum(balances, "Expenses:Pool:Returns:"),
        "carried_forward_pence": balances.get(acc.CARRIED_OUT, 0),
        "result_after_settlement_pence": -_sum(balances, "Income:Pool:") - _sum(balances, "Expenses:Pool:"),
    }


def five_year(rows: Rows, chart: Mapping[str, Account], rules: BookRules, closed: Iterable[str]) -> dict:
    """Each year of the deal and the whole term: is the pool spending no more than it has?

    ``balance_pence`` = contributions + transformation fund − pool spend − scheme spend over the
    term (money set aside into the risk reserve or returned to partners is not spent); the plan is
    in balance over the five years when it is not negative and no deficit is left unfunded.
    """
    rows = list(rows)
    closed = set(closed)
    years = [year_position(movements(rows, y), chart, rules, y, y in closed) for y in rules.years]
    total = {k: sum(y[k] for y in years) for k in years[0] if k.endswith("_pence") and k != "brought_forward_pence"}
    last = years[-1]
    unfunded = -last["result_after_settlement_pence"] if last["status"] == "closed" else 0
    balance = (total["contributions_pence"] + total["transformation_fund_pence"] - total["pool_spend_pence"]
               - total["scheme_spend_pence"])
    return {"years": years, "totals": total, "balance_pence": balance, "unfunded_pence": max(0, unfunded),
            "in_balance": balance >= 0 and unfunded <= 0}
