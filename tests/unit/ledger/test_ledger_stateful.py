"""Long random sequences of operations on the books keep every invariant (Hypothesis, stateful).

Operations: sound and unsound transactions, batches with one bad entry, retries, reversals, year
closes. After every step: each year's postings balance; no posting without its entry or account;
the kept balances are the sums of the postings and match a model kept in memory; closed years never
change; the hash chain verifies and its head is where the model says.
"""

from __future__ import annotations

import tempfile
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from ledger_helpers import LINE, LINE2, YEARS, make_rules, txn
from sqlalchemy import text

from devolve.ledger import accounts as acc
from devolve.ledger import queries
from devolve.ledger.hashing import verify_chain
from devolve.ledger.journal import stored_bodies
from devolve.ledger.records import Transaction
from devolve.ledger.store import Books, RejectedEntries

ACCOUNTS = [acc.actual(LINE), acc.actual(LINE2), acc.BANK, acc.budget(LINE), acc.payable("prov-a"),
            "Expenses:Pool:acute:D9", acc.receivable("la-a")]


def day_in(year_index: int, offset: int) -> date:
    return date(2016 + year_index, 4, 1) + timedelta(days=offset % 365)


class Ledger(RuleBasedStateMachine):
    make_url = None        # set by each test: a function returning a fresh, empty database URL

    def __init__(self):
        super().__init__()
        self.books, _ = Books.create(type(self).make_url(), make_rules(risk_share={"method": "overspend_order"}))
        self.model: dict[tuple[str, str], int] = {}
        self.posted: dict[str, tuple[int, Transaction]] = {}
        self.closed: dict[str, dict] = {}
        self.head = self.books.head()
        self.n = 0

    def teardown(self):
        self.books.dispose()

    def _key(self) -> str:
        self.n += 1
        return f"k{self.n}"

    def _open_years(self) -> list[int]:
        return [i for i, y in enumerate(YEARS) if y not in self.closed]

    def _try(self, entries, allow_close=False) -> bool:
        try:
            result = self.books.append(entries, allow_close_kinds=allow_close)
        except RejectedEntries:
            assert self.books.head() == self.head, "a rejected batch changed the books"
            return False
        for e in entries:
            if isinstance(e, Transaction) and e.key not in self.posted:
                self.posted[e.key] = (result.seqs[e.key], e)
                for p in e.postings:
                    self.model[(p.account, e.year)] = self.model.get((p.account, e.year), 0) + p.amount
        self.head = (result.head_seq, result.head_hash)
        return True

    @rule(year=st.integers(0, 4), offset=st.integers(0, 364), pence=st.integers(1, 10**7))
    def set_a_budget(self, year, offset, pence):
        t = txn(self._key(), day_in(year, offset), "budget", (acc.budget(LINE), pence), (acc.budget(LINE2), pence),
                (acc.BUDGET_FUNDING, -2 * pence))
        assert self._try([t]) == (YEARS[year] not in self.closed)

    @rule(year=st.integers(0, 4), offset=st.integers(0, 364), pence=st.integers(1, 10**6),
          line=st.sampled_from([LINE, LINE2]), decided=st.booleans())
    def pay(self, year, offset, pence, line, decided):
        t = txn(self._key(), day_in(year, offset), "payment", (acc.actual(line), pence), (acc.BANK, -pence),
                partner="prov-a", decision="SPB-1" if decided else None)
        self._try([t])

    @rule(year=st.integers(0, 5), offset=st.integers(0, 364),
          postings=st.lists(st.tuples(st.sampled_from(ACCOUNTS), st.integers(-10**6, 10**6)), min_size=1, max_size=4))
    def post_anything(self, year, offset, postings):
        self._try([txn(self._key(), day_in(year, offset), "accrual", *postings)])

    @rule(offset=st.integers(0, 364), pence=st.integers(1, 1000))
    def a_batch_with_one_bad_entry_changes_nothing(self, offset, pence):
        years = self._open_years()
        if not years:
            return
        good = txn(self._key(), day_in(years[0], offset), "budget", (acc.budget(LINE), pence),
                   (acc.BUDGET_FUNDING, -pence))
        bad = txn(self._key(), day_in(years[0], offset), "payment", (acc.actual(LINE), pence), (acc.BANK, -pence + 1))
        assert not self._try([good, bad])

    @rule(data=st.data())
    def retry(self, data):
        if self.posted:
            key = data.draw(st.sampled_from(sorted(self.posted)))
            result = self.books.append([self.posted[key][1]])
            assert result.added == 0 and (result.head_seq, result.head_hash) == self.head

    @rule(data=st.data())
    def reverse(self, data):
        candidates = [k for k, (_, t) in self.posted.items() if t.kind in ("payment", "budget", "accrual")]
        if candidates:
            seq, t = self.posted[data.draw(st.sampled_from(sorted(candidates)))]
            r = t._replace(key=self._key(), kind="reversal", reverses=seq, decision="SPB-2",
                           postings=tuple(p._replace(amount=-p.amount) for p in t.postings))
            self._try([r])

    @rule()
    def close_a_year(self):
        years = self._open_years()
        if not years:
            return
        year = YEARS[years[0]]
        plan = self.books.close_year(year)
        for e in plan.entries:
            if isinstance(e, Transaction):
                for p in e.postings:
                    self.model[(p.account, e.year)] = self.model.get((p.account, e.year), 0) + p.amount
        self.head = self.books.head()
        self.closed[year] = {k: v for k, v in self.db_balances().items() if k[1] == year}
        assert -sum(v for (a, y), v in self.model.items()
                    if y == year and a.startswith(acc.POOL_PREFIXES)) == 0     # the pool ends the year at zero

    def db_balances(self) -> dict[tuple[str, str], int]:
        with self.books.engine.connect() as c:
            return {(a, y): v for a, y, v in queries.balance_rows(c) if v}

    @invariant()
    def every_year_balances(self):
        by_year: dict[str, int] = {}
        for (_, y), v in self.db_balances().items():
            by_year[y] = by_year.get(y, 0) + v
        assert all(v == 0 for v in by_year.values())

    @invariant()
    def no_orphans_and_balances_are_the_sums_of_postings(self):
        with self.books.engine.connect() as c:
            assert c.execute(text("SELECT COUNT(*) FROM postings p LEFT JOIN entries e ON e.seq = p.seq "
                                  "LEFT JOIN accounts a ON a.id = p.account_id "
                                  "WHERE e.seq IS NULL OR a.id IS NULL")).scalar() == 0
            assert queries.balances_disagreeing(c) == []
        assert self.db_balances() == {k: v for k, v in self.model.items() if v}

    @invariant()
    def closed_years_never_change(self):
        now = self.db_balances()
        for year, snapshot in self.closed.items():
            assert {k: v for k, v in now.items() if k[1] == year} == snapshot

    @invariant()
    def the_chain_verifies(self):
        with self.books.engine.connect() as c:
            assert verify_chain(stored_bodies(c), expect_head=self.head).ok


def run(make_url, examples: int, steps: int) -> None:
    Ledger.make_url = staticmethod(make_url)
    run_state_machine_as_test(Ledger, settings=settings(max_examples=examples, stateful_step_count=steps,
                                                        deadline=None,
                                                        suppress_health_check=list(HealthCheck)))


@pytest.mark.slow
def test_invariants_hold_on_sqlite():
    folder = Path(tempfile.mkdtemp(prefix="devolve-stateful-"))
    run(lambda: f"sqlite:///{folder / uuid.uuid4().hex}.db", examples=30, steps=25)


@pytest.mark.postgres
@pytest.mark.slow
def test_invariants_hold_on_postgres(pg_database):
    import psycopg

    def fresh() -> str:
        schema = f"s_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_database, autocommit=True) as c:
            c.execute(f'CREATE SCHEMA "{schema}"')
        return f"{pg_database}?options=-csearch_path%3D{schema}"

    run(fresh, examples=15, steps=20)
