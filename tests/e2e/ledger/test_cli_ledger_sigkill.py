"""A crash mid-import leaves no partial transaction: `devolve ledger import` is killed with SIGKILL
at random moments, at least ten times (most of them while it holds the books' write lock); after
each kill the books verify, keep their indexes and hold either none or all of the file's
transactions; re-running then completes, exactly once."""

from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from devolve.ledger import accounts as acc
from devolve.ledger.records import BookRules
from devolve.ledger.store import Books
from devolve.packs.synthetic import generate_deal
from devolve.services import ledger as service

TRANSACTIONS = 20_000
KILLS = 10


def write_file(path: Path, rules: BookRules) -> None:
    line = acc.pool_line(next(iter(rules.service_lines)), next(iter(rules.districts)))
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["key", "date", "kind", "partner", "reference", "decision", "description", "account", "debit",
                      "credit"])
        out.writerow(["budget", "2016-04-01", "budget", "", "SYN", "SYN-DEC", "synthetic", acc.budget(line),
                      "1000000.00", ""])
        out.writerow(["budget", "2016-04-01", "budget", "", "SYN", "SYN-DEC", "synthetic", acc.BUDGET_FUNDING, "",
                      "1000000.00"])
        for i in range(TRANSACTIONS):
            day = f"2016-{4 + i % 9:02d}-{1 + i % 28:02d}"
            pounds = f"{1 + i % 50}.{i % 100:02d}"
            out.writerow([f"p{i}", day, "payment", "", f"SYN-{i}", "", "synthetic", acc.actual(line), pounds, ""])
            out.writerow([f"p{i}", day, "payment", "", f"SYN-{i}", "", "synthetic", acc.BANK, "", pounds])


def transactions_in(url: str) -> int:
    books = Books.open(url)
    with books.engine.connect() as c:
        n = c.execute(text("SELECT COUNT(*) FROM entries WHERE kind IN ('budget', 'payment')")).scalar()
    books.dispose()
    return n


def writing(db: Path) -> bool:
    """Whether a writer holds the books' write lock now (the importer is inside its transaction)."""
    probe = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def indexes(db: Path) -> list[tuple]:
    probe = sqlite3.connect(db)
    try:
        return probe.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' "
                             "ORDER BY name").fetchall()
    finally:
        probe.close()


def start_import(url: str, path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "devolve.interfaces.cli.main", "ledger", "--db", url, "import",
                             str(path), "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_sigkill_mid_import_leaves_none_or_all(tmp_path):
    rules = BookRules.from_deal(generate_deal(districts=2, areas_per_district=5, seed=3))
    pristine, db = tmp_path / "pristine.db", tmp_path / "books.db"
    Books.create(f"sqlite:///{pristine}", rules)[0].dispose()
    shutil.copy(pristine, db)
    url = f"sqlite:///{db}"
    path = tmp_path / "big.csv"
    write_file(path, rules)

    # one full run, watching for when the importer takes the write lock and when it is done
    timing = tmp_path / "timing.db"
    shutil.copy(pristine, timing)
    started = time.perf_counter()
    process = start_import(f"sqlite:///{timing}", path)
    locked_at = None
    while process.poll() is None:
        if locked_at is None and writing(timing):
            locked_at = time.perf_counter() - started
        time.sleep(0.02)
    full = time.perf_counter() - started
    assert process.returncode == 0 and locked_at is not None

    rng = random.Random(20160401)
    kills, mid_write, attempts = 0, 0, 0
    while (kills < KILLS or mid_write < 3) and attempts < 30:
        attempts += 1
        process = start_import(url, path)
        if attempts % 3 == 0:                 # now and then at any moment, most likely before the write
            time.sleep(rng.uniform(0, full * 0.98))
        else:                                 # else once the write lock is taken, part of the way through it
            while process.poll() is None and not writing(db):
                time.sleep(0.005)
            time.sleep(rng.uniform(0, (full - locked_at) * 0.8))
        if process.poll() is None:
            inside = writing(db)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=60)
            kills += 1
            mid_write += inside
        present = transactions_in(url)
        assert present in (0, TRANSACTIONS + 1), f"a partial import: {present} transactions"
        assert service.verify(url)["ok"]
        assert indexes(db) == indexes(pristine)       # the import drops and rebuilds one, in its transaction
        if present:                           # that run finished first: start again from empty books
            os.remove(db)
            for extra in (Path(f"{db}-wal"), Path(f"{db}-shm")):
                extra.unlink(missing_ok=True)
            shutil.copy(pristine, db)
    assert kills >= KILLS and mid_write >= 3, (kills, mid_write, attempts)

    done = subprocess.run([sys.executable, "-m", "devolve.interfaces.cli.main", "ledger", "--db", url, "import",
                           str(path), "--json"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert transactions_in(url) == TRANSACTIONS + 1
    again = service.import_file(url, path)
    assert again["added"] == 0 and again["already_in_books"] == TRANSACTIONS + 1
    assert transactions_in(url) == TRANSACTIONS + 1 and service.verify(url)["ok"]
