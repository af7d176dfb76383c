"""Hub choice: nearest to residents, one neighbourhood per building, a clear fallback, a clear failure."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import sparse

from devolve.engines.places import NO_BUILDING, HighsSolver, HubModel, MipModel, SolverError, build_neighbourhoods
from devolve.engines.places.hubs import hub_eligible

from places_grid import grid


def _plan():
    # a 2 × 4 strip of 10,000-resident cells (1 km): two neighbourhoods of 40,000, west and east
    graph = grid(np.full((2, 4), 10000))
    plan = build_neighbourhoods(graph, (30000, 50000), seed=0)
    west = plan.assignment.filter(pl.col("area") == "A0000")["neighbourhood"].item()
    east = plan.assignment.filter(pl.col("area") == "A0003")["neighbourhood"].item()
    assert west != east
    return graph, plan, west, east


def _buildings(rows):
    return pl.DataFrame(rows, schema={"id": pl.Utf8, "x": pl.Float64, "y": pl.Float64, "neighbourhood": pl.Utf8})


def test_each_neighbourhood_gets_the_building_nearest_its_residents():
    graph, plan, west, east = _plan()
    # west cells' centres: x = 500, 1500; the middle (1000, 1000) is best; (100, 100) is worse
    buildings = _buildings([
        {"id": "far-west", "x": 100.0, "y": 100.0, "neighbourhood": west},
        {"id": "mid-west", "x": 1000.0, "y": 1000.0, "neighbourhood": west},
        {"id": "mid-east", "x": 3000.0, "y": 1000.0, "neighbourhood": east},
    ])
    hubs = HubModel.from_plan(graph, plan, buildings).solve(HighsSolver())
    chosen = dict(zip(hubs["neighbourhood"], hubs["hub"]))
    assert chosen == {west: "mid-west", east: "mid-east"}
    # from (1000, 1000) each west cell centre is √(500² + 500²) ≈ 707 m away
    assert hubs.filter(pl.col("neighbourhood") == west)["mean_distance_km"].item() == pytest.approx(0.7071, abs=1e-4)


def test_a_building_serves_one_neighbourhood_and_a_neighbour_may_borrow_one():
    graph, plan, west, east = _plan()
    # both buildings stand in the west; the east borrows the one nearer to it rather than go without
    buildings = _buildings([
        {"id": "west-1", "x": 1000.0, "y": 1000.0, "neighbourhood": west},
        {"id": "west-2", "x": 1900.0, "y": 1000.0, "neighbourhood": west},
    ])
    hubs = HubModel.from_plan(graph, plan, buildings).solve(HighsSolver())
    chosen = dict(zip(hubs["neighbourhood"], hubs["hub"]))
    assert chosen == {west: "west-1", east: "west-2"}
    assert hubs.filter(pl.col("neighbourhood") == east)["hub_in_neighbourhood"].item() is False


def test_without_buildings_the_hub_is_the_area_nearest_the_population_centre():
    graph = grid(np.array([[10000, 10000, 10000], [10000, 10000, 10000], [10000, 10000, 10000]]))
    plan = build_neighbourhoods(graph, (80000, 100000), seed=0)
    hubs = HubModel.from_plan(graph, plan, _buildings([])).solve(HighsSolver())
    row = hubs.row(0, named=True)
    assert (row["hub"], row["hub_small_area"], row["hub_x"], row["hub_y"]) == (NO_BUILDING, "A0101", 1500.0, 1500.0)


def test_only_usable_buildings_can_host_a_hub():
    table = pl.DataFrame({"id": ["ok", "depot", "vacant", "poor", "small"],
                          "type": ["library", "depot", "library", "library", "gp_surgery"],
                          "utilisation": [0.5, 0.5, 0.0, 0.5, 0.5], "condition": ["B", "B", "B", "D", "A"],
                          "current_use": ["library", "depot", "vacant", "library", "GP practice"],
                          "floor_area_m2": [1500.0, 4000.0, 1500.0, 1500.0, 400.0]})
    assert hub_eligible(table, 1000)["id"].to_list() == ["ok"]


def test_an_infeasible_model_says_so():
    model = MipModel.from_matrix("impossible", np.array([1.0]), sparse.csc_matrix(np.array([[1.0]])),
                                 np.array([2.0]), np.array([3.0]), np.zeros(1), np.ones(1), np.ones(1, dtype=bool))
    with pytest.raises(SolverError, match="impossible.*Infeasible"):
        HighsSolver().solve(model)
