"""The contiguity graph from polygons: shared lengths, point contacts, islands, districts."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from devolve.data.boundaries import synthetic_boundaries
from devolve.domain.errors import InputError
from devolve.engines.places import build_neighbourhoods, contiguity_graph, region_measures


def _boxes():
    # A: [0,2]x[0,1]; B: [2,3]x[0,1] shares 1 m with A; C: [3,4]x[1,2] touches B at a corner only;
    # D: an island [10,11]x[0,1] in A's district, 6 m from C (7 m from B); E: another district beside A.
    polygons = [shapely.box(0, 0, 2, 1), shapely.box(2, 0, 3, 1), shapely.box(3, 1, 4, 2),
                shapely.box(10, 0, 11, 1), shapely.box(0, 1, 2, 2)]
    return ["A", "B", "C", "D", "E"], ["X", "X", "X", "X", "Y"], [10, 20, 30, 40, 50], polygons


def test_neighbours_share_a_line_and_carry_its_length():
    codes, districts, pops, polygons = _boxes()
    graph = contiguity_graph(codes, districts, pops, polygons)
    assert graph.neighbours(0).tolist() == [1]                     # A–B; A–E are in different districts
    assert graph.shared[graph.indptr[0]:graph.indptr[1]].tolist() == [1.0]
    assert graph.area.tolist() == [2.0, 1.0, 1.0, 1.0, 2.0]
    assert graph.perimeter.tolist() == [6.0, 4.0, 4.0, 4.0, 6.0]


def test_corner_contacts_and_islands_are_linked_to_the_nearest_area_and_reported():
    codes, districts, pops, polygons = _boxes()
    graph = contiguity_graph(codes, districts, pops, polygons)
    links = {(link.area, link.to): link for link in graph.links}
    # C touches B only at a corner (distance 0); D is 6 m from C: both joined, with shared length 0
    assert set(links) == {("C", "B"), ("D", "C")}
    assert links[("D", "C")].distance_m == pytest.approx(6.0)
    assert links[("C", "B")].distance_m == pytest.approx(0.0)
    assert all(link.district == "X" for link in graph.links)
    d = codes.index("D")
    assert graph.neighbours(d).tolist() == [codes.index("C")]
    assert graph.shared[graph.indptr[d]:graph.indptr[d + 1]].tolist() == [0.0]


def test_region_perimeter_from_shared_lengths_matches_the_union():
    codes = [f"S{i:03d}" for i in range(60)]
    districts = ["P"] * 35 + ["Q"] * 25
    polygons = synthetic_boundaries(codes, districts, seed="test").geometry.values
    graph = contiguity_graph(codes, districts, np.full(60, 1500), polygons)
    plan = build_neighbourhoods(graph, (9000, 15000), seed=1)
    measures = region_measures(graph, plan.labels)
    for label in range(len(plan.ids)):
        union = shapely.union_all(polygons[plan.labels == label])
        assert measures.perimeter[label] == pytest.approx(union.length, rel=1e-6)
        assert measures.area[label] == pytest.approx(union.area, rel=1e-9)


def test_a_small_area_without_a_polygon_is_refused():
    with pytest.raises(InputError, match="no boundary"):
        contiguity_graph(["A", "B"], ["X", "X"], [1, 1], [shapely.box(0, 0, 1, 1), None])


def test_synthetic_cells_tile_each_district_and_are_reproducible():
    codes = [f"E08000099S{i:05d}" for i in range(1, 41)]
    first = synthetic_boundaries(codes, ["E08000099"] * 40, seed="deal")
    again = synthetic_boundaries(codes, ["E08000099"] * 40, seed="deal")
    assert first.geometry.equals(again.geometry)
    assert shapely.coverage_is_valid(first.geometry.values)
    total = shapely.union_all(first.geometry.values)
    assert total.area == pytest.approx(sum(first.geometry.area))
    assert first.crs.to_epsg() == 27700
