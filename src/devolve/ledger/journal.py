"""Reading the journal back: stored rows → entries and their canonical bodies (for verify and export).

The bodies are rebuilt from every stored column that carries meaning, so a change to any of them
— an entry, a posting, an account's name or dimensions, a cost return, the deal's rules — changes
the body and no longer matches the stored hash. A column an entry of its kind does not use must be
empty; if it is not, the body says so and cannot match either.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from devolve.ledger import schema as s
from devolve.ledger.hashing import canonical
from devolve.ledger.records import (
    CLOSE,
    COST_RETURN,
    OPEN,
    TRANSACTION_KINDS,
    Account,
    AccountOpening,
    BookRules,
    CostReturn,
    Entry,
    Posting,
    Transaction,
    YearClose,
)

_ENTRY_COLUMNS = ("date", "year", "period", "partner", "reference", "decision", "description", "reverses")
_USED = {
    OPEN: (),
    CLOSE: ("year",),
    COST_RETURN: ("year", "period", "reference"),
}
STREAM_ROWS = 5_000


def _accounts_by_id(connection: Connection) -> dict[int, Account]:
    rows = connection.execute(select(s.accounts).order_by(s.accounts.c.id))
    return {r.id: Account(r.name, r.root, r.role, r.line, r.service, r.district, r.neighbourhood, r.scheme,
                          r.partner) for r in rows}


def _openings(connection: Connection) -> dict[int, list[tuple[int, Account]]]:
    out: dict[int, list[tuple[int, Account]]] = {}
    for r in connection.execute(select(s.accounts).order_by(s.accounts.c.id)):
        account = Account(r.name, r.root, r.role, r.line, r.service, r.district, r.neighbourhood, r.scheme, r.partner)
        out.setdefault(r.opened_seq, []).append((r.id, account))
    return out


def _rules_json(connection: Connection) -> str | None:
    row = connection.execute(select(s.books.c.rules_json, s.books.c.deal_id).where(s.books.c.id == 1)).first()
    if row is None:
        return None
    return row.rules_json


def _postings(connection: Connection, seqs: list[int] | None = None) -> Iterator[tuple]:
    query = select(s.postings.c.seq, s.postings.c.line_no, s.postings.c.account_id, s.postings.c.amount)
    if seqs is not None:
        query = query.where(s.postings.c.seq.in_(seqs))
    query = query.order_by(s.postings.c.seq, s.postings.c.line_no)
    yield from connection.execute(query.execution_options(stream_results=True, yield_per=STREAM_ROWS))


def _entries(connection: Connection, seqs: list[int] | None = None) -> Iterator[Any]:
    query = select(s.entries)
    if seqs is not None:
        query = query.where(s.entries.c.seq.in_(seqs))
    yield from connection.execute(
        query.order_by(s.entries.c.seq).execution_options(stream_results=True, yield_per=STREAM_ROWS))


def _grouped_postings(rows: Iterator[tuple]) -> Iterator[tuple[int, list[tuple]]]:
    current, group = None, []
    for row in rows:
        if row[0] != current:
            if current is not None:
                yield current, group
            current, group = row[0], []
        group.append(row)
    if current is not None:
        yield current, group


def _body_dict(row, postings: list[tuple], names: dict[int, Account], openings, rules_json, costs) -> dict:
    kind = row.kind
    if kind in TRANSACTION_KINDS:
        return {"date": row.date, "decision": row.decision, "description": row.description, "key": row.key,
                "kind": kind, "partner": row.partner, "period": row.period,
                "postings": [[names[a].name if a in names else f"#{a}", amount] for _, _, a, amount in postings],
                "reference": row.reference, "reverses": row.reverses, "seq": row.seq, "year": row.year}
    body: dict[str, Any] = {"key": row.key, "kind": kind, "seq": row.seq}
    if kind == OPEN:
        body["accounts"] = [list(a) for _, a in openings.get(row.seq, [])]
        body["rules"] = json.loads(rules_json) if (row.seq == 1 and rules_json is not None) else None
    elif kind == CLOSE:
        body["year"] = row.year
    elif kind == COST_RETURN:
        c = costs.get(row.seq)
        body.update({"year": row.year, "period": row.period, "reference": row.reference})
        if c is not None:
            body.update({"activity": c.activity, "district": c.district, "non_pay": c.non_pay,
                         "overheads": c.overheads, "provider": c.provider, "service_line": c.service_line,
                         "staff": c.staff})
    unexpected = {col: getattr(row, col) for col in _ENTRY_COLUMNS
                  if col not in _USED.get(kind, ()) and getattr(row, col) is not None}
    if unexpected or (postings and kind not in TRANSACTION_KINDS):
        body["_unexpected"] = {**unexpected, "postings": len(postings)}
    return body


def stored_bodies(connection: Connection) -> Iterator[tuple[int, str, str]]:
    """(seq, canonical body, stored hash) for every entry, in order — what :func:`verify_chain` reads."""
    names = _accounts_by_id(connection)
    openings = _openings(connection)
    rules_json = _rules_json(connection)
    costs = {r.seq: r for r in connection.execute(select(s.cost_returns))}
    posting_groups = _grouped_postings(_postings(connection))
    pending = next(posting_groups, None)
    for row in _entries(connection):
        postings: list[tuple] = []
        while pending is not None and pending[0] < row.seq:   # postings of no entry: the next entry is wrong
            postings = pending[1]
            pending = next(posting_groups, None)
        if pending is not None and pending[0] == row.seq:
            postings = pending[1]
            pending = next(posting_groups, None)
        yield row.seq, canonical(_body_dict(row, postings, names, openings, rules_json, costs)), row.hash
    if pending is not None:   # postings after the last entry: an entry was deleted at the end
        yield pending[0], canonical({"_orphan_postings": len(pending[1])}), ""


def _entry(row, postings: list[tuple], names: dict[int, Account], openings, rules_json, costs) -> Entry:
    kind = row.kind
    if kind in TRANSACTION_KINDS:
        return Transaction(row.key, kind, date.fromisoformat(row.date), row.year, row.period,
                           tuple(Posting(names[a].name, amount) for _, _, a, amount in postings),
                           row.partner, row.reference or "", row.decision, row.description or "", row.reverses)
    if kind == OPEN:
        rules = BookRules.from_json(rules_json) if (row.seq == 1 and rules_json) else None
        return AccountOpening(row.key, tuple(a for _, a in openings.get(row.seq, [])), rules)
    if kind == CLOSE:
        return YearClose(row.key, row.year)
    c = costs[row.seq]
    return CostReturn(row.key, c.provider, row.year, row.period, c.service_line, c.staff, c.non_pay, c.overheads,
                      c.district, c.activity, row.reference or "")


def stored_entries(connection: Connection, seqs: list[int] | None = None) -> Iterator[tuple[int, str, Entry]]:
    """(seq, hash, entry) in order, for all entries or those numbered ``seqs``."""
    names = _accounts_by_id(connection)
    openings = _openings(connection)
    rules_json = _rules_json(connection)
    costs = {r.seq: r for r in connection.execute(select(s.cost_returns))}
    groups = dict(_grouped_postings(_postings(connection, seqs=seqs))) if seqs is not None else None
    stream = None if seqs is not None else _grouped_postings(_postings(connection))
    pending = next(stream, None) if stream is not None else None
    for row in _entries(connection, seqs):
        if groups is not None:
            postings = groups.get(row.seq, [])
        else:
            postings = []
            while pending is not None and pending[0] < row.seq:
                pending = next(stream, None)
            if pending is not None and pending[0] == row.seq:
                postings = pending[1]
                pending = next(stream, None)
        yield row.seq, row.hash, _entry(row, postings, names, openings, rules_json, costs)
