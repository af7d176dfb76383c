"""Neighbourhood hubs: one public building per neighbourhood, chosen to keep residents close.

Per district, a p-median with p = the number of neighbourhoods: residents belong to their own
neighbourhood, so each neighbourhood ``n`` is served by one hub ``b`` at cost
``c(n, b) = Σ_{areas i in n} population_i × distance(i, b)`` (straight-line distance in metres
between the area's centroid and the building: a proxy for travel). A building can be the hub of at
most one neighbourhood and may serve its own neighbourhood or an adjacent one in the district. A
neighbourhood with no such building gets "no building": the centroid of its small area nearest its
population-weighted centre, the place a new or rented hub would go.

Solved lexicographically on the MIP solver passed in: first the most neighbourhoods housed in a
building, then, with that number fixed, the least population-weighted distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse

from devolve.domain.records import BUILDING_TYPES
from devolve.engines.places.contiguity import SmallAreaGraph
from devolve.engines.places.neighbourhoods import NeighbourhoodPlan
from devolve.engines.solver import MipModel, MipSolver, solve_to_optimality

NO_BUILDING = "no building"


def hub_eligible(buildings: pl.DataFrame, min_floor_area_m2: float = 0.0) -> pl.DataFrame:
    """Buildings that may host a hub: a kind that can (``BUILDING_TYPES``), at least ``min_floor_area_m2``,
    in use, and not in poor condition (D)."""
    kinds = [kind for kind, (can_host, _) in BUILDING_TYPES.items() if can_host]
    return buildings.filter(pl.col("type").is_in(kinds) & (pl.col("utilisation") > 0)
                            & (pl.col("floor_area_m2") >= min_floor_area_m2)
                            & (pl.col("condition") != "D") & (pl.col("current_use").str.to_lowercase() != "vacant"))


@dataclass(frozen=True)
class HubModel:
    """The hub-location problem of one deal: small areas, neighbourhoods and candidate buildings."""

    graph: SmallAreaGraph
    labels: np.ndarray            # neighbourhood index of each small area
    ids: tuple[str, ...]
    districts: tuple[str, ...]    # district of each neighbourhood index
    candidates: pl.DataFrame      # id, x, y, neighbourhood (index, -1 outside) of hub-eligible buildings

    @classmethod
    def from_plan(cls, graph: SmallAreaGraph, plan: NeighbourhoodPlan, buildings: pl.DataFrame) -> HubModel:
        """``buildings``: ``id``, ``x``, ``y`` and ``neighbourhood`` (an id, or null outside the deal)."""
        index = {nid: i for i, nid in enumerate(plan.ids)}
        districts = [""] * len(plan.ids)
        for label, district in zip(plan.labels.tolist(), graph.district.tolist()):
            districts[label] = district
        located = buildings.with_columns(
            pl.col("neighbourhood").replace_strict(index, default=-1, return_dtype=pl.Int64).alias("neighbourhood"))
        return cls(graph, plan.labels, plan.ids, tuple(districts), located.select("id", "x", "y", "neighbourhood"))

    def _adjacent(self) -> set[tuple[int, int]]:
        rows = np.repeat(np.arange(self.graph.n), np.diff(self.graph.indptr))
        a, b = self.labels[rows], self.labels[self.graph.indices]
        pairs = np.unique(np.column_stack([a, b])[a != b], axis=0)
        return {(int(x), int(y)) for x, y in pairs}

    def _fallback(self, members: np.ndarray) -> int:
        pop = self.graph.population[members].astype(float)
        weight = pop if pop.sum() > 0 else np.ones(len(members))
        cx = (weight * self.graph.x[members]).sum() / weight.sum()
        cy = (weight * self.graph.y[members]).sum() / weight.sum()
        return int(members[np.argmin((self.graph.x[members] - cx) ** 2 + (self.graph.y[members] - cy) ** 2)])

    def solve(self, solver: MipSolver) -> pl.DataFrame:
        """One row per neighbourhood: its hub (a building id or ``no building``) and where it is."""
        adjacent = self._adjacent()
        cand = self.candidates
        bx, by = cand["x"].to_numpy(), cand["y"].to_numpy()
        home = cand["neighbourhood"].to_numpy()
        rows: list[dict] = []
        for district in sorted(set(self.districts)):
            hoods = [n for n, d in enumerate(self.districts) if d == district]
            pairs, costs = [], []
            for n in hoods:
                members = np.flatnonzero(self.labels == n)
                pop = self.graph.population[members].astype(float)
                for b in np.flatnonzero((home == n) | np.isin(home, [m for (h, m) in adjacent if h == n])):
                    dist = np.hypot(self.graph.x[members] - bx[b], self.graph.y[members] - by[b])
                    pairs.append((n, int(b)))
                    costs.append(float((pop * dist).sum()))
            chosen = self._assign(hoods, pairs, np.asarray(costs), solver, district)
            for n in hoods:
                members = np.flatnonzero(self.labels == n)
                pop = self.graph.population[members].astype(float)
                if n in chosen:
                    b = chosen[n]
                    hub, x, y, area = str(cand["id"][b]), float(bx[b]), float(by[b]), None
                    inside = bool(home[b] == n)
                else:
                    f = self._fallback(members)
                    hub, x, y, area, inside = NO_BUILDING, float(self.graph.x[f]), float(self.graph.y[f]), \
                        str(self.graph.codes[f]), True
                dist = np.hypot(self.graph.x[members] - x, self.graph.y[members] - y)
                mean = float((pop * dist).sum() / pop.sum()) if pop.sum() > 0 else float(dist.mean())
                rows.append({"neighbourhood": self.ids[n], "district": district, "hub": hub, "hub_x": x,
                             "hub_y": y, "hub_small_area": area, "hub_in_neighbourhood": inside,
                             "mean_distance_km": mean / 1000})
        schema = {"neighbourhood": pl.Utf8, "district": pl.Utf8, "hub": pl.Utf8, "hub_x": pl.Float64,
                  "hub_y": pl.Float64, "hub_small_area": pl.Utf8, "hub_in_neighbourhood": pl.Boolean,
                  "mean_distance_km": pl.Float64}
        return pl.DataFrame(rows, schema=schema).sort("neighbourhood")

    @staticmethod
    def _assign(hoods: list[int], pairs: list[tuple[int, int]], costs: np.ndarray, solver: MipSolver,
                district: str) -> dict[int, int]:
        """Lexicographic assignment: most neighbourhoods housed, then least weighted distance."""
        if not pairs:
            return {}
        row_of_hood = {n: i for i, n in enumerate(hoods)}
        buildings = sorted({b for _, b in pairs})
        row_of_building = {b: len(hoods) + i for i, b in enumerate(buildings)}
        rows, cols = [], []
        for j, (n, b) in enumerate(pairs):
            rows += [row_of_hood[n], row_of_building[b]]
            cols += [j, j]
        m = len(hoods) + len(buildings)
        matrix = sparse.csc_matrix((np.ones(len(rows)), (rows, cols)), shape=(m, len(pairs)))
        ones = np.ones(len(pairs))
        common = dict(matrix=matrix, row_lower=np.full(m, -np.inf), row_upper=np.ones(m), lower=np.zeros(len(pairs)),
                      upper=ones, integer=np.ones(len(pairs), dtype=bool))
        housed = solve_to_optimality(solver, MipModel.from_matrix(
            f"hubs in {district} (most neighbourhoods housed)", ones, maximise=True, **common))
        most = float(np.round(housed.sum()))
        scale = max(float(costs.max()), 1.0)
        matrix2 = sparse.vstack([matrix, sparse.csc_matrix(ones)]).tocsc()
        common.update(matrix=matrix2, row_lower=np.append(common["row_lower"], most - 0.5),
                      row_upper=np.append(common["row_upper"], np.inf))
        x = solve_to_optimality(solver, MipModel.from_matrix(f"hubs in {district} (least distance)", costs / scale,
                                                             **common))
        return {pairs[j][0]: pairs[j][1] for j in np.flatnonzero(x > 0.5)}
