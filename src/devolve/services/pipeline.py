"""The main job's computing half (`devolve run`): the whole pipeline that exists, stage by stage.

deal → neighbourhoods (and the estate) → fair shares → five-year forecast (do-nothing and the plan)
→ outcomes and inequalities → hospital discharge flow → the portfolio of schemes → the books and
the board's decisions.
Each stage returns the engine's own result object; writing files is `devolve.interfaces.report`'s job.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devolve.domain.records import Deal
from devolve.services import allocation, flow, forecast, governance, indicators, ledger, optimise, places
from devolve.services.deals import deal_summary, load

Progress = Callable[[str], None]

#: The stages of the main job, in order (the CLI shows them as a progress bar).
STAGES = (
    "load and validate the deal",
    "summarise the deal",
    "draw neighbourhoods and site hubs",
    "review the public estate",
    "allocate the pooled budget",
    "forecast the five-year plan",
    "measure outcomes and inequalities",
    "simulate hospital discharge",
    "choose the portfolio of schemes",
    "keep the books and the board's decisions",
)


@dataclass(frozen=True)
class RunSettings:
    """How much work the main job does: Monte Carlo runs, discharge replications, the seed."""

    runs: int = 500
    replications: int = 200
    seed: int = 0
    db_url: str | None = None   # the books; default: a SQLite file beside the report


@dataclass
class RunResult:
    deal: Deal
    summary: dict[str, Any]
    neighbourhoods: Any = None
    estate: Any = None
    allocation: Any = None
    allocation_neighbourhoods: Any = None
    forecasts: dict[str, Any] = field(default_factory=dict)
    indicators: Any = None
    flow: Any = None
    portfolio: Any = None
    books: dict[str, Any] | None = None
    board: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """Everything the run found, as plain JSON-ready data (the report's summary.json)."""
        return {
            "deal": self.summary,
            "neighbourhoods": self.neighbourhoods.to_json() if self.neighbourhoods else None,
            "estate": self.estate.to_json() if self.estate else None,
            "allocation": self.allocation.to_json() if self.allocation else None,
            "allocation_by_neighbourhood": (self.allocation_neighbourhoods.to_json()
                                            if self.allocation_neighbourhoods else None),
            "forecasts": {name: result.to_json() for name, result in self.forecasts.items()},
            "indicators": self.indicators.to_json() if self.indicators else None,
            "flow": self.flow.to_json() if self.flow else None,
            "portfolio": self.portfolio.to_json() if self.portfolio else None,
            "books": self.books,
            "board": self.board,
        }


def _largest_district(deal: Deal) -> str:
    return max(deal.districts, key=lambda d: d.population).code


def run_pipeline(ref: str | Path, data_dir: str | Path | None = None, progress: Progress | None = None,
                 settings: RunSettings | None = None, books_dir: Path | None = None) -> RunResult:
    """Run every stage on a deal (a built-in id or a pack folder) and return the results."""
    step = progress or (lambda _name: None)
    settings = settings or RunSettings()
    step(STAGES[0])
    deal = load(ref, data_dir)
    step(STAGES[1])
    result = RunResult(deal, deal_summary(deal))
    step(STAGES[2])
    result.neighbourhoods = places.build_neighbourhoods(deal, data_dir=data_dir, seed=settings.seed)
    step(STAGES[3])
    result.estate = places.estate_plan(deal, result.neighbourhoods)
    step(STAGES[4])
    result.allocation = allocation.allocate(deal, level="district")
    result.allocation_neighbourhoods = allocation.allocate(deal, level="neighbourhood",
                                                           assignment=result.neighbourhoods.assignment)
    step(STAGES[5])
    names = forecast.scenario_names(deal)
    for name in ("do-nothing", "plan"):
        if name in names:
            result.forecasts[name] = forecast.run_forecast(deal, scenario=name, runs=settings.runs,
                                                           seed=settings.seed, data_dir=data_dir)
    if not result.forecasts:
        result.forecasts["baseline"] = forecast.run_forecast(deal, runs=settings.runs, seed=settings.seed,
                                                             data_dir=data_dir)
    step(STAGES[6])
    result.indicators = indicators.compute_indicators(deal, level="neighbourhood",
                                                      assignment=result.neighbourhoods.assignment,
                                                      seed=settings.seed)
    step(STAGES[7])
    result.flow = flow.simulate_discharge(deal, district=_largest_district(deal),
                                          replications=settings.replications, seed=settings.seed)
    step(STAGES[8])
    if deal.schemes:
        result.portfolio = optimise.optimise_portfolio(deal, runs=settings.runs, seed=settings.seed)
    step(STAGES[9])
    if settings.db_url:
        db_url = settings.db_url
    else:
        folder = books_dir or Path(tempfile.mkdtemp(prefix="devolve-books-"))
        folder.mkdir(parents=True, exist_ok=True)
        db_url = f"sqlite:///{(folder / 'books.db').resolve()}"
        (folder / "books.db").unlink(missing_ok=True)
    ledger.open_books(db_url, deal.pack_path, demo=True, data_dir=data_dir)
    result.books = {**ledger.books_summary(db_url), "verified": ledger.verify(db_url)["ok"], "db_url": db_url}
    check = governance.verify(db_url)
    result.board = {"decisions": governance.decisions(db_url), "verified": check["ok"], "entries": check["entries"],
                    "head_hash": check["head_hash"], "rules": governance.members(deal.pack_path, data_dir=data_dir)}
    return result
