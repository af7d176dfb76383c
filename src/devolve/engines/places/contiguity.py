"""The contiguity graph of a deal's small areas, built once from their polygons.

Two small areas of the same district are neighbours when their boundaries share a line of positive
length (rook contiguity; the ONS generalised boundaries share vertices exactly, so shared lengths are
exact). Each edge carries that shared length, which later gives any neighbourhood's perimeter without
unioning polygons: ``P(region) = Σ perimeter(area) − 2 Σ shared(internal edges)``.

A district whose areas do not form one connected piece (islands, areas joined to the rest only at a
point or across water) gets *links*: each stray piece is joined to the nearest area of the rest of
the district (shortest distance between polygons), shared length 0. Links are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from devolve.domain.errors import InputError


@dataclass(frozen=True)
class IslandLink:
    """A link added so that a district's graph is connected."""

    district: str
    area: str          # the small area in the stray piece
    to: str            # its nearest small area in the rest of the district
    distance_m: float
    piece_areas: int   # small areas in the stray piece


@dataclass(frozen=True)
class SmallAreaGraph:
    """Small areas with their measures (metres) and within-district rook adjacency in CSR form.

    ``indptr``/``indices`` list each area's neighbours (both directions); ``shared`` is the shared
    boundary length of each listed pair (0 for an island link).
    """

    codes: np.ndarray
    district: np.ndarray
    population: np.ndarray
    x: np.ndarray
    y: np.ndarray
    area: np.ndarray
    perimeter: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    shared: np.ndarray
    links: tuple[IslandLink, ...] = ()

    @property
    def n(self) -> int:
        return len(self.codes)

    def neighbours(self, i: int) -> np.ndarray:
        return self.indices[self.indptr[i]:self.indptr[i + 1]]

    def matrix(self) -> sparse.csr_matrix:
        return sparse.csr_matrix((self.shared + 1e-9, self.indices, self.indptr), shape=(self.n, self.n))

    @classmethod
    def from_edges(cls, codes, district, population, x, y, area, perimeter, edges, shared=None,
                   links: tuple[IslandLink, ...] = ()) -> SmallAreaGraph:
        """A graph from plain arrays and an edge list ``[(i, j), …]`` (each pair once, i ≠ j)."""
        n = len(codes)
        edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        lengths = np.zeros(len(edges)) if shared is None else np.asarray(shared, dtype=float)
        if len(edges) and ((edges < 0).any() or (edges >= n).any() or (edges[:, 0] == edges[:, 1]).any()):
            raise InputError("edges must join two different small areas by their index")
        rows = np.concatenate([edges[:, 0], edges[:, 1]])
        cols = np.concatenate([edges[:, 1], edges[:, 0]])
        data = np.concatenate([lengths, lengths])
        order = np.lexsort((cols, rows))
        rows, cols, data = rows[order], cols[order], data[order]
        keep = np.ones(len(rows), dtype=bool)
        keep[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        rows, cols, data = rows[keep], cols[keep], data[keep]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.add.at(indptr, rows + 1, 1)
        return cls(np.asarray(codes, dtype=object), np.asarray(district, dtype=object),
                   np.asarray(population, dtype=np.int64), np.asarray(x, dtype=float), np.asarray(y, dtype=float),
                   np.asarray(area, dtype=float), np.asarray(perimeter, dtype=float), np.cumsum(indptr),
                   cols.astype(np.int64), data.astype(float), tuple(links))


def contiguity_graph(codes, districts, populations, polygons) -> SmallAreaGraph:
    """Build the graph from polygons in a projected CRS (metres), one per small area."""
    geoms = np.asarray(polygons, dtype=object)
    codes = np.asarray(codes, dtype=object)
    districts = np.asarray(districts, dtype=object)
    if len(geoms) != len(codes) or len(codes) != len(districts) or len(codes) != len(populations):
        raise InputError("codes, districts, populations and polygons must have one entry per small area")
    if len(geoms) and (shapely.is_missing(geoms) | shapely.is_empty(geoms)).any():
        missing = codes[shapely.is_missing(geoms) | shapely.is_empty(geoms)]
        raise InputError(f"small area {missing[0]} has no boundary")
    centroids = shapely.centroid(geoms)
    x, y = shapely.get_x(centroids), shapely.get_y(centroids)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = (left < right) & (districts[left] == districts[right])
    left, right = left[keep], right[keep]
    boundaries = shapely.boundary(geoms)
    shared = shapely.length(shapely.intersection(boundaries[left], boundaries[right]))
    rook = shared > 0
    edges = np.column_stack([left[rook], right[rook]])
    lengths = shared[rook]
    links = _island_links(geoms, codes, districts, edges)
    if links:
        index = {c: i for i, c in enumerate(codes)}
        extra = np.array([(index[link.area], index[link.to]) for link in links], dtype=np.int64)
        edges = np.concatenate([edges, extra])
        lengths = np.concatenate([lengths, np.zeros(len(extra))])
    return SmallAreaGraph.from_edges(codes, districts, populations, x, y, shapely.area(geoms),
                                     shapely.length(geoms), edges, lengths, tuple(links))


def _island_links(geoms, codes, districts, edges) -> list[IslandLink]:
    n = len(codes)
    graph = sparse.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n)) if len(edges) \
        else sparse.coo_matrix((n, n))
    _, component = csgraph.connected_components(graph, directed=False)
    links: list[IslandLink] = []
    for district in sorted(set(districts.tolist())):
        members = np.flatnonzero(districts == district)
        pieces = component[members].copy()
        while len(set(pieces.tolist())) > 1:
            labels, counts = np.unique(pieces, return_counts=True)
            stray = labels[np.argmin(counts)]  # join the smallest piece first (ties: the lowest label)
            inside = members[pieces == stray]
            outside = members[pieces != stray]
            tree = shapely.STRtree(geoms[outside])
            pairs, distance = tree.query_nearest(geoms[inside], return_distance=True, all_matches=False)
            best = int(np.argmin(distance))
            a, b = inside[pairs[0][best]], outside[pairs[1][best]]
            links.append(IslandLink(district, str(codes[a]), str(codes[b]), float(distance[best]), len(inside)))
            pieces[pieces == stray] = pieces[members == b][0]
    return links
