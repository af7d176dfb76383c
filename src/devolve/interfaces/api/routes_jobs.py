"""``/api/v1/…/forecasts`` and ``/api/v1/jobs``: forecast scenarios as background jobs.

``POST /api/v1/deals/{deal}/forecasts`` answers 202 at once with the job; poll ``links.self`` for
progress (runs done of runs asked) and fetch ``links.result`` when the status is ``done``.
"""

# No `from __future__ import annotations` here: FastAPI must see the DealId enum made inside router().

from enum import Enum
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from devolve.interfaces.api.errors import NotFound, NotReady
from devolve.interfaces.api.models import ERRORS, ForecastRequest, JobOut
from devolve.interfaces.api.security import Internal, Scenarios, State
from devolve.interfaces.api.state import AppState
from devolve.services.jobs import DONE, FAILED, Job

FORECAST = "forecast"


def job_json(job: Job) -> dict[str, Any]:
    return {**job.to_json(), "links": {"self": f"/api/v1/jobs/{job.id}", "result": f"/api/v1/jobs/{job.id}/result",
                                       "page": f"/forecast/runs/{job.id}"}}


def submit_forecast(state: AppState, deal_id: str, scenarios: list[str], runs: int, seed: int,
                    owner: str | None) -> Job:
    """Check the request (unknown scenarios, limits) now; run it in the background."""
    space = state.workspaces.get(deal_id)
    chosen = space.check_forecast(tuple(scenarios), runs, seed)
    return state.jobs.submit(FORECAST, lambda progress: space.forecast(chosen, runs, seed, progress=progress),
                             params={"deal": space.deal.id, "scenarios": list(chosen), "runs": runs, "seed": seed},
                             owner=owner, total=runs)


def find_job(state: AppState, job_id: str) -> Job:
    job = state.jobs.get(job_id)
    if job is None:
        raise NotFound(f"there is no job '{job_id}' (jobs are kept in memory until the app restarts)")
    return job


def router(deal_ids: list[str]) -> APIRouter:
    DealId = Enum("DealId", {i: i for i in deal_ids}, type=str)  # noqa: N806
    api = APIRouter(prefix="/api/v1", tags=["forecast jobs"], responses=ERRORS)

    @api.post("/deals/{deal_id}/forecasts", status_code=202, response_model=JobOut,
              summary="Run a forecast scenario in the background")
    def start(deal_id: DealId, request: ForecastRequest, who: Scenarios, state: State) -> JSONResponse:
        job = submit_forecast(state, deal_id.value, request.scenarios, request.runs, request.seed, who.username)
        body = job_json(job)
        return JSONResponse(body, status_code=202, headers={"Location": body["links"]["self"]})

    @api.get("/jobs", response_model=list[JobOut], summary="Recent background jobs, newest first")
    def jobs(who: Internal, state: State) -> list[dict[str, Any]]:
        return [job_json(j) for j in state.jobs.list()]

    @api.get("/jobs/{job_id}", response_model=JobOut, summary="A job's status and progress")
    def job(job_id: str, who: Internal, state: State) -> dict[str, Any]:
        return job_json(find_job(state, job_id))

    @api.get("/jobs/{job_id}/result", summary="A finished job's result (409 until it is done)")
    def result(job_id: str, who: Internal, state: State) -> dict[str, Any]:
        found = find_job(state, job_id)
        if found.status == FAILED:
            raise NotReady(f"job {found.id} failed: {found.error}")
        if found.status != DONE:
            raise NotReady(f"job {found.id} is {found.status} ({found.done:,} of {found.total:,} runs)")
        if found.result_dropped:
            raise NotFound(f"the result of job {found.id} is no longer kept (only the newest are): run it again")
        return found.result.to_json()

    return api


__all__ = ["FORECAST", "find_job", "job_json", "router", "submit_forecast"]
