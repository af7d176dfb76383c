"""``/api/v1/deals…``: the deals, their neighbourhoods, fair shares, published forecasts and indicators.

Everything here is published (any visitor may read it); results come from the per-deal cache.
"""

# No `from __future__ import annotations` here: FastAPI must see the DealId enum made inside router().

from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from devolve.engines.allocate import LEVELS as ALLOCATION_LEVELS
from devolve.interfaces.api.models import ERRORS, DealOut, OrganisationOut
from devolve.interfaces.api.responses import cached_json
from devolve.interfaces.api.security import Published, State
from devolve.services.accounts import organisations
from devolve.services.deals import list_deals
from devolve.services.indicators import LEVELS as INDICATOR_LEVELS
from devolve.services.workspace import DEFAULT_RUNS

AllocationLevel = Enum("AllocationLevel", {level: level for level in ALLOCATION_LEVELS}, type=str)
IndicatorLevel = Enum("IndicatorLevel", {level: level for level in INDICATOR_LEVELS}, type=str)
YearQuery = Annotated[str | None, Query(max_length=9, description="A financial year of the deal, e.g. 2016/17 "
                                                                  "(default: its first)")]


def router(deal_ids: list[str]) -> APIRouter:
    DealId = Enum("DealId", {i: i for i in deal_ids}, type=str)  # noqa: N806 (a type, named as one)
    api = APIRouter(prefix="/api/v1", tags=["deals"], responses=ERRORS)

    @api.get("/deals", response_model=list[DealOut], summary="The deals this app serves")
    async def deals(request: Request, who: Published, state: State) -> Response:
        def compute() -> list[dict[str, Any]]:
            listed = {d["id"]: d for d in list_deals()}
            home = state.home.summary()
            listed.setdefault(home["id"], {"id": home["id"], "name": home["name"], "start": home["start"],
                                           "years": home["years"]})
            return [listed[i] for i in state.workspaces.ids() if i in listed]

        return await cached_json(request, ("deals",), compute)

    @api.get("/organisations", response_model=list[OrganisationOut],
             summary="The partnership's organisations (the partners users belong to)")
    def partnership(who: Published, state: State) -> list[dict[str, str]]:
        return organisations(state.deal)

    @api.get("/deals/{deal_id}", summary="A deal: partners, places, money, governance, sources")
    async def deal(request: Request, deal_id: DealId, who: Published, state: State) -> Response:
        return await cached_json(request, ("deal", deal_id.value),
                                 lambda: state.workspaces.get(deal_id.value).summary())

    @api.get("/deals/{deal_id}/neighbourhoods", summary="Neighbourhoods of 30-50k residents and their hubs")
    async def neighbourhoods(request: Request, deal_id: DealId, who: Published, state: State) -> Response:
        return await cached_json(request, ("neighbourhoods", deal_id.value),
                                 lambda: state.workspaces.get(deal_id.value).neighbourhoods_json())

    @api.get("/deals/{deal_id}/neighbourhoods.geojson", summary="The neighbourhoods as GeoJSON (WGS84)",
             response_class=Response, responses={200: {"content": {"application/geo+json": {}}}})
    def neighbourhoods_geojson(deal_id: DealId, who: Published, state: State) -> Response:
        from devolve.interfaces.web.figures import neighbourhoods_geojson as geojson
        return Response(geojson(state.workspaces.get(deal_id.value)), media_type="application/geo+json")

    @api.get("/deals/{deal_id}/allocation", summary="Fair shares of the pooled budget at a level, for a year")
    async def allocation(request: Request, deal_id: DealId, who: Published, state: State,
                         level: AllocationLevel = AllocationLevel("district"), year: YearQuery = None) -> Response:
        return await cached_json(request, ("allocation", deal_id.value, level.value, year or ""),
                                 lambda: state.workspaces.get(deal_id.value).allocation_json(level.value, year))

    @api.get("/deals/{deal_id}/scenarios", response_model=list[str], summary="The scenarios of the deal's pack")
    def scenarios(deal_id: DealId, who: Published, state: State) -> list[str]:
        return state.workspaces.get(deal_id.value).scenario_names()

    @api.get("/deals/{deal_id}/forecast",
             summary=f"The published five-year forecast of a named scenario ({DEFAULT_RUNS} runs, seed 0)")
    async def published_forecast(request: Request, deal_id: DealId, who: Published, state: State,
                                 scenario: Annotated[str | None, Query(max_length=100,
                                                                       description="default: plan")] = None
                                 ) -> Response:
        def compute() -> dict[str, Any]:
            space = state.workspaces.get(deal_id.value)
            chosen = (scenario,) if scenario else space.default_scenario()
            return space.forecast_json(chosen, DEFAULT_RUNS, space.seed)

        return await cached_json(request, ("forecast", deal_id.value, scenario or ""), compute)

    @api.get("/deals/{deal_id}/indicators", summary="Outcomes and inequalities, with targets and SPC")
    async def indicators(request: Request, deal_id: DealId, who: Published, state: State,
                         level: IndicatorLevel = IndicatorLevel("district")) -> Response:
        return await cached_json(request, ("indicators", deal_id.value, level.value),
                                 lambda: state.workspaces.get(deal_id.value).indicators_json(level.value))

    return api


__all__ = ["router"]
