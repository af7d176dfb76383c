"""Capacity planning: sweep each pathway's places and find the least-cost mix that meets a target.

The question: which numbers of home-support packages, bedded-reablement beds and care-home places
cost least in total — community places (paid whether used or not) plus hospital bed days —
while cutting delayed days to at most ``target_fraction`` × today's (for example a half)?

Method (all runs share the seed, so every comparison is paired — common random numbers):

1. **Baseline**: the model as given.
2. **Sweeps**: for each pathway k alone, capacities c = round(a_k + β √a_k) over a grid of β
   around today's (square-root staffing: a_k is the pathway's offered load, the places it would
   keep busy with no waiting), others held at today's.
3. **Combine**: predict each mix's delayed days and bed days as the baseline plus the sum of each
   pathway's change in its own sweep (pathways interact only through the bed base, weakly), and
   its cost exactly; keep the mixes predicted to meet the target, cheapest first.
4. **Verify**: simulate the cheapest candidates in full; the plan is the cheapest whose simulated
   mean delayed days meet the target.

>>> from devolve.engines.flow.model import example_model
>>> plan = plan_capacity(example_model(days=60), target_fraction=0.5, replications=6, steps=4, verify=2)
>>> sorted(plan.sweep["pathway"].unique())
['bedded_reablement', 'care_home', 'home_support']
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from devolve.domain.errors import InputError
from devolve.engines.flow.estimates import Estimate, estimate, paired_difference
from devolve.engines.flow.model import DischargeModel
from devolve.engines.flow.simulate import FlowRun, simulate

Progress = Callable[[int, int], None]
BETA_SPAN = (-1.0, 4.0)   # the grid of β runs from min(today's β, -1) to max(today's β, 0) + 4


@dataclass(frozen=True)
class CapacityMix:
    """A verified mix of capacities with its simulated delays and costs (pounds over the period)."""

    capacities: dict[str, int]
    delayed_days: Estimate
    total_cost: Estimate
    community_cost: float
    hospital_cost: Estimate
    reduction: Estimate          # baseline − this mix, delayed days, paired by replication
    meets_target: bool


@dataclass(frozen=True)
class CapacityPlan:
    """The sweeps, the verified candidates and the least-cost mix meeting the target (if any)."""

    target_fraction: float
    target_delayed_days: float
    baseline: FlowRun
    sweep: pl.DataFrame          # pathway, capacity, delayed_days_mean/low/high, bed_days_mean, costs
    candidates: tuple[CapacityMix, ...]
    best: CapacityMix | None

    def candidates_table(self) -> pl.DataFrame:
        return pl.DataFrame([{**{f"capacity_{k}": v for k, v in c.capacities.items()},
                              "delayed_days_mean": c.delayed_days.mean, "total_cost_gbp": c.total_cost.mean,
                              "community_cost_gbp": c.community_cost, "meets_target": c.meets_target}
                             for c in self.candidates])


def capacity_grid(model: DischargeModel, name: str, steps: int) -> list[int]:
    """Capacities to try for one pathway: square-root staffing around its offered load, and today's."""
    load = model.offered_load()[name]
    today = model.pathway(name).capacity
    root = math.sqrt(max(load, 1.0))
    beta_today = (today - load) / root
    low, high = min(beta_today, BETA_SPAN[0]), max(beta_today, 0.0) + BETA_SPAN[1]
    grid = {max(0, int(round(load + beta * root))) for beta in np.linspace(low, high, steps)}
    grid.add(today)
    return sorted(grid)


def _mix(model: DischargeModel, run: FlowRun, baseline: FlowRun, target: float) -> CapacityMix:
    delayed = run.per_replication["delayed_days"].to_numpy()
    return CapacityMix(
        capacities={p.name: p.capacity for p in run.model.pathways},
        delayed_days=estimate(delayed),
        total_cost=run.summary.cost["total"],
        community_cost=run.model.community_cost_per_day() * run.model.days,
        hospital_cost=run.summary.cost["hospital_bed_days"],
        reduction=paired_difference(baseline.per_replication["delayed_days"].to_numpy(), delayed),
        meets_target=run.summary.delayed_days.mean <= target,
    )


def plan_capacity(model: DischargeModel, *, target_fraction: float = 0.5, replications: int = 200, seed: int = 0,
                  steps: int = 8, verify: int = 4, threads: int | None = None,
                  progress: Progress | None = None) -> CapacityPlan:
    """Sweep each pathway's capacity and find the least-cost mix with delayed days at most
    ``target_fraction`` × the baseline's (see the module's description of the method)."""
    if isinstance(target_fraction, bool) or not isinstance(target_fraction, (int, float)) \
            or not 0.0 <= target_fraction <= 1.0:
        raise InputError("the target must be a fraction of today's delayed days from 0 to 1; "
                         f"found {target_fraction!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 2 <= steps <= 50:
        raise InputError(f"sweep steps must be a whole number from 2 to 50; found {steps!r}")
    if isinstance(verify, bool) or not isinstance(verify, int) or not 1 <= verify <= 50:
        raise InputError(f"mixes to verify must be a whole number from 1 to 50; found {verify!r}")
    grids = {p.name: capacity_grid(model, p.name, steps) for p in model.pathways}
    total_runs = 1 + sum(len(g) - 1 for g in grids.values()) + verify
    done = 0

    def run(candidate: DischargeModel) -> FlowRun:
        nonlocal done
        result = simulate(candidate, replications=replications, seed=seed, threads=threads)
        done += 1
        if progress is not None:
            progress(min(done, total_runs), total_runs)
        return result

    baseline = run(model)
    base_delayed = baseline.summary.delayed_days.mean
    base_beds = float(baseline.per_replication["bed_days"].mean())
    target = target_fraction * base_delayed
    rows, delta_delayed, delta_beds = [], {}, {}
    for p in model.pathways:
        delta_delayed[p.name], delta_beds[p.name] = [], []
        for capacity in grids[p.name]:
            result = baseline if capacity == p.capacity else run(model.with_capacity(**{p.name: capacity}))
            delayed = result.summary.delayed_days
            bed_days = float(result.per_replication["bed_days"].mean())
            delta_delayed[p.name].append(delayed.mean - base_delayed)
            delta_beds[p.name].append(bed_days - base_beds)
            rows.append({"pathway": p.name, "capacity": capacity, "delayed_days_mean": delayed.mean,
                         "delayed_days_low": delayed.low, "delayed_days_high": delayed.high,
                         "pathway_delayed_days_mean": float(result.per_replication[f"queue_days_{p.name}"].mean()),
                         "bed_days_mean": bed_days,
                         "community_cost_gbp": result.model.community_cost_per_day() * model.days,
                         "total_cost_gbp": result.summary.cost["total"].mean})
    sweep = pl.DataFrame(rows)
    # Predict every mix on the grids (additive changes), cheapest predicted-feasible first.
    names = [p.name for p in model.pathways]
    predictions = []
    for combo in itertools.product(*(range(len(grids[n])) for n in names)):
        capacities = {n: grids[n][i] for n, i in zip(names, combo)}
        delayed = base_delayed + sum(delta_delayed[n][i] for n, i in zip(names, combo))
        beds = base_beds + sum(delta_beds[n][i] for n, i in zip(names, combo))
        community = sum(capacities[p.name] * p.cost_per_place_day for p in model.pathways) * model.days
        predictions.append((community + beds * model.bed_day_cost, delayed, capacities))
    feasible = sorted((p for p in predictions if p[1] <= target), key=lambda p: p[0])
    if not feasible:   # nothing on the grids is predicted to meet the target: try the lowest-delay mixes
        feasible = sorted(predictions, key=lambda p: (p[1], p[0]))
    candidates, seen = [], set()
    for _cost, _delayed, capacities in feasible:
        key = tuple(capacities.values())
        if key in seen:
            continue
        seen.add(key)
        candidates.append(_mix(model, run(model.with_capacity(**capacities)), baseline, target))
        if len(candidates) >= verify:
            break
    meeting = [c for c in candidates if c.meets_target]
    best = min(meeting, key=lambda c: c.total_cost.mean) if meeting else None
    if progress is not None:
        progress(total_runs, total_runs)
    return CapacityPlan(target_fraction, target, baseline, sweep, tuple(candidates), best)
