"""What a long-running process (the web app) keeps per deal: the loaded deal and the results that
take seconds to compute — neighbourhoods, fair shares, forecasts, indicators — computed once, on
first use, and shared by every request.

Each result is computed under its own lock, so concurrent first requests wait for one computation
instead of starting several. Forecasts are kept in a small least-recently-used cache (a scenario
run with many runs is large). Nothing here writes files.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from devolve.domain.errors import InputError
from devolve.domain.records import Deal
from devolve.engines.allocate import LEVELS as ALLOCATION_LEVELS
from devolve.packs.loader import builtin_deals, load_deal
from sqlalchemy import exc, select
from sqlalchemy.engine import make_url

from devolve.ledger import schema as books_tables
from devolve.ledger.database import is_sqlite, make_engine, normalise_url
from devolve.ledger.reports import BY
from devolve.ledger.store import BooksUnavailable
from devolve.services import allocation, forecast, indicators, ledger, places
from devolve.services.deals import deal_summary

DEFAULT_RUNS = 500
MAX_RUNS = 20_000            # the web app's limit for one forecast (the CLI allows more)
FORECAST_CACHE = 16
FORECAST_PROGRESS = Callable[[int, int], None]


class UnknownDeal(InputError):
    """The deal asked for is not one this app serves."""


class Memo:
    """Values computed once per key, one computation at a time per key; optionally bounded (LRU)."""

    def __init__(self, limit: int | None = None):
        self.limit = limit
        self.values: OrderedDict[Hashable, Any] = OrderedDict()
        self.locks: dict[Hashable, threading.Lock] = {}
        self.guard = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self.guard:
            if key in self.values:
                self.values.move_to_end(key)
                return self.values[key]
            lock = self.locks.setdefault(key, threading.Lock())
        with lock:
            with self.guard:
                if key in self.values:
                    return self.values[key]
            value = compute()
            with self.guard:
                self.values[key] = value
                self.locks.pop(key, None)
                if self.limit is not None:
                    while len(self.values) > self.limit:
                        self.values.popitem(last=False)
            return value

    def peek(self, key: Hashable) -> Any:
        with self.guard:
            return self.values.get(key)


class DealWorkspace:
    """One deal's results, computed on first use and kept."""

    def __init__(self, ref: str | Path | Deal, *, data_dir: str | Path | None = None, seed: int = 0):
        self.ref = ref.pack_path if isinstance(ref, Deal) else ref
        self.data_dir = data_dir
        self.seed = seed
        self._memo = Memo()
        self._forecasts = Memo(FORECAST_CACHE)
        if isinstance(ref, Deal):
            self._memo.get("deal", lambda: ref)

    @property
    def deal(self) -> Deal:
        return self._memo.get("deal", lambda: load_deal(self.ref, data_dir=self.data_dir))

    def summary(self) -> dict[str, Any]:
        return self._memo.get("summary", lambda: deal_summary(self.deal))

    # ---- places ----------------------------------------------------------------------------------
    def neighbourhoods(self) -> places.NeighbourhoodResult:
        return self._memo.get("neighbourhoods", lambda: places.build_neighbourhoods(
            self.deal, data_dir=self.data_dir, seed=self.seed))

    def neighbourhoods_json(self) -> dict[str, Any]:
        return self._memo.get("neighbourhoods.json", lambda: self.neighbourhoods().to_json())

    # ---- fair shares -----------------------------------------------------------------------------
    def year_label(self, year: str | None) -> str:
        """A financial year of the deal (its first by default), as ``2016/17``."""
        labels = [y.label for y in self.deal.financial_years]
        if year in (None, ""):
            return labels[0]
        for label in labels:
            if str(year).strip() in (label, label.replace("/", "-"), label[:4]):
                return label
        raise InputError(f"year '{year}' is not a year of {self.deal.id} ({labels[0]} to {labels[-1]})")

    def allocation(self, level: str = "district", year: str | None = None):
        if level not in ALLOCATION_LEVELS:
            raise InputError(f"level '{level}' is not one of {', '.join(ALLOCATION_LEVELS)}")
        label = self.year_label(year)

        def compute():
            assignment = self.neighbourhoods().assignment if level == "neighbourhood" else None
            return allocation.allocate(self.deal, year=label, level=level, assignment=assignment)

        return self._memo.get(("allocation", level, label), compute)

    def allocation_json(self, level: str = "district", year: str | None = None) -> dict[str, Any]:
        label = self.year_label(year)
        return self._memo.get(("allocation.json", level, label), lambda: self.allocation(level, label).to_json())

    def allocation_shapes(self, level: str):
        """The units' shapes for maps (``None`` when there are none to draw), per level."""
        return self._memo.get(("shapes", level), lambda: allocation.unit_shapes(self.allocation(level),
                                                                                self.data_dir))

    # ---- forecasts -------------------------------------------------------------------------------
    def scenario_names(self) -> list[str]:
        return self._memo.get("scenarios", lambda: forecast.scenario_names(self.deal))

    def default_scenario(self) -> tuple[str, ...]:
        names = self.scenario_names()
        return ("plan",) if "plan" in names else ()

    def check_forecast(self, scenarios: tuple[str, ...], runs: int, seed: int) -> tuple[str, ...]:
        """Refuse unknown scenarios and run settings outside the web app's limits, before any work."""
        known = self.scenario_names()
        unknown = [s for s in scenarios if s not in known]
        if unknown:
            raise InputError(f"scenario '{unknown[0]}' is not a scenario of {self.deal.id} "
                             f"(its scenarios: {', '.join(known) or 'none'})")
        if not 1 <= int(runs) <= MAX_RUNS:
            raise InputError(f"runs must be between 1 and {MAX_RUNS:,} here; got {runs}")
        if not 0 <= int(seed) < 2**32:
            raise InputError(f"the seed must be a whole number from 0 to {2**32 - 1}; got {seed}")
        return tuple(scenarios)

    def forecast(self, scenarios: tuple[str, ...] | None = None, runs: int = DEFAULT_RUNS, seed: int | None = None,
                 progress: FORECAST_PROGRESS | None = None) -> forecast.ForecastResult:
        """The forecast under the named scenarios combined in order (the deal's plan by default)."""
        chosen = self.default_scenario() if scenarios is None else tuple(scenarios)
        seed = self.seed if seed is None else int(seed)
        self.check_forecast(chosen, runs, seed)
        key = (chosen, int(runs), seed)
        return self._forecasts.get(key, lambda: forecast.run_forecast(
            self.deal, scenario=list(chosen) or None, runs=int(runs), seed=seed, progress=progress,
            data_dir=self.data_dir))

    def forecast_json(self, scenarios: tuple[str, ...] | None = None, runs: int = DEFAULT_RUNS,
                      seed: int | None = None) -> dict[str, Any]:
        """:meth:`forecast` as JSON (the ``devolve forecast --json`` contract), kept with it."""
        chosen = self.default_scenario() if scenarios is None else tuple(scenarios)
        seed = self.seed if seed is None else int(seed)
        return self._forecasts.get(("json", chosen, int(runs), seed),
                                   lambda: self.forecast(chosen, runs, seed).to_json())

    # ---- indicators ------------------------------------------------------------------------------
    def indicators(self, level: str = "district") -> indicators.IndicatorsResult:
        if level not in indicators.LEVELS:
            raise InputError(f"level '{level}' is not one of {', '.join(indicators.LEVELS)}")

        def compute():
            assignment = self.neighbourhoods().assignment if level == "neighbourhood" else None
            return indicators.compute_indicators(self.deal, level=level, assignment=assignment, seed=self.seed,
                                                 data_dir=self.data_dir)

        return self._memo.get(("indicators", level), compute)

    def indicators_json(self, level: str = "district") -> dict[str, Any]:
        return self._memo.get(("indicators.json", level), lambda: self.indicators(level).to_json())


class Workspaces:
    """The deals a process serves: the partnership's own (a built-in id or a pack folder) and every
    built-in deal, each with its :class:`DealWorkspace`, created on first use."""

    def __init__(self, home: str | Path | Deal, *, data_dir: str | Path | None = None, seed: int = 0):
        self.data_dir = data_dir
        self.seed = seed
        self._lock = threading.Lock()
        self._spaces: dict[str, DealWorkspace] = {}
        self.home = DealWorkspace(home, data_dir=data_dir, seed=seed)
        self.home_id = self.home.deal.id
        self._spaces[self.home_id] = self.home

    def ids(self) -> list[str]:
        return sorted({self.home_id, *builtin_deals()})

    def get(self, deal_id: str) -> DealWorkspace:
        with self._lock:
            space = self._spaces.get(deal_id)
            if space is None:
                if deal_id not in builtin_deals():
                    raise UnknownDeal(f"there is no deal '{deal_id}' here (deals: {', '.join(self.ids())})")
                space = self._spaces[deal_id] = DealWorkspace(deal_id, data_dir=self.data_dir, seed=self.seed)
            return space


#: The parts of the books' balance that are published (the rest — every account's balance, the open
#: book of providers' costs — is for the partnership's staff and auditors).
PUBLISHED_BOOKS = ("deal", "entries", "transactions", "head_hash", "closed_years", "debits_pence", "credits_pence",
                   "five_year")


class BooksReader:
    """The books' reports, recomputed only when the books change (when their chain head moves).

    Verification is never cached: it re-reads every entry each time, which is its point."""

    def __init__(self, db_url: str):
        self.db_url = db_url
        self.engine = make_engine(db_url)
        self._memo = Memo(64)
        self._lock = threading.Lock()
        self._reader: sqlite3.Connection | None = None
        self.local = is_sqlite(self.engine)     # a SQLite file: the head is read in microseconds

    def _read_head(self):
        if self.local:       # one read-only connection, outside any transaction (WAL: the last commit)
            with self._lock:
                if self._reader is None:
                    path = make_url(normalise_url(self.db_url)).database or ":memory:"
                    self._reader = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
                    self._reader.execute("PRAGMA query_only=ON")
                return self._reader.execute("SELECT seq, hash FROM chain_head WHERE id = 1").fetchone()
        with self.engine.connect() as c:
            return c.execute(select(books_tables.chain_head.c.seq, books_tables.chain_head.c.hash)
                             .where(books_tables.chain_head.c.id == 1)).first()

    def head(self) -> tuple[int, str]:
        """The books' chain head (entries, last hash); every report below is cached by it."""
        try:
            row = self._read_head()
        except (exc.DBAPIError, sqlite3.Error):
            row = None
        if row is None:
            raise BooksUnavailable("there are no books in this database yet: "
                                   "run `devolve ledger --db URL init DEAL` first")
        return int(row[0]), row[1]

    def _cached(self, key: tuple, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return self._memo.get((*key, self.head()), compute)

    def published(self) -> dict[str, Any]:
        """The published accounts: size, head hash, years closed, debits and credits, the five-year position."""
        def compute():
            whole = ledger.balance(self.db_url)
            return {key: whole[key] for key in PUBLISHED_BOOKS}
        return self._cached(("published",), compute)

    def balance(self, by: str = "account", year: str | None = None) -> dict[str, Any]:
        if by not in BY:
            raise InputError(f"by '{by}' is not one of {', '.join(BY)}")
        def compute():
            result = ledger.balance(self.db_url, by=by, year=year)
            result.pop("db", None)
            return result
        return self._cached(("balance", by, year), compute)

    def open_book(self, year: str | None = None) -> dict[str, Any]:
        def compute():
            result = ledger.open_book_report(self.db_url, year=year)
            result.pop("db", None)
            return result
        return self._cached(("open_book", year), compute)

    def verify(self) -> dict[str, Any]:
        result = ledger.verify(self.db_url)
        result.pop("source", None)
        return result

    def dispose(self) -> None:
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
        self.engine.dispose()


__all__ = ["DEFAULT_RUNS", "MAX_RUNS", "PUBLISHED_BOOKS", "BooksReader", "DealWorkspace", "Memo", "UnknownDeal",
           "Workspaces"]
