"""Measures of a partition of small areas into regions: population, area, perimeter, compactness.

Compactness is the Polsby–Popper score ``4πA / P²`` (1 for a disc, towards 0 for a long or ragged
shape). A region's perimeter comes from the contiguity graph, so no polygons are unioned:
``P = Σ perimeter(area) − Σ shared(i, j)`` over ordered pairs of neighbours inside the region (each
shared line is counted twice, once from each side, and belongs to neither side's outline).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from devolve.engines.places.contiguity import SmallAreaGraph


def polsby_popper(area, perimeter) -> np.ndarray:
    """``4πA / P²`` for arrays of areas and perimeters (0 where the perimeter is 0)."""
    area = np.asarray(area, dtype=float)
    perimeter = np.asarray(perimeter, dtype=float)
    out = np.zeros(np.broadcast(area, perimeter).shape)
    np.divide(4 * np.pi * area, perimeter ** 2, out=out, where=perimeter > 0)
    return out


@dataclass(frozen=True)
class RegionMeasures:
    """Per region (index = label): the measures and whether its small areas form one connected piece."""

    population: np.ndarray
    small_areas: np.ndarray
    area: np.ndarray
    perimeter: np.ndarray
    compactness: np.ndarray
    contiguous: np.ndarray
    x: np.ndarray   # population-weighted centre (area-weighted where a region has no residents)
    y: np.ndarray


def region_measures(graph: SmallAreaGraph, labels: np.ndarray) -> RegionMeasures:
    """Measures of every region of ``labels`` (one non-negative integer label per small area)."""
    labels = np.asarray(labels, dtype=np.int64)
    k = int(labels.max()) + 1 if labels.size else 0
    pop = np.bincount(labels, graph.population, k)
    count = np.bincount(labels, minlength=k)
    area = np.bincount(labels, graph.area, k)
    rows = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
    inside = labels[rows] == labels[graph.indices]
    perimeter = np.bincount(labels, graph.perimeter, k) - np.bincount(labels[rows[inside]], graph.shared[inside], k)
    weight = np.where(pop[labels] > 0, graph.population, graph.area)
    total = np.bincount(labels, weight, k)
    safe = np.where(total > 0, total, 1.0)
    x = np.bincount(labels, weight * graph.x, k) / safe
    y = np.bincount(labels, weight * graph.y, k) / safe
    internal = sparse.csr_matrix((np.ones(int(inside.sum())), (rows[inside], graph.indices[inside])),
                                 shape=(graph.n, graph.n))
    _, piece = csgraph.connected_components(internal, directed=False)
    pieces_per_region = np.zeros(k, dtype=np.int64)
    first = np.unique(np.column_stack([labels, piece]), axis=0)
    np.add.at(pieces_per_region, first[:, 0], 1)
    return RegionMeasures(pop.round().astype(np.int64), count, area, perimeter, polsby_popper(area, perimeter),
                          pieces_per_region == 1, x, y)
