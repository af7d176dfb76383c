"""Where the books live: a SQLite file by default, PostgreSQL for many users; and their migrations.

* ``sqlite:///path`` (or a plain file path): WAL journal, ``synchronous=FULL``, a generous busy
  timeout; writers take SQLite's write lock at the start (``BEGIN IMMEDIATE``), so they queue
  rather than fail halfway.
* ``postgresql://…`` (or ``postgresql+psycopg://…``): writers lock the single ``chain_head`` row
  (``SELECT … FOR UPDATE``) at the start of their transaction.

Either way one database transaction holds a whole append, so a crash leaves nothing half-written.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url

from devolve.domain.errors import InputError

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 120_000
DEFAULT_URL = "sqlite:///devolve.db"


class BooksUnavailable(InputError):
    """The database cannot be reached, or holds no books (or books of another version)."""


def normalise_url(url: str) -> str:
    """Accept what people type: a file path, ``postgres://``, ``postgresql://`` (psycopg 3 is used)."""
    url = str(url).strip()
    if not url:
        raise InputError("--db is empty: give a SQLite file (sqlite:///books.db) or a PostgreSQL URL")
    if "://" not in url:
        return f"sqlite:///{url}"
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    if scheme not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise InputError(f"--db '{scheme}://…' is not supported: use sqlite:///FILE or postgresql://…")
    return url


def describe_url(url: str) -> str:
    """The URL without any password, for messages."""
    return make_url(normalise_url(url)).render_as_string(hide_password=True)


def make_engine(url: str, *, create: bool = True) -> Engine:
    """An engine for ``url``; with ``create=False`` a SQLite file that does not exist is an error
    (reading must not leave an empty database file behind)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = _sqlite_engine(url)          # a missing folder is its own error
        database = make_url(url).database
        if not create and database and database != ":memory:" and not Path(database).expanduser().exists():
            engine.dispose()
            raise BooksUnavailable(f"there are no books at {describe_url(url)}: run `devolve ledger init DEAL` first")
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).expanduser().resolve().parent
        if not folder.is_dir():
            raise BooksUnavailable(f"the folder {folder} for the books file does not exist")
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None       # we emit BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA cache_size=-131072")   # 128 MiB of page cache for big imports
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get("books_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One database transaction that holds the books' write lock from its first statement.

    The chain head it read under the lock is left in ``connection.info["books_head"]``."""
    with engine.connect() as connection:
        connection.execution_options(books_write=True)
        with connection.begin():
            lock = "" if is_sqlite(engine) else " FOR UPDATE"
            head = connection.execute(text(f"SELECT seq, hash FROM chain_head WHERE id = 1{lock}")).first()
            connection.info["books_head"] = None if head is None else (int(head[0]), head[1])
            try:
                yield connection
            finally:
                connection.info.pop("books_head", None)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The latest schema revision this version of devolve knows (read once from the migrations)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine) -> None:
    """Bring the database to the latest schema (idempotent; safe when several processes race)."""
    config = alembic_config()
    with engine.connect() as connection:
        connection.execution_options(books_write=True)
        with connection.begin():
            if not is_sqlite(engine):
                connection.execute(text("SELECT pg_advisory_xact_lock(7510240616)"))
            if current_revision(connection) == head_revision():
                return
            config.attributes["connection"] = connection
            command.upgrade(config, "head")


def check_reachable(engine: Engine, url: str, attempts: int = 3) -> None:
    """Fail with a clear message (not a traceback) when the database cannot be reached."""
    for attempt in range(attempts):
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return
        except exc.OperationalError as error:
            if attempt + 1 == attempts:
                reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
                raise BooksUnavailable(f"cannot open the books at {describe_url(url)}: {reason}") from None
            time.sleep(0.2 * (attempt + 1))


def placeholder(connection: Connection) -> str:
    """The driver's parameter mark: ``?`` for sqlite3, ``%s`` for psycopg."""
    return "?" if is_sqlite(connection) else "%s"


class RowWriter:
    """Inserts rows through the driver's executemany; for big appends, on a second thread, so that the
    database works while the next chunk is numbered and hashed (one connection, used by one thread
    at a time: the appending thread only computes until :meth:`close`)."""

    def __init__(self, connection: Connection, threaded: bool):
        self.raw = connection.connection.dbapi_connection
        self.mark = placeholder(connection)
        self.error: BaseException | None = None
        self.queue: queue.Queue | None = None
        self.thread = None
        if threaded:
            self.queue = queue.Queue(maxsize=3)
            self.thread = threading.Thread(target=self._run, name="books-writer", daemon=True)
            self.thread.start()

    def put(self, table, rows: list[tuple]) -> None:
        if rows:
            columns = [c.name for c in table.columns]
            self.put_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
                         f"({', '.join(['?'] * len(columns))})", rows)

    def put_sql(self, sql: str, rows: list[tuple]) -> None:
        if self.error is not None:
            raise self.error
        sql = sql.replace("?", self.mark)
        if self.queue is None:
            self._execute(sql, rows)
        else:
            self.queue.put((sql, rows))

    def _execute(self, sql: str, rows: list[tuple]) -> None:
        cursor = self.raw.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is None:
                try:
                    self._execute(*item)
                except BaseException as exc:   # handed to the appending thread by put/close
                    self.error = exc

    def close(self) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None
        if self.error is not None:
            error, self.error = self.error, None
            raise error
