"""What every benchmark records about where and how it ran: the machine, its load, peak memory, and
calibrations that let runs on different (or busier) machines be compared. Imported by the benchmark
scripts (``make bench`` skips files starting with ``_``)."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import time


def machine(**extra) -> dict:
    """Where the benchmark ran: enough to compare results between machines (plus ``extra`` fields)."""
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "python": platform.python_version(),
            "implementation": platform.python_implementation(), **extra}


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def cpu_calibration_s() -> float:
    """Seconds this machine takes for a fixed piece of pure-Python work (median of three), so runs on
    different machines can be compared."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        sum(range(10**7))
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def sqlite_calibration_s() -> float:
    """Seconds this machine takes for a fixed piece of SQLite work (median of three): 200,000 rows of
    four values through ``executemany`` into an in-memory table. It is memory-bound, like the ledger's
    import, and slows more than :func:`cpu_calibration_s` when other jobs share the machine."""
    import sqlite3
    rows = [(i, i % 7, f"account-{i % 300}", i * 37) for i in range(200_000)]
    times = []
    for _ in range(3):
        db = sqlite3.connect(":memory:")
        db.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b INTEGER, c TEXT, d INTEGER)")
        started = time.perf_counter()
        db.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
        db.commit()
        times.append(time.perf_counter() - started)
        db.close()
    return round(statistics.median(times), 3)
