"""Helpers for the books' tests: a small deal's rules and transactions written inline."""

from __future__ import annotations

from datetime import date

from devolve.ledger import accounts as acc
from devolve.ledger.records import BookRules, Posting, Transaction, period_of, year_of

YEARS = ("2016/17", "2017/18", "2018/19", "2019/20", "2020/21")


def make_rules(**changes) -> BookRules:
    """A small deal: two districts, two service lines, a council, a CCG, two providers, a scheme."""
    fields = dict(
        deal_id="test-deal", deal_name="Test deal (synthetic)", years=YEARS,
        pooled_budget={y: 1_000_000_00 for y in YEARS}, transformation_fund={y: 50_000_00 for y in YEARS},
        contributions={y: {"la-a": 400_000_00, "ccg-a": 600_000_00} for y in YEARS},
        partners={"la-a": {"name": "Council A", "type": "local_authority"},
                  "ccg-a": {"name": "CCG A", "type": "commissioner"},
                  "prov-a": {"name": "Provider A", "type": "nhs_provider"},
                  "prov-b": {"name": "Provider B", "type": "nhs_provider"},
                  "nat": {"name": "National body", "type": "national_body"}},
        districts={"D1": "District One", "D2": "District Two"},
        service_lines={"home_care": "social_care", "acute": "hospital"},
        schemes={"s1": "la-a"}, host_partner="la-a", pool_manager="la-a", delegation_limit=10_000_00,
        risk_share={"method": "pro_rata"}, carry_forward_limit=0.02, governance_source="synthetic test rules",
        synthetic=("everything: a test deal",))
    fields.update(changes)
    return BookRules(**fields)


def txn(key: str, day: str | date, kind: str, *postings: tuple[str, int], **fields) -> Transaction:
    """A transaction written inline: txn("p1", "2016-05-03", "payment", (acc.BANK, -100), (…, 100))."""
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return Transaction(key=key, kind=kind, date=d, year=year_of(d), period=period_of(d),
                       postings=tuple(Posting(a, v) for a, v in postings), **fields)


LINE = acc.pool_line("home_care", "D1")
LINE2 = acc.pool_line("acute", "D2")


def concurrent_payment(worker: int, i: int) -> Transaction:
    """The i-th payment of a concurrent writer: the same content every time it is made (so retries match)."""
    return txn(f"w{worker}-{i}", date(2016, 4 + i % 9, 1 + i % 28), "payment", (acc.actual(LINE), 1 + i % 97),
               (acc.BANK, -(1 + i % 97)), partner="prov-a", reference=f"writer {worker}")


def concurrent_writer(url: str, worker: int, count: int, retry_of: int, retries: int) -> int:
    """Post ``count`` payments in appends of 1 to 16 transactions (a seeded mix), and along the way
    retry ``retries`` of another writer's, one at a time; returns how many entries this writer added."""
    import random

    from devolve.ledger.store import Books
    books = Books.open(url)
    rng = random.Random(worker)
    added, i = 0, 0
    while i < count:
        size = min(count - i, rng.choice((1, 1, 2, 4, 8, 16)))
        added += books.append([concurrent_payment(worker, j) for j in range(i, i + size)]).added
        if i < retries:
            added += books.append([concurrent_payment(retry_of, i)]).added
        i += size
    books.dispose()
    return added
