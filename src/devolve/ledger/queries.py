"""Read-only queries over the books (SQL that SQLite and PostgreSQL share)."""

from __future__ import annotations

from sqlalchemy import Connection, and_, func, select

from devolve.ledger import schema as s
from devolve.ledger.records import TRANSACTION_KINDS, Account

TRANSACTION_KIND_LIST = sorted(TRANSACTION_KINDS)


def chart(connection: Connection) -> dict[str, Account]:
    return {r.name: Account(r.name, r.root, r.role, r.line, r.service, r.district, r.neighbourhood, r.scheme,
                            r.partner) for r in connection.execute(select(s.accounts).order_by(s.accounts.c.id))}


def balance_rows(connection: Connection) -> list[tuple[str, str, int]]:
    """(account, year, pence) from the balances kept at each append."""
    query = (select(s.accounts.c.name, s.balances.c.year, s.balances.c.balance)
             .join(s.accounts, s.accounts.c.id == s.balances.c.account_id))
    return [(a, y, int(b)) for a, y, b in connection.execute(query)]


def transaction_count(connection: Connection, year: str | None = None) -> int:
    query = select(func.count()).select_from(s.entries).where(s.entries.c.kind.in_(TRANSACTION_KIND_LIST))
    if year is not None:
        query = query.where(s.entries.c.year == year)
    return int(connection.execute(query).scalar() or 0)


def posted_by_kind(connection: Connection, role: str, kinds: list[str]) -> dict[tuple[str, str], int]:
    """(line, year) → pence posted to the line's ``role`` account by entries of ``kinds``."""
    query = (select(s.accounts.c.line, s.entries.c.year, func.sum(s.postings.c.amount))
             .select_from(s.postings)
             .join(s.entries, s.entries.c.seq == s.postings.c.seq)
             .join(s.accounts, s.accounts.c.id == s.postings.c.account_id)
             .where(and_(s.accounts.c.role == role, s.entries.c.kind.in_(kinds)))
             .group_by(s.accounts.c.line, s.entries.c.year))
    return {(line, year): int(v) for line, year, v in connection.execute(query)}


def price_rows(connection: Connection) -> list[tuple[str, str, str, int]]:
    """(provider, service line or scheme, year, pence paid or accrued) from the providers' transactions."""
    service = func.coalesce(s.accounts.c.service, s.accounts.c.scheme)
    query = (select(s.entries.c.partner, service, s.entries.c.year, func.sum(s.postings.c.amount))
             .select_from(s.postings)
             .join(s.entries, s.entries.c.seq == s.postings.c.seq)
             .join(s.accounts, s.accounts.c.id == s.postings.c.account_id)
             .where(and_(s.accounts.c.role == "actual", s.entries.c.partner.is_not(None), service.is_not(None)))
             .group_by(s.entries.c.partner, service, s.entries.c.year))
    return [(p, sv, y, int(v)) for p, sv, y, v in connection.execute(query)]


def cost_rows(connection: Connection) -> list[tuple]:
    """(provider, service line, year, staff, non-pay, overheads, activity, returns) summed."""
    c = s.cost_returns.c
    query = (select(c.provider, c.service_line, s.entries.c.year, func.sum(c.staff), func.sum(c.non_pay),
                    func.sum(c.overheads), func.sum(c.activity), func.count())
             .join(s.entries, s.entries.c.seq == c.seq)
             .group_by(c.provider, c.service_line, s.entries.c.year))
    return [(p, sv, y, int(a), int(b), int(o), None if act is None else int(act), int(n))
            for p, sv, y, a, b, o, act, n in connection.execute(query)]


def paid_to_providers(connection: Connection, year: str | None = None) -> dict[str, int]:
    out: dict[str, int] = {}
    for provider, _, y, pence in price_rows(connection):
        if year is None or y == year:
            out[provider] = out.get(provider, 0) + pence
    return out


def balances_disagreeing(connection: Connection) -> list[tuple[str, str, int, int]]:
    """(account, year, stored, recomputed) where the kept balances differ from the postings' sums."""
    recomputed = {}
    query = (select(s.postings.c.account_id, s.entries.c.year, func.sum(s.postings.c.amount), func.count())
             .join(s.entries, s.entries.c.seq == s.postings.c.seq)
             .group_by(s.postings.c.account_id, s.entries.c.year))
    for account_id, year, total, count in connection.execute(query):
        recomputed[(account_id, year)] = (int(total), int(count))
    stored = {(a, y): (int(b), int(n)) for a, y, b, n in connection.execute(
        select(s.balances.c.account_id, s.balances.c.year, s.balances.c.balance, s.balances.c.postings))}
    names = {i: n for i, n in connection.execute(select(s.accounts.c.id, s.accounts.c.name))}
    bad = []
    for k in sorted(set(recomputed) | set(stored), key=lambda k: (str(k[1]), k[0])):
        if recomputed.get(k, (0, 0)) != stored.get(k, (0, 0)):
            bad.append((names.get(k[0], f"#{k[0]}"), k[1], stored.get(k, (0, 0))[0], recomputed.get(k, (0, 0))[0]))
    return bad


def entries_with_decision(connection: Connection) -> dict[str, tuple[int, str]]:
    """key → (entry number, decision) for every transaction that cites a governance decision."""
    query = select(s.entries.c.key, s.entries.c.seq, s.entries.c.decision).where(s.entries.c.decision.is_not(None))
    return {k: (int(q), d) for k, q, d in connection.execute(query)}
