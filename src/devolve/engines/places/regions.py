"""Regions of one district under local search: moves that keep every region in one piece.

:class:`Regions` holds each region's members, population, area and perimeter (from shared boundary
lengths), and offers the moves the partition uses: single areas, branches (an area with the pieces
it holds on), chains of moves through neighbouring regions, swaps, and compactness polishing.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

REPAIR_ROUNDS = 400
POLISH_EVALUATIONS_PER_AREA = 40
CHAIN_DEPTH = 6
SWAP_LIMIT = 2000           # pair exchanges tried per stuck region


@dataclass(frozen=True)
class Band:
    low: int
    high: int

    def violation(self, population: float) -> float:
        return max(0.0, self.low - population) + max(0.0, population - self.high)


@dataclass(frozen=True)
class LocalGraph:
    """One district: arrays per small area (local index) and adjacency lists with shared lengths."""

    pop: np.ndarray
    x: np.ndarray
    y: np.ndarray
    area: np.ndarray
    perimeter: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    shared: np.ndarray

    @property
    def n(self) -> int:
        return len(self.pop)


class Regions:
    """Mutable regions of one district for local search: members, population, area and perimeter."""

    def __init__(self, labels: np.ndarray, g: LocalGraph, band: Band):
        self.g, self.band = g, band
        self.label = [int(v) for v in labels]
        self.k = int(labels.max()) + 1
        self.nbrs = [g.indices[g.indptr[i]:g.indptr[i + 1]].tolist() for i in range(g.n)]
        self.shared = [g.shared[g.indptr[i]:g.indptr[i + 1]].tolist() for i in range(g.n)]
        self.pop_of = g.pop.tolist()
        self.area_of = g.area.tolist()
        self.per_of = g.perimeter.tolist()
        self.members: list[set[int]] = [set() for _ in range(self.k)]
        for i, r in enumerate(self.label):
            self.members[r].add(i)
        self.pop = [0] * self.k
        self.area = [0.0] * self.k
        self.perim = [0.0] * self.k
        for i, r in enumerate(self.label):
            self.pop[r] += self.pop_of[i]
            self.area[r] += self.area_of[i]
            self.perim[r] += self.per_of[i] - sum(s for j, s in zip(self.nbrs[i], self.shared[i])
                                                  if self.label[j] == r)

    # -- measures -------------------------------------------------------------------------------
    def viol(self, population: float) -> float:
        return self.band.violation(population)

    def total_violation(self) -> float:
        return sum(self.viol(p) for p in self.pop)

    @staticmethod
    def pp(area: float, perimeter: float) -> float:
        return 4 * math.pi * area / (perimeter * perimeter) if perimeter > 0 else 0.0

    def links(self, v: int) -> dict[int, float]:
        out: dict[int, float] = {}
        for j, s in zip(self.nbrs[v], self.shared[v]):
            r = self.label[j]
            out[r] = out.get(r, 0.0) + s
        return out

    def gain(self, v: int, q: int, links: dict[int, float]) -> float:
        """Change in the two regions' summed Polsby–Popper score if ``v`` moved to region ``q``."""
        r = self.label[v]
        a, p = self.area_of[v], self.per_of[v]
        before = self.pp(self.area[r], self.perim[r]) + self.pp(self.area[q], self.perim[q])
        after = (self.pp(self.area[r] - a, self.perim[r] - p + 2 * links.get(r, 0.0))
                 + self.pp(self.area[q] + a, self.perim[q] + p - 2 * links.get(q, 0.0)))
        return after - before

    # -- moves ----------------------------------------------------------------------------------
    def can_leave(self, v: int) -> bool:
        """Whether ``v`` can leave its region and leave it non-empty and in one piece."""
        r = self.label[v]
        if len(self.members[r]) <= 1:
            return False
        targets = {j for j in self.nbrs[v] if self.label[j] == r}
        if not targets:
            return False
        start = next(iter(targets))
        seen = {start, v}
        queue = deque([start])
        found = 1
        label, nbrs = self.label, self.nbrs
        while queue and found < len(targets):
            u = queue.popleft()
            for j in nbrs[u]:
                if j not in seen and label[j] == r:
                    seen.add(j)
                    queue.append(j)
                    if j in targets:
                        found += 1
        return found >= len(targets)

    def move(self, v: int, q: int, links: dict[int, float] | None = None) -> None:
        links = self.links(v) if links is None else links
        r = self.label[v]
        a, p, pop = self.area_of[v], self.per_of[v], self.pop_of[v]
        self.area[r] -= a
        self.perim[r] += -p + 2 * links.get(r, 0.0)
        self.pop[r] -= pop
        self.area[q] += a
        self.perim[q] += p - 2 * links.get(q, 0.0)
        self.pop[q] += pop
        self.members[r].discard(v)
        self.members[q].add(v)
        self.label[v] = q

    # -- band repair ----------------------------------------------------------------------------
    def _delta(self, v: int, r: int, q: int) -> float:
        p = self.pop_of[v]
        return (self.viol(self.pop[r] - p) ** 2 + self.viol(self.pop[q] + p) ** 2
                - self.viol(self.pop[r]) ** 2 - self.viol(self.pop[q]) ** 2)

    def _candidates(self, r: int) -> list[tuple[int, int]]:
        """Moves (area, destination) that touch region ``r``: out of it if too big, into it if too small."""
        out = []
        if self.pop[r] > self.band.high:
            for v in self.members[r]:
                for j in self.nbrs[v]:
                    if self.label[j] != r:
                        out.append((v, self.label[j]))
        else:
            for u in self.members[r]:
                for j in self.nbrs[u]:
                    if self.label[j] != r:
                        out.append((j, r))
        return sorted(set(out))

    def branch(self, v: int) -> list[int]:
        """``v`` with every piece of its region that would be cut off without it (smaller pieces)."""
        r = self.label[v]
        left = self.members[r] - {v}
        pieces: list[list[int]] = []
        seen: set[int] = set()
        for start in sorted(left):
            if start in seen:
                continue
            piece, queue = [start], deque([start])
            seen.add(start)
            while queue:
                u = queue.popleft()
                for j in self.nbrs[u]:
                    if j not in seen and j in left:
                        seen.add(j)
                        piece.append(j)
                        queue.append(j)
            pieces.append(piece)
        if not pieces:
            return [v]
        kept = max(pieces, key=lambda piece: (sum(self.pop_of[u] for u in piece), len(piece), -min(piece)))
        return [v] + [u for piece in pieces if piece is not kept for u in piece]

    def move_all(self, areas: list[int], q: int) -> None:
        for v in areas:
            self.move(v, q)

    def _improve(self, r: int) -> bool:
        scored = []
        candidates = self._candidates(r)
        for v, q in candidates:
            delta = self._delta(v, self.label[v], q)
            if delta < 0:
                scored.append((delta, -self.gain(v, q, self.links(v)), v, q))
        for _, _, v, q in sorted(scored):
            if self.can_leave(v):
                self.move(v, q)
                return True
        best = None  # no single area can move: carry an area with the pieces it holds on (a branch)
        for v, q in candidates:
            carried = self.branch(v)
            source = self.label[v]
            if len(carried) >= len(self.members[source]):
                continue
            p = sum(self.pop_of[u] for u in carried)
            delta = (self.viol(self.pop[source] - p) ** 2 + self.viol(self.pop[q] + p) ** 2
                     - self.viol(self.pop[source]) ** 2 - self.viol(self.pop[q]) ** 2)
            if delta < 0 and (best is None or (delta, len(carried)) < best[:2]):
                best = (delta, len(carried), carried, q)
        if best is not None:
            self.move_all(best[2], best[3])
            return True
        return False

    def _region_graph(self) -> list[set[int]]:
        adjacent: list[set[int]] = [set() for _ in range(self.k)]
        for v, r in enumerate(self.label):
            for j in self.nbrs[v]:
                if self.label[j] != r:
                    adjacent[r].add(self.label[j])
        return adjacent

    def _chain(self, r: int) -> bool:
        """Pass population along a path of regions to or from ``r``; undone unless it helps."""
        short = self.pop[r] < self.band.low
        adjacent = self._region_graph()
        parent = {r: -1}
        queue = deque([r])
        order = []
        while queue:
            a = queue.popleft()
            for b in sorted(adjacent[a]):
                if b not in parent and len(order) < 64:
                    parent[b] = a
                    depth, c = 0, b
                    while c != r:
                        c, depth = parent[c], depth + 1
                    if depth <= CHAIN_DEPTH:
                        queue.append(b)
                        order.append(b)
        before = sum(self.viol(p) ** 2 for p in self.pop)
        for end in order:
            path = [end]
            while path[-1] != r:
                path.append(parent[path[-1]])
            hops = list(zip(path[:-1], path[1:])) if short else [(b, a) for a, b in zip(path[:-1], path[1:])][::-1]
            done = []
            for source, dest in hops:
                options = [v for v in self.members[source] if any(self.label[j] == dest for j in self.nbrs[v])]
                options.sort(key=lambda v: (self.pop_of[v], v))
                moved = False
                for v in options:
                    if self.can_leave(v):
                        done.append((v, source))
                        self.move(v, dest)
                        moved = True
                        break
                if not moved:
                    break
            if len(done) == len(hops) and sum(self.viol(p) ** 2 for p in self.pop) < before:
                return True
            for v, source in reversed(done):
                self.move(v, source)
        return False

    def repair(self) -> bool:
        for _ in range(max(REPAIR_ROUNDS, 4 * self.g.n)):
            bad = sorted((r for r in range(self.k) if self.viol(self.pop[r]) > 0),
                         key=lambda r: (-self.viol(self.pop[r]), r))
            if not bad:
                return True
            if any(self._improve(r) for r in bad):
                continue
            if not any(self._chain(r) for r in bad) and not any(self._swap(r) for r in bad):
                return False
        return self.total_violation() == 0

    def _swap(self, r: int) -> bool:
        """Exchange an area of ``r`` with one of a neighbouring region when that reduces the violation."""
        before = sum(self.viol(p) ** 2 for p in self.pop)
        tried = 0
        pairs = []
        for u in sorted(self.members[r]):
            for j in self.nbrs[u]:
                q = self.label[j]
                if q != r:
                    pairs.append((q, j))
        for q, v in sorted(set(pairs)):
            if not self.can_leave(v):
                continue
            self.move(v, r)  # v joins r; now try sending one of r's areas back to q
            for u in sorted(self.members[r] - {v}):
                if tried >= SWAP_LIMIT:
                    break
                if not any(self.label[j] == q for j in self.nbrs[u]):
                    continue
                tried += 1
                if self.can_leave(u):
                    self.move(u, q)
                    if sum(self.viol(p) ** 2 for p in self.pop) < before:
                        return True
                    self.move(u, r)
            self.move(v, q)
            if tried >= SWAP_LIMIT:
                break
        return False

    # -- compactness polish ---------------------------------------------------------------------
    def polish(self) -> int:
        """Move boundary areas while that raises summed compactness; returns the number of moves."""
        queue = deque(v for v in range(self.g.n) if any(self.label[j] != self.label[v] for j in self.nbrs[v]))
        queued = set(queue)
        budget = POLISH_EVALUATIONS_PER_AREA * self.g.n
        moves = 0
        while queue and budget > 0:
            v = queue.popleft()
            queued.discard(v)
            budget -= 1
            r = self.label[v]
            links = self.links(v)
            if len(links) < 2 or len(self.members[r]) <= 1:
                continue
            p = self.pop_of[v]
            best, best_q = 1e-9, -1
            for q in links:
                if q == r:
                    continue
                if (self.viol(self.pop[r] - p) > self.viol(self.pop[r])
                        or self.viol(self.pop[q] + p) > self.viol(self.pop[q])):
                    continue
                gain = self.gain(v, q, links)
                if gain > best:
                    best, best_q = gain, q
            if best_q >= 0 and self.can_leave(v):
                self.move(v, best_q, links)
                moves += 1
                for j in (v, *self.nbrs[v]):
                    if j not in queued:
                        queue.append(j)
                        queued.add(j)
        return moves
