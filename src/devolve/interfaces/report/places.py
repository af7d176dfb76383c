"""Neighbourhood and estate outputs: CSV tables, GeoJSON, GeoPackage, an offline HTML map and a PNG.

Figures are built from a :class:`~devolve.services.places.NeighbourhoodResult` (no computing here
beyond drawing); each writer writes to a temporary file beside the target and renames it, so a
failed write leaves nothing half-written. The HTML map inlines plotly.js and draws no base-map
tiles, so it opens offline.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import plotly.graph_objects as go
import polars as pl

from devolve.services.places import EstateResult, NeighbourhoodResult
from devolve.interfaces.report.files import write_atomically as _atomic

WGS84 = "EPSG:4326"
PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4")
NEIGHBOURHOOD_SUFFIXES = {".csv": "assignment", ".geojson": "geojson", ".json": "json", ".gpkg": "geopackage",
                          ".html": "map", ".png": "png"}


def _title(result: NeighbourhoodResult) -> str:
    label = " (synthetic data)" if result.data == "synthetic" else ""
    return (f"{result.deal.name}: {result.summary.height} neighbourhoods of "
            f"{result.band[0]:,}–{result.band[1]:,} residents{label}")


def _frame_for_gis(result: NeighbourhoodResult) -> gpd.GeoDataFrame:
    frame = result.geometry.copy()
    frame["data"] = result.data
    frame["geometry_source"] = result.geometry_origin
    return frame


def write_assignment_csv(result: NeighbourhoodResult, path: Path) -> Path:
    table = result.assignment.with_columns(pl.lit(result.data).alias("data"))
    return _atomic(path, lambda tmp: table.write_csv(tmp))


def write_summary_csv(result: NeighbourhoodResult, path: Path) -> Path:
    table = result.summary.with_columns(pl.lit(result.data).alias("data"))
    return _atomic(path, lambda tmp: table.write_csv(tmp))


def write_json(result: NeighbourhoodResult, path: Path) -> Path:
    text = json.dumps(result.to_json(), indent=2, ensure_ascii=False, default=str)
    return _atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_geojson(result: NeighbourhoodResult, path: Path) -> Path:
    """Neighbourhood polygons with their summary, in WGS84 (RFC 7946)."""
    frame = _frame_for_gis(result).to_crs(WGS84)
    return _atomic(path, lambda tmp: frame.to_file(tmp, driver="GeoJSON", engine="pyogrio"))


def write_geopackage(result: NeighbourhoodResult, path: Path) -> Path:
    """Layers ``neighbourhoods``, ``small_areas`` and ``hubs`` (British National Grid, EPSG:27700)."""
    hubs = result.summary.select("neighbourhood", "hub", "hub_name", "hub_type", "hub_owner", "hub_x", "hub_y",
                                 "mean_distance_km")
    hub_frame = gpd.GeoDataFrame({c: hubs[c].to_list() for c in hubs.columns if c not in ("hub_x", "hub_y")},
                                 geometry=gpd.points_from_xy(hubs["hub_x"].to_numpy(), hubs["hub_y"].to_numpy()),
                                 crs=result.areas.crs)

    def write(tmp: Path) -> None:
        _frame_for_gis(result).to_file(tmp, layer="neighbourhoods", driver="GPKG", engine="pyogrio")
        result.areas.to_file(tmp, layer="small_areas", driver="GPKG", engine="pyogrio", mode="a")
        hub_frame.to_file(tmp, layer="hubs", driver="GPKG", engine="pyogrio", mode="a")

    return _atomic(path, write)


def map_figure(result: NeighbourhoodResult) -> go.Figure:
    """The neighbourhoods coloured so that neighbours differ, with each hub marked."""
    frame = result.geometry.to_crs(WGS84)
    geojson = json.loads(frame[["neighbourhood", "geometry"]].to_json())
    s = result.summary
    colours = [c % len(PALETTE) + 0.5 for c in s["colour"].to_list()]  # the middle of each colour's band
    scale = []
    for i, colour in enumerate(PALETTE):
        scale += [[i / len(PALETTE), colour], [(i + 1) / len(PALETTE), colour]]
    hover = [f"<b>{r['neighbourhood']}</b> ({r['district_name']})<br>{r['population']:,} residents, "
             f"{r['small_areas']} small areas<br>compactness {r['compactness']:.2f}<br>hub: "
             f"{r['hub_name'] or r['hub']}" for r in s.iter_rows(named=True)]
    hubs = gpd.GeoSeries(gpd.points_from_xy(s["hub_x"].to_numpy(), s["hub_y"].to_numpy()),
                         crs=result.areas.crs).to_crs(WGS84)
    # The hubs go first: plotly.js decides from the first trace of a map whether it needs its world
    # base map (fetched from a CDN); points given by lon/lat do not, so the file works offline.
    figure = go.Figure(go.Scattergeo(
        lon=hubs.x.to_list(), lat=hubs.y.to_list(), mode="markers", name="hub",
        marker=dict(size=6, color="black", symbol="circle"),
        text=[f"hub of {n}: {name or hub}" for n, name, hub in zip(s["neighbourhood"], s["hub_name"], s["hub"])],
        hoverinfo="text"))
    figure.add_trace(go.Choropleth(
        geojson=geojson, featureidkey="properties.neighbourhood", locations=s["neighbourhood"].to_list(),
        z=colours, zmin=0, zmax=len(PALETTE), colorscale=scale, showscale=False, text=hover, hoverinfo="text",
        marker_line_color="white", marker_line_width=0.8))
    figure.update_geos(fitbounds="locations", visible=False, projection_type="mercator")
    figure.update_layout(title=_title(result), margin=dict(l=10, r=10, t=50, b=10), height=720, showlegend=False,
                         font=dict(family="Arial, sans-serif", size=13))
    return figure


def map_figure_html(result: NeighbourhoodResult) -> str:
    """The map as a ``<div>`` for embedding in a page that already loads plotly.js."""
    return map_figure(result).to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})


def write_map_html(result: NeighbourhoodResult, path: Path) -> Path:
    """A self-contained HTML map (plotly.js inlined, no tiles): opens offline in any browser."""
    html = map_figure(result).to_html(full_html=True, include_plotlyjs=True, config={"displaylogo": False})
    return _atomic(path, lambda tmp: tmp.write_text(html, encoding="utf-8"))


def write_map_png(result: NeighbourhoodResult, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = result.geometry
    colours = [PALETTE[c % len(PALETTE)] for c in frame["colour"].tolist()]
    figure, axes = plt.subplots(figsize=(10, 10))
    result.areas.boundary.plot(ax=axes, color="#ffffff", linewidth=0.15, zorder=2)
    frame.plot(ax=axes, color=colours, edgecolor="white", linewidth=0.8, zorder=1)
    result.districts.boundary.plot(ax=axes, color="#333333", linewidth=1.0, zorder=3)
    s = result.summary
    axes.scatter(s["hub_x"].to_numpy(), s["hub_y"].to_numpy(), s=10, c="black", zorder=4, label="hub")
    axes.set_axis_off()
    axes.set_title(_title(result), fontsize=11)
    axes.legend(loc="lower right", frameon=False)
    figure.tight_layout()

    def write(tmp: Path) -> None:
        figure.savefig(tmp, dpi=150, format="png")

    try:
        return _atomic(path, write)
    finally:
        plt.close(figure)


WRITERS: dict[str, Callable[[NeighbourhoodResult, Path], Path]] = {
    "assignment": write_assignment_csv, "geojson": write_geojson, "json": write_json,
    "geopackage": write_geopackage, "map": write_map_html, "png": write_map_png,
}
FOLDER_FILES = {"assignment": "assignment.csv", "summary": "neighbourhoods.csv", "json": "neighbourhoods.json",
                "geojson": "neighbourhoods.geojson", "geopackage": "neighbourhoods.gpkg", "map": "map.html",
                "png": "map.png"}


def write_neighbourhoods(result: NeighbourhoodResult, out: Path) -> dict[str, Path]:
    """Write one file chosen by ``out``'s suffix, or every output into ``out`` as a folder."""
    kind = NEIGHBOURHOOD_SUFFIXES.get(out.suffix.lower())
    if kind is not None and not out.is_dir():
        return {kind: WRITERS[kind](result, out)}
    written = {}
    for key, name in FOLDER_FILES.items():
        writer = write_summary_csv if key == "summary" else WRITERS[key]
        written[key] = writer(result, out / name)
    return written


def write_estate(result: EstateResult, out_dir: Path) -> dict[str, Path]:
    """hubs.csv, shared_buildings.csv, released_buildings.csv, moves.csv and estate.json in ``out_dir``."""
    tables = {"hubs": result.hubs, "shared": result.plan.shared, "released": result.plan.released,
              "moves": result.plan.moves}
    names = {"hubs": "hubs.csv", "shared": "shared_buildings.csv", "released": "released_buildings.csv",
             "moves": "moves.csv"}
    label = pl.lit("synthetic" if result.synthetic else "real").alias("data")
    written = {key: _atomic(out_dir / names[key], lambda tmp, t=table: t.with_columns(label).write_csv(tmp))
               for key, table in tables.items()}
    text = json.dumps(result.to_json(), indent=2, ensure_ascii=False, default=str)
    written["json"] = _atomic(out_dir / "estate.json", lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return written
