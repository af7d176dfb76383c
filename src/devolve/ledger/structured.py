"""Transactions written by hand (JSON or YAML), for ``devolve ledger post FILE``.

One transaction, a list of them, or ``{"transactions": [...], "cost_returns": [...]}``::

    key: vir-2016-10
    kind: virement
    date: 2016-10-03
    decision: SPB-2016-41
    description: Move reablement budget to Bolton
    postings:
      - {account: "Budget:Pool:reablement_episode:E08000001", debit: "250000.00"}
      - {account: "Budget:Pool:residential_care_week:E08000001", credit: "250000.00"}

A reversal may leave out its postings: they are the negation of the entry it ``reverses``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from devolve.domain.errors import InputError, Problem
from devolve.domain.periods import FinancialYear
from devolve.ledger import accounts as acc
from devolve.ledger.parsing import ImportRejected, ParsedFile, Problems, cell, parse_date, parse_pence
from devolve.ledger.records import TRANSACTION_KINDS, BookRules, CostReturn, Posting, Transaction, period_of

Report = Callable[[str, str, Any], None]


def read_structured(path: Path, rules: BookRules):
    problems = Problems()
    where = path.name
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except UnicodeDecodeError:
        raise ImportRejected([_problem(where, None, "(file)", "UTF-8 text", "(bytes that are not UTF-8)")]) from None
    except json.JSONDecodeError as exc:
        raise ImportRejected([_problem(where, exc.lineno, "(file)", "valid JSON", f"({exc.msg})")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ImportRejected([_problem(where, mark.line + 1 if mark else None, "(file)", "valid YAML",
                                       f"({getattr(exc, 'problem', None) or exc})")]) from None
    if isinstance(data, Mapping) and ("transactions" in data or "cost_returns" in data):
        transactions, costs = data.get("transactions") or [], data.get("cost_returns") or []
    else:
        transactions, costs = (data if isinstance(data, list) else [data]), []
    entries, rows = [], {}
    for i, item in enumerate(transactions):
        field = f"transactions[{i}]"

        def report(column: str, expected: str, found: Any, _f=field) -> None:
            problems.add(where, None, f"{_f}.{column}" if column else _f, expected, found)

        t = transaction_from(item, rules, report)
        if t is not None:
            entries.append(t)
            rows[t.key] = (f"{where} {field}", [None])
    for i, item in enumerate(costs):
        field = f"cost_returns[{i}]"
        if not isinstance(item, Mapping):
            problems.add(where, None, field, "a mapping of the cost return's fields", type(item).__name__)
            continue
        c = cost_return_from({k: cell(v) for k, v in item.items()}, rules,
                             lambda column, expected, found, _f=field: problems.add(
                                 where, None, f"{_f}.{column}", expected, found))
        if c is not None:
            entries.append(c)
            rows[c.key] = (f"{where} {field}", [None])
    if not problems and not entries:
        problems.add(where, None, "(file)", "at least one transaction", "(none)")
    if problems:
        raise ImportRejected(problems)
    return ParsedFile(str(path), tuple(entries), rows)


def _problem(where, line, field, expected, found):
    return Problem(where, field, expected, found, line)


def transaction_from(item: Any, rules: BookRules, report: Report) -> Transaction | None:
    if not isinstance(item, Mapping):
        report("", "a mapping of the transaction's fields", type(item).__name__)
        return None
    known = {"key", "kind", "date", "year", "period", "partner", "reference", "decision", "description", "reverses",
             "postings"}
    extra = sorted(set(map(str, item)) - known)
    if extra:
        report(extra[0], f"only the fields {', '.join(sorted(known))}", extra[0])
        return None
    key, kind = cell(item.get("key")), cell(item.get("kind"))
    if not key:
        report("key", "an idempotency key", "")
        return None
    if kind not in TRANSACTION_KINDS:
        report("kind", f"one of {', '.join(sorted(TRANSACTION_KINDS))}", kind)
        return None
    try:
        day = parse_date(cell(item.get("date")))
    except ValueError:
        report("date", "a date as YYYY-MM-DD", cell(item.get("date")))
        return None
    fy = FinancialYear.containing(day).label
    if item.get("year") not in (None, "") and _label(cell(item.get("year"))) != fy:
        report("year", f"{fy}, the financial year of {day.isoformat()}", cell(item.get("year")))
        return None
    if fy not in rules.years:
        report("year", f"a year of the deal ({rules.years[0]} to {rules.years[-1]})", fy)
        return None
    if item.get("period") not in (None, "") and cell(item.get("period")) not in (str(period_of(day)),
                                                                                 f"{period_of(day)}.0"):
        report("period", f"{period_of(day)} (April is 1)", cell(item.get("period")))
        return None
    partner = cell(item.get("partner")) or None
    if partner is not None and partner not in rules.partners:
        report("partner", f"a partner of {rules.deal_id}", partner)
        return None
    reverses = cell(item.get("reverses"))
    if reverses and not re.fullmatch(r"\d+", reverses):
        report("reverses", "an entry number", reverses)
        return None
    raw = item.get("postings") or []
    if not isinstance(raw, list):
        report("postings", "a list of postings", type(raw).__name__)
        return None
    postings = []
    for j, p in enumerate(raw):
        where = f"postings[{j}]"
        if not isinstance(p, Mapping) or not p.get("account"):
            report(where, "an account and an amount (debit, credit, amount or amount_pence)", p)
            return None
        account = cell(p.get("account"))
        _, why = acc.parse_account(account, rules)
        if why:
            report(f"{where}.account", "an account of the pooled fund's chart", f"({why})")
            return None
        given = [c for c in ("debit", "credit", "amount", "amount_pence") if p.get(c) not in (None, "")]
        if len(given) != 1:
            report(where, "exactly one of debit, credit, amount, amount_pence", ",".join(given) or "(none)")
            return None
        column = given[0]
        if isinstance(p[column], float) and column.endswith("_pence"):
            report(f"{where}.{column}", "whole pence", p[column])
            return None
        try:
            pence = parse_pence(cell(p[column]), column)
        except InputError as exc:
            report(f"{where}.{column}", "an amount in pounds with at most two decimals", f"({p[column]!r}: {exc})")
            return None
        postings.append(Posting(account, -pence if column == "credit" else pence))
    if not postings and kind != "reversal":
        report("postings", "at least two postings", "(none)")
        return None
    return Transaction(key=key, kind=kind, date=day, year=fy, period=period_of(day), postings=tuple(postings),
                       partner=partner, reference=cell(item.get("reference")),
                       decision=cell(item.get("decision")) or None,
                       description=cell(item.get("description")), reverses=int(reverses) if reverses else None)


def _label(text: str) -> str | None:
    try:
        return FinancialYear.parse(text).label
    except InputError:
        return None


def cost_return_from(values: Mapping[str, str], rules: BookRules, report: Report) -> CostReturn | None:
    """A cost return from its text fields (pounds for the costs); reports the first problem."""
    key = values.get("key", "").strip()
    if not key:
        report("key", "an idempotency key for the cost return", "")
        return None
    provider = values.get("provider", "").strip()
    if provider not in rules.partners:
        report("provider", f"a partner of {rules.deal_id}", provider)
        return None
    year = _label(values.get("year", ""))
    if year is None or year not in rules.years:
        report("year", f"a year of the deal ({rules.years[0]} to {rules.years[-1]})", values.get("year", ""))
        return None
    period_text = values.get("period", "").strip().removesuffix(".0")
    if not period_text.isdigit() or not 1 <= int(period_text) <= 12:
        report("period", "a period from 1 (April) to 12 (March)", values.get("period", ""))
        return None
    service = values.get("service_line", "").strip()
    if service not in rules.service_lines and service not in rules.schemes:
        report("service_line", "a service line or scheme of the deal", service)
        return None
    district = values.get("district", "").strip() or None
    if district is not None and district not in rules.districts:
        report("district", f"a district of {rules.deal_id}", district)
        return None
    amounts = {}
    for column in ("staff", "non_pay", "overheads"):
        text = values.get(column, "").strip()
        try:
            amounts[column] = parse_pence(text, column)
        except InputError as exc:
            report(column, "an amount in pounds with at most two decimals", f"({text!r}: {exc})" if text else "")
            return None
        if amounts[column] < 0:
            report(column, "a cost that is not negative", text)
            return None
    activity_text = values.get("activity", "").strip().removesuffix(".0")
    if activity_text and not activity_text.isdigit():
        report("activity", "a whole number of units", activity_text)
        return None
    return CostReturn(key=key, provider=provider, year=year, period=int(period_text), service_line=service,
                      staff=amounts["staff"], non_pay=amounts["non_pay"], overheads=amounts["overheads"],
                      district=district, activity=int(activity_text) if activity_text else None,
                      reference=values.get("reference", "").strip())
