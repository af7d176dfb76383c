"""The forecast use case: a deal and a scenario in, Monte Carlo runs on this machine or on Dask, tables out.

:func:`run_forecast` loads what the engine needs (the deal's scenario, ONS cohort rates when the
official estimates are in the data folder), builds the model once, runs the runs in fixed chunks of
run indices — here, on a local Dask cluster (``workers``) or on an existing one (``scheduler``) — and
summarises. The chunks are the same whatever runs them, and a run's numbers depend only on the seed
and its index, so the results are identical on 1 worker or many.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from devolve.data import readers
from devolve.data.location import resolve_data_dir
from devolve.domain.errors import DataSourceError, InputError, ParameterError, ScenarioError
from devolve.domain.parameters import ParameterSet
from devolve.domain.records import Deal
from devolve.domain.scenario import Scenario
from devolve.engines.forecast import (Forecast, ForecastModel, RunArrays, build_model, central_cells,
                                      cohort_rates_from_estimates, parse_bands, scheme_parameters, simulate,
                                      summarise)
from devolve.packs.scenarios import apply_scenario, read_scenario
from devolve.services.deals import load

#: Runs per chunk, at most and at least (see :func:`chunks`): the chunks depend on the number of runs alone,
#: so the same runs are computed together on any number of workers.
CHUNK_RUNS = 125
MIN_CHUNK_RUNS = 32
SCHEDULER_TIMEOUT = "15s"
MAX_RUNS = 1_000_000
MYE_SOURCE = "ons-mye-2015-2016"
MYE_BASE_YEAR = 2015
#: Published figures a forecast is compared with, when the deal carries them (fact id → scenario).
PUBLISHED = {"do_nothing_gap_2020_21": "do-nothing", "modelled_deficit_2020_21": "plan"}

#: The parameter families the forecast reads (calibrated ones among them are listed in its results).
FORECAST_PREFIXES = ("growth.", "inflation.", "unit_costs.", "population.", "forecast.", "fiscal.", "workforce.",
                     "schemes.")

Progress = Callable[[int, int], None]
_PARAMETER_ITEM = re.compile(r"^\d+ of \d+ national or deal parameters")


@dataclass(frozen=True)
class ForecastResult:
    """A finished forecast: the engine's tables plus what produced them."""

    deal: Deal
    scenario: Scenario
    forecast: Forecast
    model: ForecastModel
    workers: int | None           # local Dask workers (None: this process, or an existing cluster)
    scheduler: str | None
    seconds: float
    calibrated: tuple[str, ...] = field(default=())
    neighbourhoods: pl.DataFrame | None = None
    model_parameters: ParameterSet = field(default_factory=ParameterSet)

    @property
    def years(self) -> pl.DataFrame:
        return self.forecast.years

    @property
    def runs(self) -> pl.DataFrame:
        return self.forecast.run_table

    @property
    def decomposition(self) -> pl.DataFrame:
        return self.forecast.decomposition

    @property
    def execution(self) -> str:
        if self.scheduler is not None:
            return "dask scheduler"
        return "local dask cluster" if self.workers is not None else "this process"

    @property
    def synthetic_parameters(self) -> list[str]:
        """The synthetic parameters the forecast reads (scenario changes included)."""
        parameters = self.model_parameters
        return sorted(p for p in parameters if p.startswith(FORECAST_PREFIXES) and parameters[p].synthetic)

    @property
    def synthetic_inputs(self) -> list[str]:
        """What in the forecast's inputs is synthetic, in words (the deal's list, with its parameters
        narrowed to those the forecast reads)."""
        items = [item for item in self.deal.synthetic_items if not _PARAMETER_ITEM.match(item)]
        count = len(self.synthetic_parameters)
        if count:
            items.append(f"{count} of the parameters the forecast reads (listed in synthetic_parameters)")
        return items

    def published_comparison(self) -> list[dict[str, Any]]:
        rows = []
        years = self.forecast.years
        for fact in self.deal.facts:
            if fact.id not in PUBLISHED or fact.value is None or fact.year is None:
                continue
            match = years.filter(pl.col("year") == fact.year.label)
            if match.height == 0:
                continue
            modelled = float(match["gap_p50_gbp"][0])
            rows.append({"fact": fact.id, "text": fact.text, "year": fact.year.label, "source": fact.source,
                         "published_gbp": fact.value, "compare_with_scenario": PUBLISHED[fact.id],
                         "this_scenario": self.scenario.name, "modelled_gap_p50_gbp": round(modelled, 2),
                         "difference_share": round(modelled / fact.value - 1.0, 4)})
        return rows

    def to_json(self) -> dict[str, Any]:
        """The `devolve forecast --json` contract (pounds; shares 0..1)."""
        f = self.forecast
        last = f.years.row(-1, named=True)
        decomposition = [{"driver": r["driver"], "gbp": r["gbp"], "p10_gbp": round(r["p10_gbp"], 2),
                          "p50_gbp": round(r["p50_gbp"], 2), "p90_gbp": round(r["p90_gbp"], 2)}
                         for r in f.decomposition.iter_rows(named=True)]
        levers = self.model.levers
        residents = f.run_table.group_by("year", maintain_order=True).agg(
            pl.col("residents").quantile(0.1, "linear").alias("p10"),
            pl.col("residents").median().alias("p50"), pl.col("residents").quantile(0.9, "linear").alias("p90"))
        return {
            "deal": self.deal.id,
            "scenario": self.scenario.name,
            "scenario_description": self.scenario.description,
            "scenario_changes": [{"path": c.path, "from": c.start.isoformat(), "value": c.value, "note": c.note}
                                 for c in self.scenario.changes],
            "runs": f.runs,
            "seed": f.seed,
            "execution": self.execution,
            "workers": self.workers,
            "scheduler": self.scheduler,
            "seconds": round(self.seconds, 3),
            "years": _records(f.years),
            "probability_of_balance": f.probability_of_balance,
            "probability_within_carry_forward_limits": f.probability_within_limits,
            "carry_forward_limit": self.model.carry_forward_limit,
            "final_year": last["year"],
            "decomposition": decomposition,
            "decomposition_total_gbp": float(f.decomposition["pence"].sum()) / 100,
            "schemes": _records(f.schemes),
            "levers": {
                "health_tax": {"active": levers.tax_on,
                               "precept_gbp_per_band_d": levers.precept_gbp_per_band_d.tolist(),
                               "levy_gbp_per_working_age_resident": levers.levy_gbp_per_working_age.tolist()},
                "rates_discount": {"active": levers.discount_on, "discount": levers.discount.tolist(),
                                   "demand_lines": list(levers.demand_lines)},
                "by_year": _records(f.levers),
            },
            "activity": _records(f.activity),
            "workforce": _records(f.workforce),
            "workforce_cover": _records(f.workforce_cover),
            "population": _records(residents),
            "places": {"level": f.places["level"][0] if f.places.height else None, "count": f.places.height},
            "calibration": {
                "baseline_reconciled": self.model.assumptions.reconcile,
                "factor_p50": f.calibration_p50,
                "meaning": "each pound of modelled first-year cost is scaled by this factor so that the first year's "
                           "do-nothing spend equals the pooled budget (docs/method/forecast.md)",
                "calibrated_parameters": list(self.calibrated),
            },
            "published_figures": self.published_comparison(),
            "notes": list(self.model.assumptions.notes),
            "data": "synthetic" if self.deal.is_synthetic else "real",
            "data_sources": dict(self.deal.data),
            "synthetic_inputs": self.synthetic_inputs,
            "synthetic_parameters": self.synthetic_parameters,
        }


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    rows = frame.to_dicts()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float):
                row[key] = round(value, 4) if abs(value) < 1000 else round(value, 2)
    return rows


def scenario_names(deal: Deal) -> list[str]:
    folder = Path(deal.pack_path) / "scenarios"
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def resolve_scenario(deal: Deal, refs: str | Path | Scenario | Sequence[str | Path] | None) -> Scenario:
    """Scenario names of the deal's pack (``scenarios/NAME.yaml``) or file paths, combined with ``+``."""
    if refs is None:
        return Scenario.baseline()
    if isinstance(refs, Scenario):
        return refs
    items = [refs] if isinstance(refs, (str, Path)) else list(refs)
    combined = Scenario.baseline()
    for ref in items:
        path = Path(ref).expanduser()
        named = Path(deal.pack_path) / "scenarios" / f"{ref}.yaml"
        if path.is_file():
            scenario = read_scenario(path, default_start=deal.start)
        elif isinstance(ref, str) and named.is_file():
            scenario = read_scenario(named, default_start=deal.start)
        else:
            known = ", ".join(scenario_names(deal)) or "none"
            raise ScenarioError(f"scenario '{ref}' is neither a file nor a scenario of {deal.id} (its scenarios: {known})")
        combined = combined + scenario
    return combined


def cohort_rates(deal: Deal, data_dir: str | Path | None) -> pl.DataFrame | None:
    """District cohort rates from ONS mid-year estimates, when the deal was loaded with them."""
    if deal.data.get(MYE_SOURCE) != "real":
        return None
    folder, _ = resolve_data_dir(data_dir)
    path = readers.locate(MYE_SOURCE, folder)
    if path is None:
        return None
    try:
        estimates = readers.read_mid_year_estimates(path)
    except DataSourceError:
        return None
    return cohort_rates_from_estimates(estimates, parse_bands(deal.age_bands), MYE_BASE_YEAR)


def prepare(deal: Deal, scenario: Scenario, data_dir: str | Path | None = None) -> ForecastModel:
    """The model of ``deal`` with ``scenario`` in force (bad scenarios raise :class:`ScenarioError`)."""
    with_schemes = replace(deal, parameters=deal.parameters.merged(scheme_parameters(deal)))
    applied = apply_scenario(with_schemes, scenario)
    try:
        return build_model(applied, applied.parameters, cohort_rates=cohort_rates(deal, data_dir))
    except ParameterError as exc:
        if scenario.is_baseline:
            raise
        raise ScenarioError(f"scenario '{scenario.name}': {exc}") from None


def chunks(runs: int) -> list[np.ndarray]:
    """Runs in chunks of at most :data:`CHUNK_RUNS`, shrinking to a quarter of the runs left (never under
    :data:`MIN_CHUNK_RUNS`), so that workers finish together; the chunks depend on ``runs`` alone."""
    out, start = [], 0
    while start < runs:
        size = min(CHUNK_RUNS, max(MIN_CHUNK_RUNS, -(-(runs - start) // 4)))
        out.append(np.arange(start, min(start + size, runs)))
        start += size
    return out


def run_chunks(model: ForecastModel, runs: int, seed: int, *, workers: int | None = None,
               scheduler: str | None = None, progress: Progress | None = None) -> RunArrays:
    """All runs, chunk by chunk: here (no workers, no scheduler) or on Dask."""
    parts = chunks(runs)
    report = progress or (lambda done, total: None)
    if workers is None and scheduler is None:
        results, done = [], 0
        for part in parts:
            results.append(simulate(model, part, seed))
            done += part.size
            report(done, runs)
        return RunArrays.concat(results)
    return _on_dask(model, parts, seed, runs, workers, scheduler, report)


def local_cluster(workers: int):
    """A local Dask cluster of ``workers`` single-threaded processes, for batch runs: no dashboard; the
    workers' statistical profiler off (it samples the kernel's thread every 10 ms and nobody reads it);
    and glibc's own malloc tuning kept (Dask sets ``MALLOC_TRIM_THRESHOLD_``, which also fixes the mmap
    threshold, so every array the kernel makes would be fresh pages: about a tenth of its time in page
    faults)."""
    import dask
    from dask.distributed import LocalCluster

    with dask.config.set({"distributed.worker.profile.enabled": False,
                          "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                            silence_logs=logging.ERROR)


def _on_dask(model, parts, seed, runs, workers, scheduler, report) -> RunArrays:
    from dask.distributed import Client, as_completed

    cluster = None
    try:
        if scheduler is not None:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
        else:
            cluster = local_cluster(workers)
            client = Client(cluster)
    except (OSError, TimeoutError, ValueError) as exc:
        where = f"the Dask scheduler at {scheduler}" if scheduler else f"a local Dask cluster of {workers} workers"
        raise InputError(f"cannot start or reach {where}: {exc}") from None
    try:
        # the model goes once to one worker (others fetch it from there), without hashing its 20 MB
        shared = client.scatter(model, broadcast=False, hash=False)
        futures = client.map(simulate, [shared] * len(parts), parts, [seed] * len(parts), pure=False)
        size = {future.key: part.size for future, part in zip(futures, parts)}
        done = 0
        for future in as_completed(futures):          # progress only: the results come in one gather
            done += size[future.key]
            report(done, runs)
        return RunArrays.concat(client.gather(futures))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def check_arguments(*, runs: int, seed: int, workers: int | None, scheduler: str | None) -> None:
    """Refuse impossible run settings before any work is done."""
    if not 1 <= runs <= MAX_RUNS:
        raise InputError(f"runs must be between 1 and {MAX_RUNS:,}; got {runs}")
    if seed < 0:
        raise InputError(f"the seed must be a whole number, not negative; got {seed}")
    if workers is not None and scheduler is not None:
        raise InputError("give either --workers (a local cluster) or --scheduler (an existing one), not both")
    if workers is not None and not 1 <= workers <= 256:
        raise InputError(f"workers must be between 1 and 256; got {workers}")


def run_forecast(deal: Deal | str | Path, *, scenario: Scenario | str | Path | Sequence[str | Path] | None = None,
                 runs: int = 1000, seed: int = 0, workers: int | None = None, scheduler: str | None = None,
                 progress: Progress | None = None, neighbourhoods: pl.DataFrame | None = None,
                 data_dir: str | Path | None = None) -> ForecastResult:
    """Forecast ``deal`` under ``scenario`` with ``runs`` Monte Carlo runs from ``seed``.

    ``workers`` runs on a local Dask cluster of that many processes; ``scheduler`` on an existing
    cluster (address such as ``tcp://10.0.0.5:8786``); neither: in this process. ``progress`` is
    called with (runs done, runs in all). ``neighbourhoods`` (columns ``area``, ``neighbourhood``)
    groups the places table.
    """
    check_arguments(runs=runs, seed=seed, workers=workers, scheduler=scheduler)
    if neighbourhoods is not None and not {"area", "neighbourhood"} <= set(neighbourhoods.columns):
        raise InputError("the neighbourhood assignment needs columns 'area' and 'neighbourhood'")
    loaded = deal if isinstance(deal, Deal) else load(deal, data_dir)
    chosen = resolve_scenario(loaded, scenario)
    started = time.perf_counter()
    model = prepare(loaded, chosen, data_dir)
    arrays = run_chunks(model, runs, seed, workers=workers, scheduler=scheduler, progress=progress)
    with_scenario = apply_scenario(replace(loaded, parameters=loaded.parameters.merged(scheme_parameters(loaded))),
                                   chosen)
    forecast = summarise(model, with_scenario.parameters, arrays, seed, central_cells(model),
                         loaded.small_areas["code"].to_list(), neighbourhoods)
    calibrated = tuple(path for path in with_scenario.parameters if path.startswith(FORECAST_PREFIXES)
                       and "calibrated" in with_scenario.parameters[path].source)
    return ForecastResult(loaded, chosen, forecast, model, workers, scheduler, time.perf_counter() - started,
                          calibrated, neighbourhoods, with_scenario.parameters)


def read_neighbourhoods(path: str | Path) -> pl.DataFrame:
    """A neighbourhood assignment file: CSV with columns ``area`` (small-area code) and ``neighbourhood``."""
    file = Path(path).expanduser()
    try:
        frame = pl.read_csv(file, infer_schema_length=0)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"cannot read the neighbourhood assignment {file}: {exc}") from None
    missing = [c for c in ("area", "neighbourhood") if c not in frame.columns]
    if missing:
        raise InputError(f"{file.name}: expected columns 'area' and 'neighbourhood'; missing '{missing[0]}'")
    return frame.select("area", "neighbourhood")


def place_shapes(result: ForecastResult, data_dir: str | Path | None = None):
    """The places' shapes (GeoDataFrame ``id``, ``geometry``; EPSG:27700) from the real LSOA
    boundaries, dissolved to neighbourhoods when the places are neighbourhoods; ``None`` for
    synthetic small areas or without a boundary file."""
    places = result.forecast.places
    if result.deal.small_areas["synthetic"].any() or places.height == 0:
        return None
    folder, _ = resolve_data_dir(data_dir)
    path = readers.locate("lsoa11-boundaries", folder)
    if path is None:
        return None
    from devolve.data.boundaries import read_lsoa_boundaries

    codes = result.deal.small_areas["code"].to_list()
    shapes = read_lsoa_boundaries(path, codes)
    if len(shapes) != len(codes):
        return None
    if places["level"][0] == "small area":
        shapes["id"] = shapes["code"]
        return shapes[["id", "geometry"]]
    return None if result.neighbourhoods is None else _dissolve(shapes, result.neighbourhoods)


def _dissolve(shapes, neighbourhoods: pl.DataFrame):
    assignment = dict(neighbourhoods.select("area", "neighbourhood").iter_rows())
    shapes["id"] = [assignment.get(code, code) for code in shapes["code"]]
    return shapes[["id", "geometry"]].dissolve(by="id", as_index=False)
