"""A grid small enough to check by hand: the builder's answer is the one a person would draw."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from devolve.domain.errors import InputError
from devolve.engines.places import build_neighbourhoods
from devolve.engines.places.partition import Band, choose_k

from places_grid import grid


def _three_districts():
    # District D1: a 4 × 4 block of 5,000-resident cells (80,000: two halves of 40,000).
    # District D2: a 1 × 3 strip of 10,000 (30,000: exactly one neighbourhood).
    # District D3: two cells of 10,000 (20,000: below the band, cannot be split within it).
    pops = np.zeros((4, 7), dtype=int)
    names = np.full((4, 7), "", dtype=object)
    pops[:, :4], names[:, :4] = 5000, "D1"
    pops[0, 4:7], names[0, 4:7] = 10000, "D2"
    pops[1:, 4:7], names[1:, 4:7] = 0, "D4"  # an empty district: one neighbourhood of nobody
    pops[3, 5:7], names[3, 5:7] = 10000, "D3"
    return grid(pops, names)


def test_a_four_by_four_block_splits_into_two_rectangles():
    graph = grid(np.full((4, 4), 5000))
    for seed in range(5):
        plan = build_neighbourhoods(graph, (30000, 50000), seed=seed)
        table = plan.neighbourhoods
        assert table["population"].to_list() == [40000, 40000]
        assert table["small_areas"].to_list() == [8, 8]
        # two 4 × 2 (or 2 × 4) rectangles of 1 km cells: area 8 km², perimeter 12 km
        assert table["area_km2"].to_list() == pytest.approx([8.0, 8.0])
        assert table["perimeter_km"].to_list() == pytest.approx([12.0, 12.0])
        assert table["compactness"].to_list() == pytest.approx([4 * math.pi * 8 / 144] * 2)


def test_districts_are_split_separately_and_the_small_one_is_reported():
    plan = build_neighbourhoods(_three_districts(), (30000, 50000), seed=0)
    table = plan.neighbourhoods.sort("neighbourhood")
    by_district = dict(table.group_by("district").agg(pl.col("population")).iter_rows())
    assert sorted(by_district["D1"]) == [40000, 40000]
    assert by_district["D2"] == [30000]
    assert by_district["D3"] == [20000]
    reasons = {d.district: d.reason for d in plan.unsplittable}
    assert set(reasons) == {"D3", "D4"}
    assert "below the band's minimum 30,000" in reasons["D3"]
    assert table.filter(pl.col("district") == "D2")["within_band"].to_list() == [True]
    assert table["contiguous"].all()


def test_neighbourhood_ids_run_north_to_south_within_each_district():
    # a 6 × 2 strip of 5,000 (60,000): k = 2 (30,000 each) — the top half is N01
    plan = build_neighbourhoods(grid(np.full((6, 2), 5000)), (25000, 35000), seed=3)
    assignment = plan.assignment
    top = assignment.filter(pl.col("area") == "A0000")["neighbourhood"].item()
    bottom = assignment.filter(pl.col("area") == "A0500")["neighbourhood"].item()
    assert (top, bottom) == ("D1-N01", "D1-N02")


@pytest.mark.parametrize("population, n, expected_k, feasible", [
    (80_000, 16, 2, (2, 2)),
    (100_000, 60, 3, (2, 3)),      # 2 × 50,000 or 3 × 33,333: 3 is nearer the middle (40,000)
    (90_000, 60, 2, (2, 3)),       # 2 × 45,000 (5,000 off the middle) beats 3 × 30,000 (10,000 off)
    (120_000, 80, 3, (3, 4)),
    (55_000, 40, 2, None),         # 1 part too big (55,000 > 50,000), 2 parts too small (27,500 < 30,000)
    (20_000, 12, 1, None),
])
def test_the_number_of_neighbourhoods(population, n, expected_k, feasible):
    k, span, reason = choose_k(population, n, Band(30000, 50000))
    assert k == expected_k
    assert span == feasible
    assert (reason is None) == (feasible is not None)


def test_a_band_with_min_above_max_is_refused():
    with pytest.raises(InputError, match="min"):
        build_neighbourhoods(grid(np.full((2, 2), 5000)), (50000, 30000))
