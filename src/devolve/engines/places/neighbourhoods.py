"""Neighbourhoods: a deal's small areas grouped into contiguous, compact regions of 30–50k residents.

:func:`build_neighbourhoods` splits every district separately (a neighbourhood never crosses a
district boundary) with :func:`devolve.engines.places.partition.split_district`, names the regions
``<district>-N01``, ``-N02``… from north to south, and measures them. It is deterministic for a given
seed: each district draws from its own generator, seeded from the seed and the district code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from devolve.domain.errors import InputError
from devolve.engines.places.compactness import RegionMeasures, region_measures
from devolve.engines.places.contiguity import IslandLink, SmallAreaGraph
from devolve.engines.places.partition import Band, LocalGraph, split_district

Progress = Callable[[int, int], None]
TRIES = 3  # splits within the band compared per district (the most compact is kept)


@dataclass(frozen=True)
class DistrictReport:
    district: str
    population: int
    small_areas: int
    neighbourhoods: int
    feasible: tuple[int, int] | None   # the numbers of neighbourhoods that could fit the band
    reason: str | None                 # why some neighbourhood is outside the band (None: all in it)
    attempts: int


@dataclass(frozen=True)
class StartComparison:
    """How far the result moved from a starting grouping (e.g. MSOAs or a user's draft)."""

    groups: int
    groups_split: int          # starting groups whose areas ended in more than one neighbourhood
    moved_population: int      # residents outside their group's main neighbourhood
    moved_share: float


@dataclass(frozen=True)
class NeighbourhoodPlan:
    band: tuple[int, int]
    seed: int
    labels: np.ndarray                     # neighbourhood index of each small area (graph order)
    ids: tuple[str, ...]                   # neighbourhood id of each index
    assignment: pl.DataFrame               # area, neighbourhood, district, population
    neighbourhoods: pl.DataFrame           # one row per neighbourhood: measures and flags
    districts: tuple[DistrictReport, ...]
    links: tuple[IslandLink, ...]
    start: StartComparison | None = None

    @property
    def unsplittable(self) -> tuple[DistrictReport, ...]:
        return tuple(d for d in self.districts if d.reason is not None)


def district_seed(seed: int, district: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}|{district}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _local(graph: SmallAreaGraph, members: np.ndarray) -> LocalGraph:
    position = np.full(graph.n, -1, dtype=np.int64)
    position[members] = np.arange(len(members))
    starts, stops = graph.indptr[members], graph.indptr[members + 1]
    counts = stops - starts
    take = np.concatenate([np.arange(a, b) for a, b in zip(starts, stops)]) if len(members) else np.array([], int)
    indices = position[graph.indices[take]]
    if (indices < 0).any():
        raise InputError("the contiguity graph joins small areas of different districts")
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return LocalGraph(graph.population[members].astype(np.int64), graph.x[members], graph.y[members],
                      graph.area[members], graph.perimeter[members], indptr, indices, graph.shared[take])


def _compare(labels: np.ndarray, groups: np.ndarray, population: np.ndarray) -> StartComparison:
    pairs = np.column_stack([groups, labels])
    keys, inverse = np.unique(pairs, axis=0, return_inverse=True)
    overlap = np.bincount(inverse.ravel(), population, len(keys))
    best: dict[int, tuple[float, int]] = {}
    touched: dict[int, int] = {}
    for (group, label), amount in zip(keys.tolist(), overlap.tolist()):
        touched[group] = touched.get(group, 0) + 1
        if group not in best or amount > best[group][0]:
            best[group] = (amount, label)
    home = np.array([best[g][1] for g in groups.tolist()])
    moved = int(population[labels != home].sum())
    total = int(population.sum())
    return StartComparison(len(best), sum(1 for c in touched.values() if c > 1), moved,
                           moved / total if total else 0.0)


def build_neighbourhoods(graph: SmallAreaGraph, band: tuple[int, int], *, seed: int = 0,
                         start: np.ndarray | None = None, tries: int = TRIES,
                         progress: Progress | None = None) -> NeighbourhoodPlan:
    """Partition every district of ``graph`` into neighbourhoods within ``band`` (min, max residents).

    ``start`` (optional) gives a starting group label for each small area (MSOAs, a draft); groups
    are kept whole where the band allows and the result reports how far it moved from them.
    """
    low, high = int(band[0]), int(band[1])
    if low < 1 or low > high:
        raise InputError(f"the neighbourhood band must have 1 ≤ min ≤ max; got min {low:,} and max {high:,}")
    if start is not None and len(start) != graph.n:
        raise InputError("the starting grouping must give one group per small area")
    group_codes = None if start is None else np.unique(np.asarray(start, dtype=object).astype(str),
                                                       return_inverse=True)[1]
    the_band = Band(low, high)
    labels = np.full(graph.n, -1, dtype=np.int64)
    reports: list[DistrictReport] = []
    names = sorted(set(graph.district.tolist()))
    offset = 0
    region_district: list[str] = []
    for step, district in enumerate(names):
        members = np.flatnonzero(graph.district == district)
        local = _local(graph, members)
        split = split_district(local, the_band, district_seed(seed, district),
                               None if group_codes is None else group_codes[members], tries)
        labels[members] = split.labels + offset
        offset += split.k
        region_district += [district] * split.k
        reports.append(DistrictReport(district, int(local.pop.sum()), len(members), split.k, split.feasible,
                                      split.reason, split.attempts))
        if progress is not None:
            progress(step + 1, len(names))
    measures = region_measures(graph, labels)
    ids = _name(measures, region_district)
    table = _table(measures, ids, region_district, the_band)
    assignment = pl.DataFrame({"area": graph.codes.astype(str), "neighbourhood": np.asarray(ids, dtype=object)[labels]
                               .astype(str), "district": graph.district.astype(str),
                               "population": graph.population.astype(np.int64)})
    comparison = None if group_codes is None else _compare(labels, group_codes, graph.population)
    return NeighbourhoodPlan((low, high), seed, labels, ids, assignment, table, tuple(reports), graph.links,
                             comparison)


def _name(measures: RegionMeasures, region_district: list[str]) -> tuple[str, ...]:
    ids = [""] * len(region_district)
    by_district: dict[str, list[int]] = {}
    for r, d in enumerate(region_district):
        by_district.setdefault(d, []).append(r)
    for d, regions in by_district.items():
        ordered = sorted(regions, key=lambda r: (-round(measures.y[r]), round(measures.x[r]), r))
        for number, r in enumerate(ordered, start=1):
            ids[r] = f"{d}-N{number:02d}"
    return tuple(ids)


def _table(m: RegionMeasures, ids, region_district, band: Band) -> pl.DataFrame:
    return pl.DataFrame({
        "neighbourhood": list(ids), "district": region_district,
        "population": m.population, "small_areas": m.small_areas.astype(np.int64),
        "area_km2": m.area / 1e6, "perimeter_km": m.perimeter / 1e3, "compactness": m.compactness,
        "contiguous": m.contiguous, "within_band": (m.population >= band.low) & (m.population <= band.high),
        "centre_x": m.x, "centre_y": m.y,
    }).sort("neighbourhood")
