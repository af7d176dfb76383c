"""Use cases of fair shares: allocate a deal's pool (with a scenario, at any level), the unit
shapes for maps, and the check against NHS England's own target allocations.

Computing only: writing tables, charts, maps and workbooks is left to
:mod:`devolve.interfaces.report.allocation` and the CLI.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from devolve.data import readers
from devolve.data.location import resolve_data_dir
from devolve.domain.errors import DataSourceError, InputError
from devolve.domain.records import Deal
from devolve.domain.scenario import ParameterChange, Scenario
from devolve.engines.allocate import LEVELS, AllocationResult
from devolve.engines.allocate import allocate as allocate_engine
from devolve.engines.allocate import validation
from devolve.packs import loader
from devolve.packs import scenarios
from devolve.packs.scenarios import apply_scenario, read_scenario

Progress = Callable[[str], None]
LSOA_CODE = r"^[EW]01[0-9]{6}$"
PRACTICE_COLUMNS = {"CCG": "ccg", "CCG19": "ccg_name", "GP_pop": "gp_population",
                    "Target_inc_remote_£k": "target_k", "MFF_index": "mff_index"}


def allocate(deal: Deal, *, year: str | None = None, level: str = "district", scenario: Scenario | None = None,
             assignment: pl.DataFrame | None = None) -> AllocationResult:
    """Fair shares of ``deal``'s pool at ``level`` (area, district, ccg, neighbourhood, partner) for
    ``year``, with ``scenario``'s parameter changes in force. Money in integer pence adds up to the
    pool at every level."""
    applied = apply_scenario(deal, scenario)
    name = scenario.name if scenario is not None and not scenario.is_baseline else "baseline"
    return allocate_engine(applied, year=year, level=level, assignment=assignment, scenario_name=name)


def _assignment_from(plan: Any) -> pl.DataFrame:
    """The (area, neighbourhood[, name]) table inside whatever the places service returned."""
    candidates = [plan] + [getattr(plan, name, None) for name in ("assignment", "plan", "table", "areas")]
    candidates += [getattr(getattr(plan, "plan", None), "assignment", None)]
    for frame in candidates:
        if isinstance(frame, pl.DataFrame) and "neighbourhood" in frame.columns:
            area = next((c for c in ("area", "code", "small_area") if c in frame.columns), None)
            if area is not None:
                name = next((c for c in ("neighbourhood_name", "name") if c in frame.columns), None)
                columns = [pl.col(area).alias("area"), pl.col("neighbourhood")]
                if name:
                    columns.append(pl.col(name).alias("name"))
                return frame.select(columns)
    raise InputError("the places engine returned no assignment of small areas to neighbourhoods")


def neighbourhood_assignment(deal: Deal, *, data_dir: str | Path | None = None, seed: int = 0) -> pl.DataFrame:
    """Small areas → neighbourhoods from the places engine. Raises :class:`InputError` when this
    version of devolve has no places engine."""
    try:
        places = importlib.import_module("devolve.services.places")
    except ModuleNotFoundError as exc:
        if exc.name not in ("devolve.services.places",):
            raise
        raise InputError("the neighbourhood level needs the places engine (devolve.services.places), which this "
                         "installation does not have; use --level district, ccg, area or partner") from None
    build = getattr(places, "build_neighbourhoods", None)
    if build is None:
        raise InputError("the places service has no build_neighbourhoods: the neighbourhood level is unavailable")
    folder, _ = resolve_data_dir(data_dir)
    return _assignment_from(build(deal, data_dir=folder, seed=seed))


ALL_LEVELS = ("district", "ccg", "area", "partner")


@dataclass(frozen=True)
class AllocationRun:
    """The level asked for, and (when asked) the other levels for a workbook."""

    result: AllocationResult
    others: tuple[AllocationResult, ...]
    deal: Deal

    @property
    def results(self) -> tuple[AllocationResult, ...]:
        return (self.result, *self.others)


def run_allocation(ref: str | Path, *, data_dir: str | Path | None = None, year: str | None = None,
                   level: str = "district", scenario_file: str | Path | None = None, seed: int = 0,
                   all_levels: bool = False, progress: Progress | None = None) -> AllocationRun:
    """Load a deal, read the scenario file, build neighbourhoods when asked for, and allocate at
    ``level`` (and, with ``all_levels``, at the district, CCG, small-area and partner levels too)."""
    if level not in LEVELS:
        raise InputError(f"unknown level '{level}': choose one of {', '.join(LEVELS)}")
    step = progress or (lambda _name: None)
    step("load and validate the deal")
    deal = loader.load_deal(ref, data_dir=data_dir)
    scenario = None
    if scenario_file is not None:
        step("read the scenario")
        scenario = read_scenario(scenarios.scenario_file(deal, scenario_file), default_start=deal.start)
    assignment = None
    if level == "neighbourhood":
        step("build neighbourhoods")
        assignment = neighbourhood_assignment(deal, data_dir=data_dir, seed=seed)
    step("compute fair shares and the pace of change")
    result = allocate(deal, year=year, level=level, scenario=scenario, assignment=assignment)
    others = ()
    if all_levels:
        others = tuple(allocate(deal, year=year, level=other, scenario=scenario)
                       for other in ALL_LEVELS if other != level)
    return AllocationRun(result, others, deal)


def allocate_deal(ref: str | Path, *, data_dir: str | Path | None = None, year: str | None = None,
                  level: str = "district", scenario_file: str | Path | None = None, seed: int = 0,
                  progress: Progress | None = None) -> AllocationResult:
    """:func:`run_allocation` for one level."""
    return run_allocation(ref, data_dir=data_dir, year=year, level=level, scenario_file=scenario_file, seed=seed,
                          progress=progress).result


def unit_shapes(result: AllocationResult, data_dir: str | Path | None = None):
    """Each unit's shape (a GeoDataFrame: id, geometry, in EPSG:27700) dissolved from the real LSOA
    boundaries, or ``None`` when there are none to draw: synthetic small areas, the partner level
    (overlapping footprints), or no boundary file."""
    if result.level == "partner" or result.areas["unit"].null_count():
        return None
    if not result.areas["code"].str.contains(LSOA_CODE).all():
        return None  # synthetic small areas have no real boundaries
    folder, _ = resolve_data_dir(data_dir)
    path = readers.locate("lsoa11-boundaries", folder)
    if path is None:
        return None
    from devolve.data.boundaries import read_lsoa_boundaries
    codes = result.areas["code"].to_list()
    shapes = read_lsoa_boundaries(path, codes)
    if len(shapes) != len(codes):
        return None
    units = dict(zip(codes, result.areas["unit"].to_list()))
    shapes["id"] = shapes["code"].map(units)
    if result.level == "area":
        return shapes[["id", "geometry"]]
    return shapes[["id", "geometry"]].dissolve(by="id", as_index=False)


# --- NHS England's practice targets -------------------------------------------------------------

def read_practice_targets(path: Path) -> pl.DataFrame:
    """NHS England's GP practice weighted populations and targets: ccg (ODS code), ccg_name,
    gp_population, target_gbp, mff_index — one row per practice."""
    try:
        frame = pl.read_csv(path, infer_schema_length=0)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise DataSourceError(f"cannot read {path}: {exc}") from exc
    missing = [c for c in PRACTICE_COLUMNS if c not in frame.columns]
    if missing:
        raise DataSourceError(f"{path.name} does not look like NHS England's practice targets: no {missing[0]} column")
    frame = frame.select([pl.col(src).alias(dst) for src, dst in PRACTICE_COLUMNS.items()])
    numeric = ("gp_population", "target_k", "mff_index")
    return frame.with_columns(pl.col(c).cast(pl.Float64) for c in numeric).select(
        "ccg", "ccg_name", "gp_population", (pl.col("target_k") * 1000).alias("target_gbp"), "mff_index")


def _required(source: str, folder: Path) -> Path:
    path = readers.locate(source, folder)
    if path is None:
        raise DataSourceError(f"the comparison needs {source}, which is not in {folder} (see `devolve data status`)")
    return path


def market_forces_table(data_dir: str | Path | None = None) -> pl.DataFrame:
    """Each English district's market forces factor, as the national pack carries it (district,
    mff_index, coverage): NHS England's CCG factors weighted by population over the district's LSOAs."""
    folder, _ = resolve_data_dir(data_dir)
    ccgs = validation.practice_totals_by_ccg(read_practice_targets(_required("nhse-practice-targets-2018-19", folder)))
    population = readers.read_lsoa_population(_required("imd2019-population", folder))
    lookup = readers.read_ccg_lookup(_required("ons-lsoa-ccg-2019", folder))
    areas = population.join(lookup.select("code", pl.col("ccg_ods").alias("ccg")), on="code", how="left")
    return validation.market_forces_by_district(ccgs.select("ccg", "mff_index"),
                                                areas.select("code", "district", "ccg", "population"))


def nhs_only(deal: Deal) -> Scenario:
    """A scenario that drops adult social care and rescales the NHS components' weights to add up
    to one — devolve's formula on the same footing as NHS England's targets."""
    when = deal.start
    components = sorted({p.split(".")[2] for p in deal.parameters.under("allocation.components")})
    weights = {c: float(deal.parameters.at(f"allocation.components.{c}.weight", when)) for c in components}
    social = {c for c in components if c.startswith("asc_")}
    kept = sum(w for c, w in weights.items() if c not in social)
    if kept <= 0:
        raise InputError("the deal's formula has no NHS component to compare with NHS England's targets")
    changes = tuple(ParameterChange(f"allocation.components.{c}.weight", when,
                                    0.0 if c in social else w / kept, "NHS services only")
                    for c, w in weights.items())
    return Scenario("nhs-only", changes, "adult social care left out; NHS components rescaled to add up to one")


@dataclass(frozen=True)
class NhsComparison:
    scope: str
    year: str
    nhs_only: bool
    comparison: validation.Comparison
    notes: tuple[str, ...]

    def to_json(self) -> dict:
        return {"scope": self.scope, "year": self.year, "nhs_only": self.nhs_only, **self.comparison.summary(),
                "notes": list(self.notes)}


def _england_deal(folder: Path, start: date) -> Deal:
    from devolve.packs.builder import write_new_pack
    codes = readers.read_lsoa_population(_required("imd2019-population", folder))["district"].unique().sort().to_list()
    with tempfile.TemporaryDirectory(prefix="devolve-england-") as tmp:
        pack = write_new_pack("england-2018", "England (all districts, for validation)", codes, start,
                              Path(tmp) / "england", folder)
        return loader.load_deal(pack, data_dir=folder)


def nhs_england_comparison(scope: str = "greater-manchester", *, data_dir: str | Path | None = None,
                           social_care: bool = False, year: str = "2018/19") -> NhsComparison:
    """devolve's small-area targets added up to 2019 CCGs, against NHS England's practice targets
    added up to the same CCGs (2018/19).

    ``scope``: ``greater-manchester`` (the built-in deal; its Tameside and Glossop CCG lacks Glossop,
    which is outside the deal) or ``england`` (every English district as one deal, all CCGs).
    ``social_care``: keep adult social care in devolve's formula (NHS England's targets have none).
    """
    folder, _ = resolve_data_dir(data_dir)
    if scope == "greater-manchester":
        deal = loader.load_deal("greater-manchester-2016", data_dir=folder)
    elif scope == "england":
        deal = _england_deal(folder, date(2018, 4, 1))
    else:
        raise InputError(f"unknown scope '{scope}': choose greater-manchester or england")
    if deal.data.get("imd2019-population") != "real":
        raise DataSourceError(f"the comparison needs the real small areas (IoD2019 population file) in {folder}")
    result = allocate(deal, year=year, level="area", scenario=None if social_care else nhs_only(deal))
    lookup = (readers.read_ccg_lookup(_required("ons-lsoa-ccg-2019", folder))
              .select("code", pl.col("ccg_ods").alias("ccg")))
    ours = (result.table.select(pl.col("id").alias("code"), pl.col("target_pence").alias("target"), "population")
            .join(lookup, on="code", how="left")
            .group_by("ccg").agg(pl.col("target").sum(), pl.col("population").sum()))
    practices = read_practice_targets(_required("nhse-practice-targets-2018-19", folder))
    names = dict(practices.select("ccg", "ccg_name").unique("ccg").iter_rows())
    theirs = validation.practice_totals_by_ccg(practices).with_columns(
        pl.col("ccg").replace_strict(names, default=None).alias("name"))
    comparison = validation.compare_targets(ours, theirs)
    notes = (f"devolve: {deal.id}, small-area targets for {result.year.label} ({'with' if social_care else 'without'} "
             "adult social care), added up to CCGs by the ONS LSOA to CCG (April 2019) lookup",
             "NHS England: Target_inc_remote_£k by GP practice (2018/19), added up to CCGs by the practice's CCG; "
             "NHS Devon's two predecessor CCGs (99P, 99Q) merged into 15N")
    return NhsComparison(scope, result.year.label, not social_care, comparison, notes)
