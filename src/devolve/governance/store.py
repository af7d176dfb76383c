"""The decision log in the database the books live in (SQLite by default, PostgreSQL by URL).

Appends are serialised by the same means as the books': on SQLite the writer takes the write lock
at ``BEGIN IMMEDIATE``; on PostgreSQL it locks the ``board`` row (``SELECT … FOR UPDATE``). A writer
replays the log under the lock, checks what it is about to record against that state, and writes
its entries and the new head in one database transaction — so two people voting at once never
both pass a check only one of them should, and a crash leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TypeVar

from sqlalchemy import Connection, Engine, inspect, select, text

from devolve.governance import schema as s
from devolve.governance.log import BoardState, LogEntry, hash_entries, replay
from devolve.governance.records import BoardRules, GovernanceError
from devolve.ledger.database import (
    BooksUnavailable,
    check_reachable,
    current_revision,
    describe_url,
    head_revision,
    is_sqlite,
    make_engine,
    migrate,
)
from devolve.ledger.hashing import GENESIS, verify_chain

T = TypeVar("T")
#: What a write computes from the board's state under the lock: entries to append, and a result.
Step = Callable[[BoardState, int], tuple[list[LogEntry], T]]


class BoardLog:
    """The decision log of one deal's board in one database."""

    def __init__(self, engine: Engine, url: str):
        self.engine = engine
        self.url = url

    @classmethod
    def connect(cls, url: str) -> BoardLog:
        engine = make_engine(url, create=False)
        check_reachable(engine, url)
        return cls(engine, url)

    def exists(self) -> bool:
        with self.engine.connect() as connection:
            if not inspect(connection).has_table("board"):
                return False
            return connection.execute(select(s.board.c.id)).first() is not None

    def setup(self, rules: BoardRules, on: date) -> bool:
        """Record the board and its rules as the log's first entry (once); whether it was set up now."""
        migrate(self.engine)
        with self._locked() as connection:
            row = connection.execute(select(s.board.c.deal_id)).first()
            if row is not None:
                if row.deal_id != rules.deal_id:
                    raise BooksUnavailable(f"the board at {describe_url(self.url)} is {row.deal_id}'s, "
                                           f"not {rules.deal_id}'s")
                return False
            [(entry, body, digest)] = hash_entries([LogEntry(1, "board", None, on, {"rules": rules.to_dict()})], GENESIS)
            connection.execute(s.board.insert().values(id=1, deal_id=rules.deal_id, rules_json=rules.to_json(),
                                                       seq=1, hash=digest))
            connection.execute(s.board_log.insert().values(seq=1, event="board", proposal=None, at=on.isoformat(),
                                                           body=body, hash=digest))
        return True

    def _check_schema(self, connection: Connection) -> None:
        if not inspect(connection).has_table("board") or connection.execute(select(s.board.c.id)).first() is None:
            raise BooksUnavailable(f"there is no board at {describe_url(self.url)}: run `devolve ledger init DEAL` "
                                   "(it sets up the books and the board) first")
        if current_revision(connection) != head_revision():
            raise BooksUnavailable(f"the database at {describe_url(self.url)} has an older schema: "
                                   "run `devolve ledger init DEAL` to migrate it")

    @contextmanager
    def _locked(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            connection.execution_options(books_write=True)     # SQLite: BEGIN IMMEDIATE
            with connection.begin():
                if not is_sqlite(self.engine):
                    connection.execute(text("SELECT pg_advisory_xact_lock(7510240618)"))
                yield connection

    def entries(self, connection: Connection | None = None) -> list[LogEntry]:
        if connection is None:
            with self.engine.connect() as c:
                self._check_schema(c)
                return self.entries(c)
        rows = connection.execute(select(s.board_log.c.body).order_by(s.board_log.c.seq))
        return [LogEntry.from_body(r.body) for r in rows]

    def state(self) -> BoardState:
        return replay(self.entries())

    def write(self, step: Step[T]) -> T:
        """Run ``step`` on the board's state under the write lock and append what it returns."""
        with self._locked() as connection:
            self._check_schema(connection)
            head = connection.execute(select(s.board.c.seq, s.board.c.hash)).first()
            state = replay(self.entries(connection))
            if state.seq != head.seq:
                raise GovernanceError("the decision log and its head record disagree: run `devolve board verify`")
            new, result = step(state, int(head.seq) + 1)
            if new:
                hashed = hash_entries(new, head.hash)
                connection.execute(s.board_log.insert(), [
                    {"seq": e.seq, "event": e.event, "proposal": e.proposal, "at": e.at.isoformat(), "body": body,
                     "hash": digest} for e, body, digest in hashed])
                connection.execute(s.board.update().where(s.board.c.id == 1)
                                   .values(seq=hashed[-1][0].seq, hash=hashed[-1][2]))
            return result

    def verify(self, expect_hash: str | None = None):
        """Recompute the chain (and check each stored row's columns against its hashed body)."""
        with self.engine.connect() as connection:
            self._check_schema(connection)
            head = connection.execute(select(s.board.c.seq, s.board.c.hash)).first()
            rows = list(connection.execute(select(s.board_log.c.seq, s.board_log.c.event, s.board_log.c.proposal,
                                                  s.board_log.c.at, s.board_log.c.body, s.board_log.c.hash)
                                           .order_by(s.board_log.c.seq)))
        result = verify_chain(((r.seq, r.body, r.hash) for r in rows), expect_head=(int(head.seq), head.hash),
                              expect_hash=expect_hash)
        if result.ok:
            for r in rows:
                e = LogEntry.from_body(r.body)
                if (e.seq, e.event, e.proposal, e.at.isoformat()) != (r.seq, r.event, r.proposal, r.at):
                    return result.__class__(False, result.entries, result.head_hash, r.seq,
                                            f"entry {r.seq}'s columns do not match its hashed content")
        return result

    def dispose(self) -> None:
        self.engine.dispose()
