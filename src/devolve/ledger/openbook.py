"""Open-book accounting: the price the pool paid each provider for a service against what the
provider says the service cost it (its cost returns: staff, non-pay, overheads) — pure.

For provider *p*, service *s* and year *y*::

    price  = Σ amounts posted to the actual-spend accounts of *s*'s budget lines by *p*'s payments and accruals
    cost   = Σ (staff + non-pay + overheads) over *p*'s cost returns for *s* in *y*
    margin = price − cost,   margin share = margin / price

Every partner sees the same report (that is what open book means); a provider paid without a cost
return, or whose cost exceeds the price, is flagged.
"""

from __future__ import annotations

from collections.abc import Iterable

from devolve.ledger.records import BookRules


def open_book(rules: BookRules, prices: Iterable[tuple[str, str, str, int]], costs: Iterable[tuple],
              year: str | None = None) -> dict:
    """Rows by provider × service (× year) and totals by provider; see the module docstring."""
    table: dict[tuple[str, str, str], dict] = {}

    def row(provider: str, service: str, y: str) -> dict:
        return table.setdefault((provider, service, y), {
            "provider": provider, "provider_name": rules.partners.get(provider, {}).get("name", provider),
            "service_line": service, "year": y, "price_paid_pence": 0, "cost_pence": 0, "staff_pence": 0,
            "non_pay_pence": 0, "overheads_pence": 0, "activity": None, "cost_returns": 0})

    for provider, service, y, pence in prices:
        if year is None or y == year:
            row(provider, service, y)["price_paid_pence"] += pence
    for provider, service, y, staff, non_pay, overheads, activity, returns in costs:
        if year is None or y == year:
            r = row(provider, service, y)
            r["staff_pence"] += staff
            r["non_pay_pence"] += non_pay
            r["overheads_pence"] += overheads
            r["cost_pence"] += staff + non_pay + overheads
            r["cost_returns"] += returns
            if activity is not None:
                r["activity"] = (r["activity"] or 0) + activity
    rows = []
    for key in sorted(table):
        r = table[key]
        r["margin_pence"] = r["price_paid_pence"] - r["cost_pence"]
        r["margin_share"] = round(r["margin_pence"] / r["price_paid_pence"], 4) if r["price_paid_pence"] else None
        r["flag"] = _flag(r)
        rows.append(r)
    providers = _providers(rules, rows)
    return {"year": year, "rows": rows, "providers": providers,
            "flags": {f: sum(1 for r in rows if r["flag"] == f) for f in ("no cost return", "cost above price",
                                                                          "cost without payment")}}


def _flag(r: dict) -> str | None:
    if r["price_paid_pence"] and not r["cost_returns"]:
        return "no cost return"
    if r["cost_returns"] and not r["price_paid_pence"]:
        return "cost without payment"
    if r["cost_pence"] > r["price_paid_pence"]:
        return "cost above price"
    return None


def _providers(rules: BookRules, rows: list[dict]) -> list[dict]:
    """Totals for every NHS provider of the deal (even one with nothing booked) and anyone else paid."""
    names = list(rules.partners_of_type("nhs_provider"))
    names += sorted({r["provider"] for r in rows} - set(names))
    out = []
    for provider in names:
        mine = [r for r in rows if r["provider"] == provider]
        price = sum(r["price_paid_pence"] for r in mine)
        cost = sum(r["cost_pence"] for r in mine)
        out.append({"provider": provider, "provider_name": rules.partners.get(provider, {}).get("name", provider),
                    "type": rules.partners.get(provider, {}).get("type", ""), "services": len(mine),
                    "price_paid_pence": price, "cost_pence": cost, "margin_pence": price - cost,
                    "margin_share": round((price - cost) / price, 4) if price else None,
                    "cost_returns": sum(r["cost_returns"] for r in mine)})
    return out
