"""Small graphs of unit squares for the places engine: easy to reason about by hand."""

from __future__ import annotations

import numpy as np

from devolve.engines.places.contiguity import SmallAreaGraph


def grid(populations, districts=None, side: float = 1000.0) -> SmallAreaGraph:
    """A graph of square cells laid out as ``populations`` (rows × columns); rook neighbours in the same district.

    Cell ``(r, c)`` has index ``r * columns + c`` and code ``A<r><c>``; ``districts`` (same shape)
    names each cell's district (default: one district, ``D1``).
    """
    pops = np.asarray(populations, dtype=np.int64)
    rows, cols = pops.shape
    names = np.full(pops.shape, "D1", dtype=object) if districts is None else np.asarray(districts, dtype=object)
    r, c = np.divmod(np.arange(rows * cols), cols)
    edges, shared = [], []
    for i in range(rows * cols):
        for j in (i + 1, i + cols):
            if j >= rows * cols or (j == i + 1 and c[i] == cols - 1):
                continue
            if names.flat[i] == names.flat[j]:
                edges.append((i, j))
                shared.append(side)
    codes = [f"A{ri:02d}{ci:02d}" for ri, ci in zip(r, c)]
    return SmallAreaGraph.from_edges(codes, names.ravel(), pops.ravel(), (c + 0.5) * side, (rows - r - 0.5) * side,
                                     np.full(rows * cols, side * side), np.full(rows * cols, 4 * side), edges, shared)
