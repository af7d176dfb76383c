"""The books' repository: open them, append entries (all or nothing), read balances back.

:meth:`Books.append` runs in one database transaction that first takes the books' write lock
(SQLite ``BEGIN IMMEDIATE``; PostgreSQL ``SELECT … FOR UPDATE`` on the chain head), so concurrent
writers are serialised: each sees the chain head the last one left, nothing is lost and nothing is
duplicated. Inside it:

1. entries whose idempotency key is already in the books are skipped when their content is the
   same (a retry) and refused when it differs;
2. the rules (:mod:`.rules`) check every remaining entry against the books; any error rejects the
   whole batch (:class:`RejectedEntries`) and nothing is written;
3. entries are numbered after the head, hashed into the chain, inserted with their postings, and the
   per-year balances and the chain head are updated — then the transaction commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, Engine, func, inspect, select, text

from devolve.domain.errors import DevolveError
from devolve.ledger import accounts as acc
from devolve.ledger import batch_rules, hashing
from devolve.ledger import schema as s
from devolve.ledger.batch import (
    ENTRY_COLUMNS,
    POSTING_COLUMNS,
    NumberedKeys,
    PostingBatch,
    balance_changes,
    chained_rows,
)
from devolve.ledger.bulk import paused_gc
from devolve.ledger.database import (
    BooksUnavailable,
    RowWriter,
    check_reachable,
    current_revision,
    describe_url,
    head_revision,
    is_sqlite,
    make_engine,
    migrate,
    placeholder,
    write_transaction,
)
from devolve.ledger.journal import stored_entries
from devolve.ledger.records import (
    CLOSE,
    Account,
    AccountOpening,
    BookRules,
    CostReturn,
    Entry,
    LedgerError,
    Transaction,
    entry_kind,
)
from devolve.ledger.rules import LedgerState, check_batch
from devolve.ledger.year_end import YearEnd, plan_year_end

KEY_CHUNK = 2_000
TARGETED_STATE = 50            # batches up to this size load only the balances their rules read
WRITER_CHUNK = 20_000
GENESIS_KEY = "open:chart"


class RejectedEntries(DevolveError):
    """A batch broke the books' rules; nothing was written. ``errors`` lists every problem."""

    def __init__(self, errors: Sequence[LedgerError]):
        self.errors = tuple(errors)
        shown = "\n  ".join(str(e) for e in self.errors[:20])
        more = f"\n  … and {len(self.errors) - 20} more" if len(self.errors) > 20 else ""
        super().__init__(f"{len(self.errors)} problem(s); nothing was written:\n  {shown}{more}")


@dataclass(frozen=True)
class AppendResult:
    added: int
    skipped: int
    head_seq: int
    head_hash: str
    seqs: Mapping[str, int]       # key → entry number, for every entry of the batch


class Books:
    """The books of one deal in one database."""

    def __init__(self, engine: Engine, url: str, rules: BookRules):
        self.engine = engine
        self.url = url
        self.rules = rules
        self._accounts: dict[str, tuple[int, Account]] = {}
        self._max_account_id = 0

    # ---- opening -------------------------------------------------------------------------------
    @classmethod
    def create(cls, url: str, rules: BookRules) -> tuple[Books, bool]:
        """Open the books for ``rules.deal_id`` at ``url``, creating them (schema and chart) if new.

        Returns the books and whether they were created now."""
        engine = make_engine(url)
        check_reachable(engine, url)
        migrate(engine)
        with engine.connect() as connection:
            connection.execution_options(books_write=True)
            with connection.begin():
                if not is_sqlite(engine):
                    connection.execute(text("SELECT pg_advisory_xact_lock(7510240617)"))
                row = connection.execute(select(s.books.c.deal_id).where(s.books.c.id == 1)).first()
                if row is not None:
                    if row.deal_id != rules.deal_id:
                        raise BooksUnavailable(f"the books at {describe_url(url)} are kept for {row.deal_id}, "
                                               f"not {rules.deal_id}")
                    return cls.open(url, engine=engine), False
                connection.execute(s.books.insert().values(id=1, deal_id=rules.deal_id, rules_json=rules.to_json()))
                connection.execute(s.chain_head.insert().values(id=1, seq=0, hash=hashing.GENESIS))
                books = cls(engine, url, rules)
                books._append_locked(connection, [AccountOpening(GENESIS_KEY, acc.chart(rules), rules)], False)
        return books, True

    @classmethod
    def open(cls, url: str, *, engine: Engine | None = None) -> Books:
        engine = engine or make_engine(url, create=False)
        check_reachable(engine, url)
        with engine.connect() as connection:
            if not inspect(connection).has_table("books"):
                raise BooksUnavailable(f"there are no books at {describe_url(url)}: "
                                       "run `devolve ledger init DEAL` first")
            if current_revision(connection) != head_revision():
                raise BooksUnavailable(f"the books at {describe_url(url)} have an older schema: "
                                       "run `devolve ledger init DEAL` to migrate them")
            row = connection.execute(select(s.books.c.rules_json).where(s.books.c.id == 1)).first()
        if row is None:
            raise BooksUnavailable(f"there are no books at {describe_url(url)}: run `devolve ledger init DEAL` first")
        return cls(engine, url, BookRules.from_json(row.rules_json))

    # ---- appending -----------------------------------------------------------------------------
    def append(self, entries: Iterable[Entry], *, allow_close_kinds: bool = False) -> AppendResult:
        """Append ``entries`` in order, all or nothing (see the module's docstring)."""
        with paused_gc():
            batch = list(entries)
            with write_transaction(self.engine) as connection:
                return self._append_locked(connection, batch, allow_close_kinds)

    def _append_locked(self, connection: Connection, batch: list[Entry], allow_close_kinds: bool) -> AppendResult:
        head = connection.info.pop("books_head", None)
        if head is None:
            head = connection.execute(select(s.chain_head.c.seq, s.chain_head.c.hash)).first()
        if head is None:
            raise BooksUnavailable(f"the books at {describe_url(self.url)} have lost their chain head record: "
                                   "run `devolve ledger verify`")
        head_seq, head_hash = head
        fresh, skipped, seqs, errors = self._without_retries(connection, batch)
        self._load_accounts(connection, fresh)
        state = self._state(connection, fresh, everything=len(fresh) > TARGETED_STATE)
        errors += check_batch(state, fresh, allow_close_kinds=allow_close_kinds)
        if errors:
            raise RejectedEntries(errors)
        writer = RowWriter(connection, threaded=len(fresh) > WRITER_CHUNK)
        try:
            seq, previous = self._write(writer, fresh, int(head_seq), head_hash, seqs)
        finally:
            writer.close()
        if fresh:
            connection.execute(s.chain_head.update().where(s.chain_head.c.id == 1).values(seq=seq, hash=previous))
        return AppendResult(added=len(fresh), skipped=skipped, head_seq=seq, head_hash=previous, seqs=seqs)

    def append_batch(self, batch: PostingBatch) -> AppendResult:
        """Append a columnar batch of plain transactions (a big clean CSV), all or nothing.

        When :func:`.batch_rules.clear` vouches for it and none of its keys is stored yet, it is
        numbered, hashed and inserted column by column; otherwise it goes through :meth:`append`'s
        path as records, in the same locked transaction (retries, and the reference rules' errors)."""
        with paused_gc(), write_transaction(self.engine) as connection:
            self._load_accounts(connection)
            state = self._state(connection, [], everything=True)
            seq, previous = connection.info["books_head"]
            if not self._all_new(connection, batch, seq) or not batch_rules.clear(state, batch):
                return self._append_locked(connection, batch.records(), False)
            del connection.info["books_head"]
            head = self._write_batch(connection, batch, seq, previous)
            connection.execute(s.chain_head.update().where(s.chain_head.c.id == 1).values(seq=head[0], hash=head[1]))
        return AppendResult(added=len(batch), skipped=0, head_seq=head[0], head_hash=head[1],
                            seqs=NumberedKeys(batch.transactions["key"], seq + 1))

    def _write_batch(self, connection: Connection, batch: PostingBatch, seq: int, previous: str) -> tuple[int, str]:
        """Number, hash and insert a batch the rules cleared, a chunk at a time: for a big batch a
        writer thread inserts each chunk while the next is hashed. Returns the new chain head."""
        ids = {name: v[0] for name, v in self._accounts.items()}
        head = (seq, previous)
        entries = _insert(s.entries, ENTRY_COLUMNS)
        with _indexes_rebuilt_after(connection, s.entries, rebuild=is_sqlite(connection) and len(batch) > seq):
            writer = RowWriter(connection, threaded=len(batch) > WRITER_CHUNK)
            try:
                for part in chained_rows(batch, ids, seq, previous, WRITER_CHUNK):
                    writer.put_sql(entries, part.entries)
                    _put_flat(writer, s.postings, POSTING_COLUMNS, part.postings)
                    head = part.head
                writer.put_sql(_UPSERT, balance_changes(batch, ids))
            finally:
                writer.close()
        return head

    def _all_new(self, connection: Connection, batch: PostingBatch, stored: int) -> bool:
        """Whether every key of the batch is new: used once in it, and not in the books' ``stored``
        entries — for books no bigger than the batch, their keys are read and compared at once;
        else the batch's are looked up in chunks."""
        keys = batch.transactions["key"]
        if keys.n_unique() != len(keys):
            return False
        if stored > len(batch):
            return not self._stored_keys(connection, keys.to_list())
        books_keys = pl.Series("key", list(connection.execute(select(s.entries.c.key)).scalars()), dtype=pl.Utf8)
        return not keys.is_in(books_keys.implode()).any()

    def _stored_keys(self, connection: Connection, keys: list[str]) -> dict[str, int]:
        stored: dict[str, int] = {}
        mark = placeholder(connection)
        for i in range(0, len(keys), KEY_CHUNK):
            chunk = keys[i:i + KEY_CHUNK]
            sql = f"SELECT key, seq FROM entries WHERE key IN ({', '.join([mark] * len(chunk))})"
            for key, seq in connection.exec_driver_sql(sql, tuple(chunk)):
                stored[key] = seq
        return stored

    def _write(self, writer: RowWriter, fresh: list[Entry], seq: int, previous: str,
               seqs: dict[str, int]) -> tuple[int, str]:
        """Number, hash and insert the entries (in chunks, handed to the writer); update the balances."""
        entry_rows, posting_rows, cost_rows, account_rows = [], [], [], []
        deltas: dict[tuple[int, str], list[int]] = {}
        ids = {name: v[0] for name, v in self._accounts.items()}
        next_id = self._max_account_id
        sha256, body_of = hashlib.sha256, hashing.transaction_body
        days: dict = {}
        for entry in fresh:
            seq += 1
            if type(entry) is Transaction:
                t = entry
                day = days.get(t.date)
                if day is None:
                    day = days[t.date] = t.date.isoformat()
                previous = sha256((previous + body_of(seq, t, day)).encode("utf-8")).hexdigest()
                year = t.year
                entry_rows.append((seq, t.kind, t.key, day, year, t.period, t.partner, t.reference,
                                   t.decision, t.description, t.reverses, previous))
                for line_no, (account, amount) in enumerate(t.postings):
                    account_id = ids[account]
                    posting_rows.append((seq, line_no, account_id, amount))
                    d = deltas.get((account_id, year))
                    if d is None:
                        deltas[(account_id, year)] = [amount, 1]
                    else:
                        d[0] += amount
                        d[1] += 1
            else:
                previous = hashing.chain_hash(previous, hashing.body(seq, entry))
                kind = entry_kind(entry)
                if isinstance(entry, AccountOpening):
                    entry_rows.append((seq, kind, entry.key, None, None, None, None, None, None, None, None, previous))
                    for a in entry.accounts:
                        next_id += 1
                        ids[a.name] = next_id
                        account_rows.append((next_id, a.name, a.root, a.role, a.line, a.service, a.district,
                                             a.neighbourhood, a.scheme, a.partner, seq))
                    writer.put(s.accounts, account_rows)
                    account_rows = []
                elif isinstance(entry, CostReturn):
                    entry_rows.append((seq, kind, entry.key, None, entry.year, entry.period, None, entry.reference,
                                       None, None, None, previous))
                    cost_rows.append((seq, entry.provider, entry.service_line, entry.district, entry.staff,
                                      entry.non_pay, entry.overheads, entry.activity))
                else:
                    entry_rows.append((seq, CLOSE, entry.key, None, entry.year, None, None, None, None, None, None,
                                       previous))
            seqs[entry.key] = seq
            if len(entry_rows) >= WRITER_CHUNK:
                writer.put(s.entries, entry_rows)
                writer.put(s.postings, posting_rows)
                writer.put(s.cost_returns, cost_rows)
                entry_rows, posting_rows, cost_rows = [], [], []
        writer.put(s.entries, entry_rows)
        writer.put(s.postings, posting_rows)
        writer.put(s.cost_returns, cost_rows)
        if deltas:
            writer.put_sql(_UPSERT, [(a, y, d[0], d[1]) for (a, y), d in deltas.items()])
        return seq, previous

    def _without_retries(self, connection: Connection, batch: list[Entry]):
        """Split off entries already in the books (same key, same content) and key clashes."""
        errors: list[LedgerError] = []
        stored = self._stored_keys(connection, [e.key for e in batch])
        existing = {}
        if stored:
            existing = {e.key: (seq, e) for seq, _, e in stored_entries(connection, sorted(set(stored.values())))}
        fresh: list[Entry] = []
        first: dict[str, Entry] = {}
        seqs: dict[str, int] = {}
        skipped = 0
        for entry in batch:
            if entry.key in existing:
                seq, old = existing[entry.key]
                if hashing.content(old) == hashing.content(entry):
                    skipped += 1
                    seqs[entry.key] = seq
                else:
                    errors.append(LedgerError("idempotency", entry.key, f"key already used by entry {seq}, "
                                                                         "with different content"))
            elif entry.key in first:
                if hashing.content(first[entry.key]) != hashing.content(entry):
                    errors.append(LedgerError("idempotency", entry.key, "key used twice in the batch, "
                                                                         "with different content"))
                else:
                    skipped += 1
            else:
                first[entry.key] = entry
                fresh.append(entry)
        return fresh, skipped, seqs, errors

    def _load_accounts(self, connection: Connection, batch: list[Entry] | None = None) -> None:
        """(Re)load the chart when the cache cannot serve the batch: a name it does not know, or
        accounts to open (whose ids must follow the latest, whoever opened it)."""
        known = self._accounts
        if known and batch is not None and not any(isinstance(e, AccountOpening) for e in batch):
            if all(p.account in known for e in batch if type(e) is Transaction for p in e.postings):
                return
        top = connection.execute(select(func.max(s.accounts.c.id))).scalar() or 0
        self._accounts = {r.name: (r.id, Account(r.name, r.root, r.role, r.line, r.service, r.district,
                                                 r.neighbourhood, r.scheme, r.partner))
                          for r in connection.execute(select(s.accounts))}
        self._max_account_id = top

    def _state(self, connection: Connection, fresh: list[Entry], everything: bool = True) -> LedgerState:
        """What the rules need: for a small batch, only the balances they read (its budget lines',
        the funding and the brought-forward accounts in its years); else every balance."""
        names = {i: name for name, (i, _) in self._accounts.items()}
        query = select(s.balances.c.account_id, s.balances.c.year, s.balances.c.balance)
        if not everything:
            ids, years = set(), set()
            for e in fresh:
                if type(e) is Transaction:
                    years.add(e.year)
                    for p in e.postings:
                        account = self._accounts.get(p.account)
                        if account is not None and account[1].line is not None:
                            line = account[1].line
                            ids.update(self._accounts[n][0] for n in (acc.budget(line), acc.commitment(line),
                                                                      acc.actual(line)) if n in self._accounts)
            ids.update(self._accounts[n][0] for n in (acc.BUDGET_FUNDING, acc.CARRIED_IN) if n in self._accounts)
            query = query.where(s.balances.c.account_id.in_(sorted(ids)), s.balances.c.year.in_(sorted(years)))
        balances = {(names[a], y): int(b) for a, y, b in connection.execute(query)}
        closed = frozenset(self.closed_years(connection))
        targets = sorted({e.reverses for e in fresh if isinstance(e, Transaction) and e.reverses is not None})
        originals, reversed_ = {}, frozenset()
        if targets:
            originals = {seq: e for seq, _, e in stored_entries(connection, targets) if isinstance(e, Transaction)}
            reversed_ = frozenset(r for (r,) in connection.execute(
                select(s.entries.c.reverses).where(s.entries.c.reverses.in_(targets))))
        return LedgerState(rules=self.rules, accounts={n: a for n, (_, a) in self._accounts.items()},
                           closed_years=closed, balances=balances, originals=originals, reversed=reversed_)

    # ---- reading -------------------------------------------------------------------------------
    def closed_years(self, connection: Connection | None = None) -> list[str]:
        query = (select(s.entries.c.year).where(s.entries.c.year.in_(self.rules.years))
                 .where(s.entries.c.kind == CLOSE).order_by(s.entries.c.year))
        if connection is not None:
            return list(connection.execute(query).scalars())
        with self.engine.connect() as c:
            return list(c.execute(query).scalars())

    def close_year(self, year: str) -> YearEnd:
        """Apply the risk share and carry-forward to ``year`` and close it, in one locked transaction
        (so no posting can slip in between the plan and the close)."""
        with write_transaction(self.engine) as connection:
            self._load_accounts(connection)
            state = self._state(connection, [])
            if year in state.closed_years:
                raise RejectedEntries([LedgerError("open_year", f"year-end:{year}:close",
                                                   f"year {year} is already closed")])
            plan = plan_year_end(self.rules, year, state.balances, state.accounts)
            self._append_locked(connection, list(plan.entries), True)
        return plan

    def state(self) -> LedgerState:
        """The books as the rules see them now (for planning a close)."""
        with self.engine.connect() as connection:
            self._load_accounts(connection)
            return self._state(connection, [])

    def head(self) -> tuple[int, str]:
        with self.engine.connect() as connection:
            row = connection.execute(select(s.chain_head.c.seq, s.chain_head.c.hash)).first()
        if row is None:
            raise BooksUnavailable(f"the books at {describe_url(self.url)} have lost their chain head record: "
                                   "run `devolve ledger verify`")
        return int(row[0]), row[1]

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _indexes_rebuilt_after(connection: Connection, table, *, rebuild: bool) -> Iterator[None]:
    """With ``rebuild`` (SQLite, a batch bigger than the books), drop the table's secondary indexes,
    let the caller insert, and create them again with the same definitions — in the caller's
    database transaction, so the end state is the same and a crash leaves the indexes as they were.
    Building an index once over sorted keys is cheaper than updating it row by row."""
    names = [index.name for index in table.indexes]
    if not rebuild or not names:
        yield
        return
    found = connection.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table.name}' "
        f"AND name IN ({', '.join('?' * len(names))})", tuple(names)).all()
    for name, _ in found:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    for _, sql in found:
        connection.exec_driver_sql(sql)


ROWS_PER_INSERT = 100        # rows of a multi-row INSERT for narrow rows (postings)


def _insert(table, columns: Sequence[str], rows: int = 1) -> str:
    """``INSERT INTO table (columns) VALUES (?, …), …`` for ``rows`` rows."""
    row = f"({', '.join(['?'] * len(columns))})"
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {', '.join([row] * rows)}"


def _put_flat(writer: RowWriter, table, columns: Sequence[str], values: list) -> None:
    """Insert rows given as one flat list (each row's ``columns`` in turn), ``ROWS_PER_INSERT`` rows a
    statement: for narrow rows, most of the cost of a one-row INSERT is the statement, not the row."""
    width = len(columns)
    step = width * ROWS_PER_INSERT
    whole = len(values) - len(values) % step
    if whole:
        writer.put_sql(_insert(table, columns, ROWS_PER_INSERT), [values[i:i + step] for i in range(0, whole, step)])
    if whole < len(values):
        writer.put_sql(_insert(table, columns, (len(values) - whole) // width), [values[whole:]])


_UPSERT = ("INSERT INTO balances (account_id, year, balance, postings) VALUES (?, ?, ?, ?) "
           "ON CONFLICT (account_id, year) DO UPDATE SET balance = balances.balance + excluded.balance, "
           "postings = balances.postings + excluded.postings")


