"""A deal's estate register (``estate.csv``): the public buildings its partners own.

One row per building: ``id``, ``name``, ``type`` (see :data:`devolve.domain.records.BUILDING_TYPES`),
``owner`` (a partner id), a location (``lon``/``lat`` in WGS84 degrees, or ``easting``/``northing``
on the British National Grid), ``floor_area_m2``, ``running_cost_gbp`` (a year), ``condition`` (A–D,
A best), ``utilisation`` (0–1 of the floor area in use), ``current_use``, ``source`` and ``synthetic``.
The same reader checks a pack's register and a register a user imports (``devolve estate
--register FILE``); every problem names the file, the line and the field.

:func:`synthetic_register` makes the labelled synthetic register shipped with the Greater Manchester
pack: buildings placed at seeded random points inside real 2011 LSOA polygons (see
docs/method/neighbourhoods.md for the exact call).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import polars as pl

from devolve.domain.errors import PackError, Problem
from devolve.domain.records import BUILDING_TYPES, ESTATE_SCHEMA, Partner, PartnerType, empty_estate
from devolve.packs import fields as f
from devolve.packs.files import Row, read_csv

FILE = "estate.csv"
REQUIRED = ("id", "name", "type", "owner", "floor_area_m2", "running_cost_gbp", "condition", "utilisation",
            "current_use", "source")
OPTIONAL = ("lon", "lat", "easting", "northing", "synthetic")
CONDITIONS = ("A", "B", "C", "D")
LON_RANGE, LAT_RANGE = (-6.5, 2.0), (49.8, 55.9)        # England and its islands, with a margin
EASTING_RANGE, NORTHING_RANGE = (0.0, 700_000.0), (0.0, 1_300_000.0)  # the British National Grid
MAX_FLOOR_AREA_M2 = 1_000_000.0                          # larger than any single public building
AGREEMENT_M = 250.0                                      # lon/lat and easting/northing may differ this much
WGS84, BNG = "EPSG:4326", "EPSG:27700"


def _to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer  # imported here: loading a pack without a register stays light

    return Transformer.from_crs(WGS84, BNG, always_xy=True).transform(lon, lat)


def _to_wgs84(easting: np.ndarray, northing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    return Transformer.from_crs(BNG, WGS84, always_xy=True).transform(easting, northing)


def _location(row: Row) -> tuple[float | None, float | None, float | None, float | None]:
    values = row.values
    fail = lambda field: (lambda e, found: row.fail(field, e, found))  # noqa: E731
    has_lonlat = bool(values.get("lon", "") or values.get("lat", ""))
    has_grid = bool(values.get("easting", "") or values.get("northing", ""))
    if not has_lonlat and not has_grid:
        raise row.fail("lon", "a location: lon and lat, or easting and northing", "none")
    lon = lat = east = north = None
    if has_lonlat:
        lon = f.number(values.get("lon", ""), fail("lon"), minimum=LON_RANGE[0], maximum=LON_RANGE[1])
        lat = f.number(values.get("lat", ""), fail("lat"), minimum=LAT_RANGE[0], maximum=LAT_RANGE[1])
    if has_grid:
        east = f.number(values.get("easting", ""), fail("easting"), minimum=EASTING_RANGE[0],
                        maximum=EASTING_RANGE[1])
        north = f.number(values.get("northing", ""), fail("northing"), minimum=NORTHING_RANGE[0],
                         maximum=NORTHING_RANGE[1])
    return lon, lat, east, north


def read_estate(folder: Path, name: str, partners: Iterable[str]) -> pl.DataFrame:
    """Read and check the register ``folder/name``; owners must be among ``partners`` (ids)."""
    owners = set(partners)
    rows = read_csv(folder, name, REQUIRED, OPTIONAL)
    seen: dict[str, int] = {}
    records: list[dict] = []
    for row in rows:
        fail = lambda field, row=row: (lambda e, found: row.fail(field, e, found))  # noqa: E731
        building = f.identifier(row.values["id"], fail("id"))
        if building in seen:
            raise row.fail("id", "each building id once", f"'{building}' again (first on line {seen[building]})")
        seen[building] = row.line
        owner = row.values["owner"]
        if owner not in owners:
            raise row.fail("owner", "a partner id of the deal (partners.csv)", f.show(owner))
        lon, lat, east, north = _location(row)
        records.append({
            "id": building, "name": f.text(row.values["name"], fail("name")),
            "type": f.choice(row.values["type"], BUILDING_TYPES, fail("type")), "owner": owner,
            "lon": lon, "lat": lat, "easting": east, "northing": north, "line": row.line,
            "floor_area_m2": f.number(row.values["floor_area_m2"], fail("floor_area_m2"), minimum=1.0,
                                      maximum=MAX_FLOOR_AREA_M2),
            "running_cost_pence": f.money(row.values["running_cost_gbp"], fail("running_cost_gbp")),
            "condition": f.choice(row.values["condition"].upper(), CONDITIONS, fail("condition")),
            "utilisation": f.number(row.values["utilisation"], fail("utilisation"), minimum=0.0, maximum=1.0),
            "current_use": f.text(row.values["current_use"], fail("current_use"), allow_empty=True),
            "source": f.text(row.values["source"], fail("source")),
            "synthetic": f.boolean(row.values.get("synthetic", ""), fail("synthetic")),
        })
    if not records:
        return empty_estate()
    _complete_locations(records, name)
    frame = pl.DataFrame([{k: r[k] for k in ESTATE_SCHEMA} for r in records], schema=dict(ESTATE_SCHEMA))
    return frame


def _complete_locations(records: list[dict], name: str) -> None:
    """Fill the missing pair of coordinates; where a row gives both, they must agree."""
    lonlat = [r for r in records if r["lon"] is not None]
    if lonlat:
        east, north = _to_bng(np.array([r["lon"] for r in lonlat]), np.array([r["lat"] for r in lonlat]))
        for r, e, n in zip(lonlat, east, north):
            if r["easting"] is not None and np.hypot(e - r["easting"], n - r["northing"]) > AGREEMENT_M:
                raise PackError(Problem(name, "easting", f"a point within {AGREEMENT_M:.0f} m of lon/lat "
                                                         f"({e:.0f}, {n:.0f})",
                                        f"({r['easting']:.0f}, {r['northing']:.0f})", r["line"]))
            r["easting"], r["northing"] = float(e), float(n)
    grid = [r for r in records if r["lon"] is None]
    if grid:
        lon, lat = _to_wgs84(np.array([r["easting"] for r in grid]), np.array([r["northing"] for r in grid]))
        for r, x, y in zip(grid, lon, lat):
            r["lon"], r["lat"] = round(float(x), 6), round(float(y), 6)


def read_pack_estate(pack: Path, partners: Iterable[str]) -> pl.DataFrame:
    """The pack's ``estate.csv`` when it has one; otherwise an empty register."""
    if not (pack / FILE).is_file():
        return empty_estate()
    return read_estate(pack, FILE, partners)


# --- the synthetic register ------------------------------------------------------------------------

#: type, who owns it, buildings per 100,000 residents, floor area range (m²), running cost range (£/m²
#: a year), current use. All synthetic: plausible orders of magnitude, not published figures.
SYNTHETIC_TYPES = (
    ("gp_surgery", "primary_care", 9.0, (250, 1200), (90, 160), "GP practice"),
    ("health_centre", "commissioner", 2.5, (1500, 5000), (110, 180), "community health services and GP practices"),
    ("clinic", "community_provider", 2.5, (400, 1500), (100, 170), "community and mental health clinic"),
    ("council_office", "council", 1.2, (2000, 12000), (80, 150), "council offices and contact centre"),
    ("library", "council", 3.5, (300, 1500), (70, 130), "library"),
    ("community_centre", "council", 3.0, (300, 1200), (50, 110), "community centre"),
    ("leisure_centre", "council", 1.2, (2500, 7000), (120, 220), "leisure centre"),
    ("day_centre", "council", 1.5, (400, 1200), (70, 130), "adult day services"),
    ("housing_office", "council", 1.0, (200, 800), (70, 130), "housing advice office"),
    ("depot", "council", 0.4, (1500, 6000), (30, 70), "depot"),
    ("police_station", "police", 1.2, (800, 4000), (90, 160), "police station"),
    ("fire_station", "fire", 1.5, (800, 2000), (80, 140), "fire station"),
    ("ambulance_station", "ambulance", 0.8, (400, 1200), (80, 140), "ambulance station"),
    ("community_centre", "voluntary", 2.0, (150, 600), (40, 90), "voluntary sector community centre"),
)
HOSPITAL = ("hospital", (20000, 90000), (250, 400), "acute hospital")
CONDITION_SHARES = (0.15, 0.45, 0.30, 0.10)
VACANT_SHARE = 0.03
INSET_M = 20.0  # points are drawn at least this far inside their LSOA


def _owners(partners: Sequence[Partner], district: str, district_names: dict[str, str]) -> dict[str, list[str]]:
    """Partner ids that may own each kind of building in ``district``."""
    def named_for(p: Partner) -> str | None:
        return next((code for code, name in district_names.items() if name in p.name), None)

    providers = [p for p in partners if p.type == PartnerType.NHS_PROVIDER]
    ambulance = [p.id for p in providers if "Ambulance" in p.name]
    return {
        "council": [p.id for p in partners if p.type == PartnerType.LOCAL_AUTHORITY and district in p.districts],
        "commissioner": [p.id for p in partners if p.type == PartnerType.COMMISSIONER and district in p.districts],
        "primary_care": [p.id for p in partners if p.type == PartnerType.PRIMARY_CARE],
        "community_provider": [p.id for p in providers if named_for(p) is None and p.id not in ambulance],
        "acute_provider": [p.id for p in providers if named_for(p) == district],
        "police": [p.id for p in partners if p.type == PartnerType.POLICE],
        "fire": [p.id for p in partners if p.type == PartnerType.FIRE],
        "ambulance": ambulance,
        "voluntary": [p.id for p in partners if p.type == PartnerType.VOLUNTARY_SECTOR],
    }


def _point_in(polygon, rng: np.random.Generator) -> tuple[float, float]:
    import shapely

    inner = polygon.buffer(-INSET_M)
    target = inner if not inner.is_empty else polygon
    xmin, ymin, xmax, ymax = target.bounds
    for _ in range(1000):
        x, y = rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)
        if target.contains(shapely.Point(x, y)):
            return x, y
    point = target.representative_point()
    return point.x, point.y


def synthetic_register(partners: Sequence[Partner], district_names: dict[str, str], codes: Sequence[str],
                       districts: Sequence[str], populations: Sequence[int], polygons: Sequence,
                       seed: int) -> pl.DataFrame:
    """A labelled synthetic estate register placed inside real small-area polygons (BNG metres).

    Per district, the number of buildings of each type is its rate per 100,000 residents times the
    district's population (at least one); each building sits at a random point inside a small area
    drawn with probability proportional to population. Sizes, costs, conditions and utilisation are
    drawn from the ranges in :data:`SYNTHETIC_TYPES`. The same inputs and seed give the same register.
    """
    rng = np.random.default_rng(seed)
    codes_arr, district_arr = np.asarray(codes), np.asarray(districts)
    pop_arr = np.asarray(populations, dtype=float)
    rows: list[dict] = []
    for district in sorted(district_names):
        where = np.flatnonzero(district_arr == district)
        if where.size == 0:
            continue
        weights = pop_arr[where] / pop_arr[where].sum()
        owners = _owners(partners, district, district_names)
        residents = pop_arr[where].sum()
        plan = [(spec, max(1, round(spec[2] * residents / 100_000))) for spec in SYNTHETIC_TYPES]
        plan += [((HOSPITAL[0], "acute_provider", 0.0, *HOSPITAL[1:]), 1)] if owners["acute_provider"] else []
        numbers: dict[str, int] = {}
        for (kind, owner_kind, _, area_range, cost_range, use), count in plan:
            candidates = owners[owner_kind]
            if not candidates:
                continue
            for _ in range(count):
                number = numbers[kind] = numbers.get(kind, 0) + 1
                area = where[rng.choice(where.size, p=weights)]
                x, y = _point_in(polygons[area], rng)
                floor = float(round(rng.uniform(*area_range), -1))
                vacant = rng.random() < VACANT_SHARE and kind != "hospital"
                use_share = 0.0 if vacant else float(np.clip(round(rng.beta(5.0, 2.5), 2), 0.05, 1.0))
                rows.append({
                    "id": f"{district}-{kind}-{number:03d}",
                    "name": f"{district_names[district]} {kind.replace('_', ' ').replace('gp ', 'GP ')} {number} (synthetic)",
                    "type": kind, "owner": candidates[int(rng.integers(len(candidates)))],
                    "easting": round(x, 1), "northing": round(y, 1), "floor_area_m2": floor,
                    "running_cost_gbp": int(round(floor * rng.uniform(*cost_range))),
                    "condition": CONDITIONS[int(rng.choice(4, p=CONDITION_SHARES))],
                    "utilisation": use_share, "current_use": "vacant" if vacant else use,
                    "small_area": str(codes_arr[area]),
                })
    frame = pl.DataFrame(rows)
    lon, lat = _to_wgs84(frame["easting"].to_numpy(), frame["northing"].to_numpy())
    return frame.with_columns(pl.Series("lon", np.round(lon, 6)), pl.Series("lat", np.round(lat, 6)),
                              pl.lit(f"synthetic: devolve.packs.estate.synthetic_register(seed={seed}), "
                                     "placed inside real 2011 LSOA boundaries").alias("source"),
                              pl.lit(True).alias("synthetic"))


def register_csv(frame: pl.DataFrame) -> str:
    """The register as the text of an ``estate.csv`` (lon/lat and easting/northing both given)."""
    columns = ("id", "name", "type", "owner", "lon", "lat", "easting", "northing", "floor_area_m2",
               "running_cost_gbp", "condition", "utilisation", "current_use", "source", "synthetic")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in frame.iter_rows(named=True):
        writer.writerow(["true" if row[c] is True else row[c] for c in columns])
    return out.getvalue()
