"""The web pages' charts and maps, drawn by the report's figure builders
(:mod:`devolve.interfaces.report`) and kept per deal, so a page does not redraw them.

Each function takes a :class:`~devolve.services.workspace.DealWorkspace` (whose results are cached
there) and returns HTML fragments (Plotly divs, without the plotly.js bundle) or PNG bytes.
"""

from __future__ import annotations

import threading
from typing import Any

from devolve.interfaces.report import allocation as allocation_report
from devolve.interfaces.report import forecast as forecast_report
from devolve.interfaces.report import html as report_html
from devolve.interfaces.report import indicators as indicators_report
from devolve.interfaces.report import places as places_report
from devolve.services.forecast import ForecastResult
from devolve.services.workspace import DealWorkspace, Memo

MAP_MEASURES = {"per-head": "map_per_head", "distance": "map_distance"}
_drawn = Memo(256)
_pyplot = threading.Lock()     # matplotlib's pyplot keeps global state: one drawing at a time


def _key(space: DealWorkspace, *parts: Any) -> tuple:
    return (space.deal.id, id(space), *parts)


def deal_charts(space: DealWorkspace) -> dict[str, str]:
    return _drawn.get(_key(space, "deal"), lambda: report_html.deal_charts(space.summary()))


def neighbourhood_map(space: DealWorkspace) -> str:
    return _drawn.get(_key(space, "neighbourhoods"), lambda: places_report.map_figure_html(space.neighbourhoods()))


def neighbourhoods_geojson(space: DealWorkspace) -> str:
    """The neighbourhoods with their summary, as GeoJSON in WGS84 (RFC 7946)."""
    def draw() -> str:
        frame = space.neighbourhoods().geometry.to_crs(places_report.WGS84)
        frame["data"] = space.neighbourhoods().data
        return frame.to_json(drop_id=True)
    return _drawn.get(_key(space, "geojson"), draw)


def allocation_chart(space: DealWorkspace, level: str, year: str) -> str:
    return _drawn.get(_key(space, "allocation", level, year),
                      lambda: report_html.allocation_chart(space.allocation(level, year)))


def allocation_map(space: DealWorkspace, level: str, year: str, measure: str) -> bytes:
    """A PNG map (or, without boundaries, a bar chart that says so) of allocation per head or
    distance from target."""
    def draw() -> dict[str, bytes]:
        result, shapes = space.allocation(level, year), space.allocation_shapes(level)
        with _pyplot:
            return allocation_report.maps(result, shapes)

    maps = _drawn.get(_key(space, "allocation-maps", level, year), draw)
    return maps[MAP_MEASURES[measure]]


def forecast_charts(space: DealWorkspace, result: ForecastResult) -> dict[str, str]:
    key = _key(space, "forecast", result.scenario.name, result.forecast.runs, result.forecast.seed, id(result))
    return _drawn.get(key, lambda: forecast_report.figures_html(result))


def indicators_body(space: DealWorkspace, level: str) -> str:
    """The report's indicators section (tables, SPC and inequality charts) for the page."""
    return _drawn.get(_key(space, "indicators", level),
                      lambda: indicators_report.render_indicators_body(space.indicators_json(level)))

