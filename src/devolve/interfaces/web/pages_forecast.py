"""The forecast pages: the published scenarios, and a scenario form that runs as a background job.

Without JavaScript: the form POSTs, the server starts the job and redirects to its page, which
refreshes itself (``<meta http-equiv="refresh">``) until the result is drawn.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from devolve.domain.errors import InputError
from devolve.interfaces.api.routes_jobs import FORECAST, find_job, submit_forecast
from devolve.interfaces.api.security import Internal, Published, Scenarios, State
from devolve.interfaces.web import figures
from devolve.interfaces.web.pages import render
from devolve.services.jobs import DONE
from devolve.services.workspace import DEFAULT_RUNS, MAX_RUNS


def _whole(text: str, name: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise InputError(f"{name} must be a whole number; got '{text}'") from None


def router() -> APIRouter:
    web = APIRouter(include_in_schema=False)

    def page(request, who, state, result, chosen, runs, seed, *, template="forecast.html", f=None, **extra):
        charts = figures.forecast_charts(state.home, result) if result is not None else {}
        f = f if f is not None or result is None else result.to_json()
        return render(request, template, who=who, title="Forecast", charts=charts,
                      scenarios=state.home.scenario_names(), chosen=chosen, runs=runs, seed=seed, max_runs=MAX_RUNS,
                      f=f, **extra)

    @web.get("/forecast", response_class=HTMLResponse)
    def published(request: Request, who: Published, state: State,
                  scenario: Annotated[str | None, Query(max_length=100)] = None) -> HTMLResponse:
        chosen = (scenario,) if scenario else state.home.default_scenario()
        result = state.home.forecast(chosen, DEFAULT_RUNS, state.home.seed)
        return page(request, who, state, result, chosen, DEFAULT_RUNS, state.home.seed,
                    f=state.home.forecast_json(chosen, DEFAULT_RUNS, state.home.seed))

    @web.post("/forecast")
    def run(request: Request, who: Scenarios, state: State,
            scenario: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
            runs: Annotated[str, Form(max_length=12)] = str(DEFAULT_RUNS),
            seed: Annotated[str, Form(max_length=12)] = "0") -> RedirectResponse:
        job = submit_forecast(state, state.home.deal.id, scenario, _whole(runs, "runs"), _whole(seed, "the seed"),
                              who.username)
        return RedirectResponse(f"/forecast/runs/{job.id}", status_code=303)

    @web.get("/forecast/runs/{job_id}", response_class=HTMLResponse)
    def job_page(request: Request, job_id: str, who: Internal, state: State) -> HTMLResponse:
        job = find_job(state, job_id)
        if job.kind != FORECAST:
            raise InputError(f"job {job_id} is not a forecast")
        done = job.status == DONE and not job.result_dropped
        params = job.params
        return page(request, who, state, job.result if done else None, tuple(params["scenarios"]), params["runs"],
                    params["seed"], template="forecast_run.html", job=job, refresh=None if job.finished else 1)

    return web
