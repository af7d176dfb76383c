"""Published pages about the deal: overview, neighbourhood map, fair shares (table, chart, maps), indicators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from devolve.engines.allocate import LEVELS as ALLOCATION_LEVELS
from devolve.interfaces.api.security import Published, State
from devolve.interfaces.report.allocation import LEVEL_TITLES
from devolve.interfaces.web import figures
from devolve.interfaces.web.pages import render
from devolve.services.indicators import LEVELS as INDICATOR_LEVELS

#: The fair-shares page offers the levels that can be mapped and read in a table.
PAGE_LEVELS = tuple(level for level in ("district", "ccg", "neighbourhood", "partner") if level in ALLOCATION_LEVELS)
Level = Annotated[str, Query(max_length=20)]
Year = Annotated[str | None, Query(max_length=9)]


def router() -> APIRouter:
    web = APIRouter(include_in_schema=False)

    @web.get("/", response_class=HTMLResponse)
    def overview(request: Request, who: Published, state: State) -> HTMLResponse:
        return render(request, "overview.html", who=who, title="Overview", charts=figures.deal_charts(state.home),
                      s=state.home.summary())

    @web.get("/neighbourhoods", response_class=HTMLResponse)
    def neighbourhoods(request: Request, who: Published, state: State) -> HTMLResponse:
        summary = state.home.summary()
        return render(request, "neighbourhoods.html", who=who, title="Neighbourhoods",
                      n=state.home.neighbourhoods_json(), map=figures.neighbourhood_map(state.home), charts=True,
                      district_names={d["code"]: d["name"] for d in summary["districts"]})

    @web.get("/fair-shares", response_class=HTMLResponse)
    def fair_shares(request: Request, who: Published, state: State, level: Level = "district",
                    year: Year = None) -> HTMLResponse:
        level = level if level in PAGE_LEVELS else "district"
        label = state.home.year_label(year)
        return render(request, "fair_shares.html", who=who, title="Fair shares", charts=True, level=level,
                      level_title=LEVEL_TITLES[level], levels=[(v, LEVEL_TITLES[v]) for v in PAGE_LEVELS],
                      a=state.home.allocation_json(level, label),
                      distance_chart=figures.allocation_chart(state.home, level, label))

    @web.get("/fair-shares/map.png")
    def fair_shares_map(who: Published, state: State, level: Level = "district", year: Year = None,
                        measure: Annotated[str, Query(max_length=20)] = "per-head") -> Response:
        level = level if level in PAGE_LEVELS else "district"
        measure = measure if measure in figures.MAP_MEASURES else "per-head"
        png = figures.allocation_map(state.home, level, state.home.year_label(year), measure)
        return Response(png, media_type="image/png", headers={"Cache-Control": "public, max-age=3600"})

    @web.get("/indicators", response_class=HTMLResponse)
    def indicators(request: Request, who: Published, state: State, level: Level = "district") -> HTMLResponse:
        level = level if level in INDICATOR_LEVELS else "district"
        return render(request, "indicators.html", who=who, title="Indicators", charts=True, level=level,
                      levels=INDICATOR_LEVELS, body=figures.indicators_body(state.home, level))

    return web
