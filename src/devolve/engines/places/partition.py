"""Split one district's small areas into k contiguous, compact regions with populations in a band.

The steps, for one district (see docs/method/neighbourhoods.md):

1. **k**: the number of regions whose mean population is nearest the middle of the band, among the
   k with ``ceil(P/max) ≤ k ≤ floor(P/min)``. When no such k exists the district cannot be split
   within the band; the k whose mean population is closest to the band is used and the reason said.
2. **Seeds and balanced k-means**: seeds by k-means++ on population-weighted centroids (a seeded
   generator), then Lloyd iterations on a multiplicatively weighted diagram: each area goes to the
   centre minimising ``d / s_j``, and the scales ``s_j`` grow for regions short of residents and
   shrink for full ones. Later starts, if needed, grow random regions from random seed areas.
3. **Contiguity**: each region keeps its most populous connected piece; stray pieces join the
   neighbouring region they share most boundary with, until every region is one piece.
4. **Repair**: boundary areas move between neighbouring regions to reduce the squared distance of
   populations outside the band; a move never splits the region it leaves (articulation check).
   An area that cannot leave alone may take the pieces it holds on with it (a branch); when no
   move helps, population is passed along a chain of neighbouring regions, or two areas swap.
5. **Polish**: boundary moves that raise the two regions' summed Polsby–Popper score, keeping both
   in the band and contiguous, until none is left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from devolve.engines.places.regions import Band, LocalGraph, Regions

KMEANS_ITERATIONS = 40      # Lloyd steps (centres move)
BALANCE_ITERATIONS = 20     # then scales only
BALANCE_EXPONENT = 0.3
MAX_ATTEMPTS = 10          # starts tried per district beyond the `tries` wanted


@dataclass(frozen=True)
class DistrictSplit:
    labels: np.ndarray           # region (0..k-1) of each small area
    k: int
    feasible: tuple[int, int] | None   # the range of k that could fit the band, None when empty
    reason: str | None           # why the band was not met, None when every region is in it
    attempts: int


def choose_k(population: int, n: int, band: Band) -> tuple[int, tuple[int, int] | None, str | None]:
    """The number of regions, the feasible range of k (or None) and, when it is empty, why."""
    low_k = max(1, math.ceil(population / band.high))
    high_k = min(n, population // band.low)
    middle = (band.low + band.high) / 2
    if low_k <= high_k:
        best = min(range(low_k, high_k + 1), key=lambda k: (abs(population / k - middle), k))
        return best, (low_k, high_k), None
    if population < band.low:
        return 1, None, f"population {population:,} is below the band's minimum {band.low:,}"
    options = [k for k in {max(1, population // band.low), low_k} if 1 <= k <= n] or [1]

    def miss(k: int) -> float:
        mean = population / k
        return max(mean / band.high - 1, 1 - mean / band.low, 0.0)

    k = min(options, key=lambda k: (miss(k), k))
    if low_k > n:
        return k, None, f"{n} small areas cannot make {low_k} regions of at most {band.high:,}"
    fewer = low_k - 1
    return k, None, (f"population {population:,} cannot be split into parts of {band.low:,}–{band.high:,} "
                     f"({fewer} part{'' if fewer == 1 else 's'} would be too big, {low_k} too small)")


def _kmeans_pp(ux, uy, weight, k, rng) -> tuple[np.ndarray, np.ndarray]:
    n = len(ux)
    p = weight / weight.sum() if weight.sum() > 0 else np.full(n, 1 / n)
    chosen = [int(rng.choice(n, p=p))]
    d2 = (ux - ux[chosen[0]]) ** 2 + (uy - uy[chosen[0]]) ** 2
    for _ in range(1, k):
        score = d2 * weight
        if score.sum() <= 0:
            candidates = np.setdiff1d(np.arange(n), chosen)
            nxt = int(candidates[rng.integers(len(candidates))])
        else:
            nxt = int(rng.choice(n, p=score / score.sum()))
        chosen.append(nxt)
        d2 = np.minimum(d2, (ux - ux[nxt]) ** 2 + (uy - uy[nxt]) ** 2)
    return ux[chosen].astype(float), uy[chosen].astype(float)


def balanced_kmeans(ux, uy, upop, k, rng) -> np.ndarray:
    """Labels of units after k-means on a multiplicatively weighted diagram that balances population.

    Each unit goes to the centre minimising ``d / s_j``; a region short of residents grows its
    scale ``s_j`` and a full one shrinks it (``s_j ← s_j (target / pop_j)^0.3``). Centres follow
    their members for the first iterations, then stay put while the scales settle.
    """
    n = len(ux)
    if k >= n:
        return np.arange(n) % k
    weight = upop.astype(float) + 1e-9
    cx, cy = _kmeans_pp(ux, uy, weight, k, rng)
    target = weight.sum() / k
    scale = np.ones(k)
    for step in range(KMEANS_ITERATIONS + BALANCE_ITERATIONS):
        d = np.sqrt((ux[:, None] - cx[None, :]) ** 2 + (uy[:, None] - cy[None, :]) ** 2)
        labels = np.argmin(d / scale[None, :], axis=1)
        pops = np.bincount(labels, weight, k)
        for j in np.flatnonzero(pops == 0):  # re-seed an empty region at the unit worst served
            far = int(np.argmax(d[np.arange(n), labels] / scale[labels]))
            cx[j], cy[j], scale[j] = ux[far], uy[far], 1.0
            labels[far] = j
        pops = np.bincount(labels, weight, k)
        scale *= (target / np.maximum(pops, 1e-9)) ** BALANCE_EXPONENT
        scale /= scale.mean()
        if step < KMEANS_ITERATIONS:
            cx = np.bincount(labels, weight * ux, k) / np.maximum(pops, 1e-9)
            cy = np.bincount(labels, weight * uy, k) / np.maximum(pops, 1e-9)
    d = np.sqrt((ux[:, None] - cx[None, :]) ** 2 + (uy[:, None] - cy[None, :]) ** 2)
    return np.argmin(d / scale[None, :], axis=1)


def grow_regions(g: LocalGraph, k: int, rng: np.random.Generator) -> np.ndarray:
    """Random contiguous regions: k seed areas grow in turn (the emptiest first) into neighbouring areas.

    A different start from k-means, tried when k-means' starts could not be repaired into the band.
    """
    labels = np.full(g.n, -1, dtype=np.int64)
    seeds = rng.choice(g.n, size=k, replace=False)
    labels[seeds] = np.arange(k)
    pops = g.pop[seeds].astype(float)
    nbrs = [g.indices[g.indptr[i]:g.indptr[i + 1]] for i in range(g.n)]
    frontier = [set(nbrs[s].tolist()) for s in seeds]
    active = set(range(k))
    while active:
        r = min(active, key=lambda j: (pops[j], j))
        options = sorted(v for v in frontier[r] if labels[v] < 0)
        if not options:
            active.discard(r)
            continue
        v = options[int(rng.integers(len(options)))]
        labels[v] = r
        pops[r] += g.pop[v]
        frontier[r].discard(v)
        frontier[r].update(int(j) for j in nbrs[v] if labels[j] < 0)
    labels[labels < 0] = 0  # only in a graph that is not connected; make_contiguous then tidies up
    return labels


def _pieces(labels: np.ndarray, g: LocalGraph) -> np.ndarray:
    rows = np.repeat(np.arange(g.n), np.diff(g.indptr))
    same = labels[rows] == labels[g.indices]
    matrix = sparse.csr_matrix((np.ones(int(same.sum())), (rows[same], g.indices[same])), shape=(g.n, g.n))
    return csgraph.connected_components(matrix, directed=False)[1]


def make_contiguous(labels: np.ndarray, g: LocalGraph) -> np.ndarray:
    """Each region keeps its most populous piece; other pieces join the neighbour they share most with."""
    labels = labels.copy()
    rows = np.repeat(np.arange(g.n), np.diff(g.indptr))
    for _ in range(4 * g.n + 4):
        piece = _pieces(labels, g)
        count = int(piece.max()) + 1
        piece_pop = np.bincount(piece, g.pop + 1e-6, count)
        piece_label = np.zeros(count, dtype=np.int64)
        piece_label[piece] = labels
        main = {}
        for p in np.argsort(-piece_pop, kind="stable"):
            main.setdefault(int(piece_label[p]), int(p))
        strays = [p for p in np.argsort(piece_pop, kind="stable") if main[int(piece_label[p])] != p]
        if not strays:
            return labels
        for stray in strays:
            border = (piece[rows] == stray) & (labels[g.indices] != piece_label[stray])
            if border.any():  # (a piece with no other region beside it can only be in an unconnected graph)
                choice = np.bincount(labels[g.indices[border]], g.shared[border] + 1e-6)
                labels[piece == stray] = int(np.argmax(choice))
                break
        else:
            return labels
    return labels


def _units(g: LocalGraph, groups: np.ndarray, band: Band) -> np.ndarray:
    """Starting groups as units: each group's connected pieces; a piece above the band's top is broken up."""
    piece = _pieces(groups, g)
    pop = np.bincount(piece, g.pop)
    too_big = pop[piece] > band.high
    unit = piece.copy()
    unit[too_big] = piece.max() + 1 + np.flatnonzero(too_big)
    return np.unique(unit, return_inverse=True)[1]


def split_district(g: LocalGraph, band: Band, rng: np.random.Generator,
                   groups: np.ndarray | None = None, tries: int = 1) -> DistrictSplit:
    """Split one district; ``groups`` (optional) is a starting grouping to keep as far as possible.

    Up to ``tries`` splits within the band are made from different seeds; the most compact is kept.
    """
    population = int(g.pop.sum())
    k0, feasible, reason = choose_k(population, g.n, band)
    if g.n == 1 or k0 == 1:
        return DistrictSplit(np.zeros(g.n, dtype=np.int64), 1, feasible, reason, 1)
    unit = _units(g, groups, band) if groups is not None else np.arange(g.n)
    units = int(unit.max()) + 1
    upop = np.bincount(unit, g.pop, units)
    mass = g.pop + 1e-6
    total = np.bincount(unit, mass, units)
    ux = np.bincount(unit, mass * g.x, units) / total
    uy = np.bincount(unit, mass * g.y, units) / total
    keep_start = groups is not None and feasible is not None and feasible[0] <= units <= feasible[1]
    ks = [k0] if feasible is None else sorted({k0, *(k for k in (k0 - 1, k0 + 1) if feasible[0] <= k <= feasible[1])},
                                             key=lambda k: (abs(k - k0), k))
    best: tuple | None = None
    attempts = successes = 0
    same_k = max(2, tries)
    for attempt in range(MAX_ATTEMPTS + tries if feasible is not None else 2):
        attempts += 1
        k = k0 if attempt < same_k else ks[(attempt - same_k) % len(ks)]
        k = units if keep_start and attempt == 0 else k
        if keep_start and attempt == 0:
            area_labels = np.arange(units)[unit]
        elif attempt < same_k + 2 or groups is not None:
            area_labels = balanced_kmeans(ux, uy, upop, k, rng)[unit]
        else:  # k-means starts could not be repaired: try random grown regions instead
            area_labels = grow_regions(g, min(k, g.n), rng)
        area_labels = np.unique(make_contiguous(area_labels, g), return_inverse=True)[1]
        regions = Regions(area_labels, g, band)
        in_band = regions.repair()
        if groups is None:
            regions.polish()
        score = (regions.total_violation(), -sum(regions.pp(a, p) for a, p in zip(regions.area, regions.perim))
                 / regions.k)
        if best is None or score < best[0]:
            best = (score, np.array(regions.label, dtype=np.int64), regions.k)
        successes += in_band
        if successes >= (1 if groups is not None else tries):
            break
    (violation, _), labels, k = best
    if violation > 0 and reason is None:
        pops = np.bincount(labels, g.pop)
        reason = (f"no contiguous split into regions of {band.low:,}–{band.high:,} was found "
                  f"(best: {int(pops.min()):,}–{int(pops.max()):,} residents)")
    return DistrictSplit(labels, k, feasible, reason, attempts)
