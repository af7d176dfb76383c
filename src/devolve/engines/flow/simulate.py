"""Run a :class:`DischargeModel` for many replications; summarise with 95% confidence intervals.

``simulate(model, replications=R, seed=S)`` runs replications 0 … R-1, replication r on the
random streams ``SeedSequence(S).spawn(R)[r]``: the same seed gives the same result on any number
of threads, and two models run with the same seed share their random numbers replication by
replication (common random numbers), so their difference is measured paired, with far less noise
than two independent runs. Results cover the measured period only (after the warm-up).

>>> from devolve.engines.flow.model import example_model
>>> run = simulate(example_model(), replications=8, seed=1)
>>> run.summary.delayed_days.mean == simulate(example_model(), replications=8, seed=1).summary.delayed_days.mean
True
>>> run.per_replication.height, run.daily.height
(8, 120)
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl

from devolve.domain.errors import InputError
from devolve.engines.flow import kernel
from devolve.engines.flow.estimates import Estimate, estimate
from devolve.engines.flow.model import PATHWAY_LABELS, PATHWAYS, DischargeModel
from devolve.engines.flow.streams import replication_states

Progress = Callable[[int, int], None]
MAX_REPLICATIONS = 100_000
BATCH = 25                       # replications per batch handed to a thread
POLICY_CODES = {"escalate": kernel.ESCALATE, "divert": kernel.DIVERT, "wait": kernel.WAIT}


@dataclass(frozen=True)
class PathwaySummary:
    """One pathway with places, over the measured period."""

    name: str
    number: int
    label: str
    capacity: int
    utilisation: Estimate          # share of place-days in use (NaN mean when capacity is 0)
    wait_days: Estimate            # mean wait in hospital of patients who got a place
    delayed_days: Estimate         # bed days of patients waiting for this pathway
    referrals: Estimate            # patients ready for discharge to this pathway
    share_waiting: Estimate        # share of those who got a place who had to wait for it
    place_day_cost: float


@dataclass(frozen=True)
class FlowSummary:
    """What a run found, averaged over replications, with 95% intervals."""

    delayed_days: Estimate
    occupancy: Estimate            # mean occupied beds
    occupancy_rate: Estimate       # mean occupied beds / bed base
    peak_occupancy: Estimate
    los_days: Estimate             # mean length of stay, admission to leaving hospital
    acute_los_days: Estimate       # mean length of stay to ready for discharge
    delayed_patients: Estimate
    bed_wait_days: Estimate        # days spent waiting for a bed (policy "wait")
    full_days: Estimate            # days with every bed occupied
    escalation_bed_days: Estimate  # bed days above the bed base (policy "escalate")
    cost: dict[str, Estimate]      # pounds: hospital_bed_days, delayed_bed_days, community_capacity, total
    patients: dict[str, float]     # mean counts per replication
    pathways: tuple[PathwaySummary, ...]


@dataclass(frozen=True)
class FlowRun:
    """A simulated model: inputs, one row per replication, day-by-day bands, and the summary."""

    model: DischargeModel
    seed: int
    replications: int
    per_replication: pl.DataFrame
    daily: pl.DataFrame
    summary: FlowSummary

    def pathways_table(self) -> pl.DataFrame:
        return pl.DataFrame([{
            "pathway": p.name, "nhs_pathway": p.number, "label": p.label, "capacity": p.capacity,
            "utilisation": p.utilisation.mean, "wait_days_mean": p.wait_days.mean,
            "delayed_days_mean": p.delayed_days.mean, "referrals": p.referrals.mean,
            "share_waiting": p.share_waiting.mean, "place_day_cost_gbp": p.place_day_cost,
        } for p in self.summary.pathways])


def kernel_inputs(model: DischargeModel) -> dict[str, object]:
    """The model as the arrays and numbers the compiled kernel takes (see :mod:`.kernel`)."""
    rates = model.daily_admissions()
    group_cum = np.cumsum([g.admission_share for g in model.age_groups])
    group_cum[-1] = 1.0
    lognormal = np.array([g.los_lognormal for g in model.age_groups])
    pathway_cum = np.cumsum(np.array([g.pathway_shares for g in model.age_groups]), axis=1)
    pathway_cum[:, -1] = 1.0
    shape, scale = np.ones(4), np.ones(4)
    for p in model.pathways:
        shape[p.number], scale[p.number] = p.gamma
    primed = model.primed()
    horizon = float(model.warm_up_days + model.days)
    return {
        "cumulative": np.concatenate([[0.0], np.cumsum(rates)]),
        "group_cum": group_cum, "los_mu": lognormal[:, 0].copy(), "los_sigma": lognormal[:, 1].copy(),
        "pathway_cum": pathway_cum, "duration_shape": shape, "duration_scale": scale,
        "primed": np.array([0] + [primed[p.name] for p in model.pathways], dtype=np.int64),
        "capacity": np.array([0] + [p.capacity for p in model.pathways], dtype=np.int64),
        "beds": int(model.acute_beds), "policy": POLICY_CODES[model.full_bed_base],
        "warm": float(model.warm_up_days), "horizon": horizon,
    }


def _check(replications: int, seed: int) -> None:
    if isinstance(replications, bool) or not isinstance(replications, int) or not 1 <= replications <= MAX_REPLICATIONS:
        raise InputError(f"replications must be a whole number from 1 to {MAX_REPLICATIONS:,}; found {replications!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"the seed must be a whole number, 0 or more; found {seed!r}")


def default_threads() -> int:
    """Threads to run replications on: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_replications(model: DischargeModel, replications: int, seed: int, *, threads: int | None = None,
                     progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The raw outputs: ``out`` (replications × kernel.OUTPUTS) and ``daily`` (replications × days × 9).

    Replications are cut into batches run by ``threads`` threads (the compiled kernel releases the
    GIL); each replication writes only its own rows, so the result does not depend on the threads.
    """
    _check(replications, seed)
    workers = default_threads() if threads is None else int(threads)
    if workers < 1:
        raise InputError(f"threads must be 1 or more; found {threads!r}")
    inputs = kernel_inputs(model)
    states = replication_states(seed, replications)
    out = np.zeros((replications, kernel.OUTPUTS))
    daily = np.zeros((replications, model.days, kernel.DAILY_LEVELS))
    size = max(1, min(BATCH, math.ceil(replications / workers)))
    batches = [(first, min(replications, first + size)) for first in range(0, replications, size)]

    def run(batch: tuple[int, int]) -> int:
        first, last = batch
        kernel.run_batch(states[first:last], inputs["cumulative"], inputs["group_cum"], inputs["los_mu"],
                         inputs["los_sigma"], inputs["pathway_cum"], inputs["duration_shape"], inputs["duration_scale"],
                         inputs["primed"], inputs["capacity"], inputs["beds"], inputs["policy"], inputs["warm"],
                         inputs["horizon"], out[first:last], daily[first:last])
        return last - first

    done = 0
    if workers == 1 or len(batches) == 1:
        for batch in batches:
            done += run(batch)
            if progress is not None:
                progress(done, replications)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for finished in as_completed([pool.submit(run, batch) for batch in batches]):
                done += finished.result()
                if progress is not None:
                    progress(done, replications)
    return out, daily


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


def replication_table(model: DischargeModel, out: np.ndarray) -> pl.DataFrame:
    """One row per replication: every kernel output, plus means, utilisation and costs."""
    columns: dict[str, np.ndarray] = {"replication": np.arange(out.shape[0])}
    for j, name in enumerate(kernel.OUT_NAMES):
        columns[name] = out[:, j]
    days = float(model.days)
    columns["occupancy_mean"] = out[:, kernel.O_BED_DAYS] / days
    columns["los_mean"] = _ratio(out[:, kernel.O_LOS], out[:, kernel.O_DISCHARGED])
    columns["acute_los_mean"] = _ratio(out[:, kernel.O_ACUTE_LOS], out[:, kernel.O_DISCHARGED])
    columns["bed_wait_mean"] = _ratio(out[:, kernel.O_BED_WAIT_DAYS], out[:, kernel.O_WAITED_FOR_BED])
    for p in model.pathways:
        base = kernel.O_PATHWAY + 6 * (p.number - 1)
        columns[f"wait_mean_{p.name}"] = _ratio(out[:, base + kernel.P_WAIT_DAYS], out[:, base + kernel.P_STARTED])
        columns[f"share_waiting_{p.name}"] = _ratio(out[:, base + kernel.P_WAITED], out[:, base + kernel.P_STARTED])
        capacity_days = np.full(out.shape[0], p.capacity * days)
        columns[f"utilisation_{p.name}"] = _ratio(out[:, base + kernel.P_BUSY_DAYS], capacity_days)
    columns["cost_hospital_bed_days_gbp"] = out[:, kernel.O_BED_DAYS] * model.bed_day_cost
    columns["cost_delayed_bed_days_gbp"] = out[:, kernel.O_DELAYED_DAYS] * model.bed_day_cost
    columns["cost_community_capacity_gbp"] = np.full(out.shape[0], model.community_cost_per_day() * days)
    columns["cost_total_gbp"] = columns["cost_hospital_bed_days_gbp"] + columns["cost_community_capacity_gbp"]
    return pl.DataFrame(columns)


def daily_table(model: DischargeModel, daily: np.ndarray) -> pl.DataFrame:
    """Each measured day: the mean and the 5th and 95th percentiles over replications of each level."""
    columns: dict[str, object] = {"day": np.arange(model.days),
                                  "date": [model.start + timedelta(days=d) for d in range(model.days)]}
    mean = daily.mean(axis=0)
    low, high = np.percentile(daily, [5.0, 95.0], axis=0)
    for j, name in enumerate(kernel.DAILY_NAMES):
        columns[f"{name}_mean"] = mean[:, j]
        columns[f"{name}_p05"] = low[:, j]
        columns[f"{name}_p95"] = high[:, j]
    return pl.DataFrame(columns)


def summarise(model: DischargeModel, table: pl.DataFrame) -> FlowSummary:
    """The summary of a replication table (see :func:`replication_table`)."""
    col = lambda name: table[name].to_numpy()  # noqa: E731
    pathways = []
    for p in model.pathways:
        pathways.append(PathwaySummary(
            p.name, p.number, PATHWAY_LABELS[p.name], p.capacity, estimate(col(f"utilisation_{p.name}")),
            estimate(col(f"wait_mean_{p.name}")), estimate(col(f"queue_days_{p.name}")),
            estimate(col(f"referrals_{p.name}")), estimate(col(f"share_waiting_{p.name}")), p.cost_per_place_day))
    patients = {name: float(table[name].mean()) for name in (
        "arrivals", "admitted", "discharged", "in_hospital_at_start", "in_hospital_at_end", "delayed_patients",
        "delayed_at_end", "diverted", "waited_for_bed", "waiting_for_bed_at_end", "escalated_admissions")}
    for name in PATHWAYS:
        patients[f"discharged_{name}"] = float(table[f"discharged_{name}"].mean())
    return FlowSummary(
        delayed_days=estimate(col("delayed_days")), occupancy=estimate(col("occupancy_mean")),
        occupancy_rate=estimate(col("occupancy_mean") / model.acute_beds),
        peak_occupancy=estimate(col("peak_occupied")), los_days=estimate(col("los_mean")),
        acute_los_days=estimate(col("acute_los_mean")), delayed_patients=estimate(col("delayed_patients")),
        bed_wait_days=estimate(col("bed_wait_days")), full_days=estimate(col("full_days")),
        escalation_bed_days=estimate(col("escalation_bed_days")),
        cost={"hospital_bed_days": estimate(col("cost_hospital_bed_days_gbp")),
              "delayed_bed_days": estimate(col("cost_delayed_bed_days_gbp")),
              "community_capacity": estimate(col("cost_community_capacity_gbp")),
              "total": estimate(col("cost_total_gbp"))},
        patients=patients, pathways=tuple(pathways))


def simulate(model: DischargeModel, *, replications: int = 1000, seed: int = 0, threads: int | None = None,
             progress: Progress | None = None) -> FlowRun:
    """Simulate ``model`` ``replications`` times from ``seed``; ``progress(done, total)`` is told
    as batches finish. ``threads``: how many threads run replications (default: every CPU)."""
    out, daily = run_replications(model, replications, seed, threads=threads, progress=progress)
    table = replication_table(model, out)
    return FlowRun(model, seed, replications, table, daily_table(model, daily), summarise(model, table))
