"""A SimPy implementation of devolve's discharge model: the reference the fast engine is checked against.

Written independently of the compiled kernel (:mod:`devolve.engines.flow.kernel`) in the usual
SimPy style — one process per patient, :class:`simpy.Resource` for beds and pathway places — and
with its own sampler (NumPy's ``Generator``). It is not imported by devolve; ``benchmarks/flow.py``
runs both on the same :class:`~devolve.engines.flow.model.DischargeModel` and compares
throughput and results, and a unit test feeds both the very same drawn patients and expects the
same outputs.

The model (see docs/method/flow.md): emergency patients arrive (a Poisson process with a daily
rate), take a bed (or, when every bed is taken: wait for one, go to an escalation bed, or are
diverted), stay for their acute length of stay, then leave — at once on pathway 0, or when a place
is free on pathway 1, 2 or 3, waiting in their bed until then (a delayed discharge). Statistics
are measured over [warm-up, horizon).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import simpy

OUTPUT_NAMES = (
    "arrivals", "admitted", "diverted", "discharged", "in_hospital_at_start", "in_hospital_at_end",
    "bed_days", "delayed_days", "delayed_patients", "bed_queue_days", "waited_for_bed", "bed_wait_days",
    "full_days", "escalation_bed_days", "escalated_admissions", "los_days", "acute_los_days",
    "peak_occupied", "discharged_home", "discharged_home_support", "discharged_bedded_reablement",
    "discharged_care_home",
    "referrals_home_support", "started_home_support", "wait_days_home_support",
    "waited_home_support", "queue_days_home_support", "busy_days_home_support",
    "referrals_bedded_reablement", "started_bedded_reablement", "wait_days_bedded_reablement",
    "waited_bedded_reablement", "queue_days_bedded_reablement", "busy_days_bedded_reablement",
    "referrals_care_home", "started_care_home", "wait_days_care_home",
    "waited_care_home", "queue_days_care_home", "busy_days_care_home",
    "arrivals_total", "admitted_total", "diverted_total", "discharged_total",
    "waiting_for_bed_at_end", "delayed_at_end",
)
PATHWAY_NAMES = ("home", "home_support", "bedded_reablement", "care_home")
LEVELS = ("occupied", "delayed", "bed_queue", "queue_1", "queue_2", "queue_3", "busy_1", "busy_2", "busy_3",
          "escalation", "full")
DAILY = 9   # the first nine levels are also kept day by day


@dataclass
class Patients:
    """One replication's patients (arrival order) and the residual times of places busy at time 0."""

    arrival: np.ndarray
    los: np.ndarray
    pathway: np.ndarray
    duration: np.ndarray
    residual: list[np.ndarray]   # residual[k] for pathway k = 1..3 (residual[0] unused)


def draw_patients(model, rng: np.random.Generator) -> Patients:
    """Sample a replication with NumPy: daily Poisson counts, uniform times within each day."""
    rates = model.daily_admissions()
    counts = rng.poisson(rates)
    arrival = np.concatenate([np.sort(day + rng.random(n)) for day, n in enumerate(counts)])
    groups = model.age_groups
    group = rng.choice(len(groups), size=arrival.size, p=[g.admission_share for g in groups])
    mu = np.array([g.los_lognormal[0] for g in groups])
    sigma = np.array([g.los_lognormal[1] for g in groups])
    los = rng.lognormal(mu[group], sigma[group])
    pathway = np.empty(arrival.size, dtype=np.int64)
    for g, spec in enumerate(groups):
        members = np.flatnonzero(group == g)
        pathway[members] = rng.choice(4, size=members.size, p=spec.pathway_shares)
    duration = np.zeros(arrival.size)
    residual: list[np.ndarray] = [np.zeros(0)]
    primed = model.primed()
    for p in model.pathways:
        shape, scale = p.gamma
        members = np.flatnonzero(pathway == p.number)
        duration[members] = rng.gamma(shape, scale, size=members.size)
        n = primed[p.name]
        residual.append(rng.gamma(shape + 1.0, scale, size=n) * rng.random(n))
    return Patients(arrival, los, pathway, duration, residual)


class Monitor:
    """Time integrals of the levels over the window [warm, horizon), in total and day by day."""

    def __init__(self, env: simpy.Environment, warm: float, horizon: float, days: int, beds: int):
        self.env, self.warm, self.horizon, self.beds = env, warm, horizon, beds
        self.level = dict.fromkeys(LEVELS, 0.0)
        self.area = dict.fromkeys(LEVELS, 0.0)
        self.daily = np.zeros((days, DAILY))
        self.last = 0.0

    def advance(self) -> None:
        now = self.env.now
        a, b = max(self.last, self.warm), min(now, self.horizon)
        if b > a:
            values = [self.level[name] for name in LEVELS]
            for name, value in zip(LEVELS, values):
                self.area[name] += value * (b - a)
            x = a
            while x < b:
                day = int(x - self.warm)
                if day >= self.daily.shape[0]:
                    break
                end = min(b, self.warm + day + 1.0)
                self.daily[day] += np.array(values[:DAILY]) * (end - x)
                x = end
        self.last = now

    def add(self, name: str, delta: float) -> None:
        self.advance()
        self.level[name] += delta
        if name == "occupied":
            occupied = self.level["occupied"]
            self.level["escalation"] = max(0.0, occupied - self.beds)
            self.level["full"] = 1.0 if occupied >= self.beds else 0.0


def simulate_replication(model, patients: Patients) -> tuple[dict[str, float], np.ndarray]:
    """Run one replication in SimPy; return its outputs (named as OUTPUT_NAMES) and daily levels."""
    env = simpy.Environment()
    warm = float(model.warm_up_days)
    horizon = warm + model.days
    beds = model.acute_beds
    policy = model.full_bed_base
    monitor = Monitor(env, warm, horizon, model.days, beds)
    out = dict.fromkeys(OUTPUT_NAMES, 0.0)
    bed_pool = simpy.Resource(env, capacity=beds) if policy == "wait" else None
    places: dict[int, simpy.Resource | None] = {}
    for p in model.pathways:
        places[p.number] = simpy.Resource(env, capacity=p.capacity) if p.capacity > 0 else None
    state = {"occupied": 0, "bed_queue": 0}

    def inside() -> bool:
        return env.now >= warm

    def hold_primed(k: int, residual: float):
        request = places[k].request()
        yield request
        monitor.add(f"busy_{k}", 1.0)
        yield env.timeout(residual)
        monitor.add(f"busy_{k}", -1.0)
        places[k].release(request)

    def admit(i: int) -> float:
        state["occupied"] += 1
        monitor.add("occupied", 1.0)
        out["admitted_total"] += 1
        if inside():
            out["admitted"] += 1
            out["peak_occupied"] = max(out["peak_occupied"], state["occupied"])
        return env.now

    def leave(i: int, admitted_at: float, ready_at: float, bed_request) -> None:
        state["occupied"] -= 1
        monitor.add("occupied", -1.0)
        out["discharged_total"] += 1
        if inside():
            out["discharged"] += 1
            out[f"discharged_{PATHWAY_NAMES[patients.pathway[i]]}"] += 1
            out["los_days"] += env.now - admitted_at
            out["acute_los_days"] += ready_at - admitted_at
        if bed_request is not None:
            bed_pool.release(bed_request)

    def patient(i: int):
        out["arrivals_total"] += 1
        if inside():
            out["arrivals"] += 1
        bed_request = None
        if policy == "wait":
            bed_request = bed_pool.request()
            if not bed_request.triggered:
                arrived = env.now
                monitor.add("bed_queue", 1.0)
                yield bed_request
                monitor.add("bed_queue", -1.0)
                if inside():
                    out["waited_for_bed"] += 1
                    out["bed_wait_days"] += env.now - arrived
        elif state["occupied"] >= beds:
            if policy == "divert":
                out["diverted_total"] += 1
                if inside():
                    out["diverted"] += 1
                return
            if inside():
                out["escalated_admissions"] += 1
        admitted_at = admit(i)
        yield env.timeout(patients.los[i])
        ready_at = env.now
        k = int(patients.pathway[i])
        if k == 0:
            leave(i, admitted_at, ready_at, bed_request)
            return
        name = PATHWAY_NAMES[k]
        if inside():
            out[f"referrals_{name}"] += 1
        place = places[k].request() if places[k] is not None else env.event()  # no places: waits for ever
        waited = not place.triggered
        if waited:
            monitor.add(f"queue_{k}", 1.0)
            monitor.add("delayed", 1.0)
            if inside():
                out["delayed_patients"] += 1
        yield place
        if waited:
            monitor.add(f"queue_{k}", -1.0)
            monitor.add("delayed", -1.0)
        monitor.add(f"busy_{k}", 1.0)
        if inside():
            out[f"started_{name}"] += 1
            out[f"wait_days_{name}"] += env.now - ready_at
            if env.now > ready_at:
                out[f"waited_{name}"] += 1
        leave(i, admitted_at, ready_at, bed_request)
        yield env.timeout(patients.duration[i])
        monitor.add(f"busy_{k}", -1.0)
        places[k].release(place)

    def arrivals():
        for i, when in enumerate(patients.arrival):
            yield env.timeout(when - env.now)
            env.process(patient(i))

    def mark_window_start():
        yield env.timeout(warm)
        monitor.advance()
        out["in_hospital_at_start"] = state["occupied"]
        out["peak_occupied"] = max(out["peak_occupied"], state["occupied"])

    for k in (1, 2, 3):
        for residual in patients.residual[k]:
            env.process(hold_primed(k, float(residual)))
    env.process(arrivals())
    if warm > 0:
        env.process(mark_window_start())
    env.run(until=horizon)
    monitor.advance()
    out["bed_days"] = monitor.area["occupied"]
    out["delayed_days"] = monitor.area["delayed"]
    out["bed_queue_days"] = monitor.area["bed_queue"]
    out["full_days"] = monitor.area["full"]
    out["escalation_bed_days"] = monitor.area["escalation"]
    for k in (1, 2, 3):
        out[f"queue_days_{PATHWAY_NAMES[k]}"] = monitor.area[f"queue_{k}"]
        out[f"busy_days_{PATHWAY_NAMES[k]}"] = monitor.area[f"busy_{k}"]
    out["in_hospital_at_end"] = state["occupied"]
    out["waiting_for_bed_at_end"] = len(bed_pool.queue) if bed_pool is not None else 0
    out["delayed_at_end"] = monitor.level["delayed"]
    return out, monitor.daily


def run(model, replications: int, seed: int) -> np.ndarray:
    """Run ``replications`` independent replications (NumPy streams spawned from ``seed``).

    Returns an array (replications × len(OUTPUT_NAMES)) in the order of OUTPUT_NAMES.
    """
    children = np.random.SeedSequence(seed).spawn(replications)
    rows = []
    for child in children:
        rng = np.random.Generator(np.random.PCG64(child))
        out, _daily = simulate_replication(model, draw_patients(model, rng))
        rows.append([out[name] for name in OUTPUT_NAMES])
    return np.array(rows, dtype=float)


def summary(model, table: np.ndarray) -> dict[str, np.ndarray]:
    """Per-replication headline metrics, named as in the fast engine's replication table."""
    col = {name: table[:, j] for j, name in enumerate(OUTPUT_NAMES)}
    metrics = {
        "delayed_days": col["delayed_days"],
        "occupancy_mean": col["bed_days"] / model.days,
        "los_mean": col["los_days"] / np.maximum(col["discharged"], 1),
        "admitted": col["admitted"],
        "delayed_patients": col["delayed_patients"],
    }
    for p in model.pathways:
        started = col[f"started_{p.name}"]
        metrics[f"wait_mean_{p.name}"] = np.where(started > 0, col[f"wait_days_{p.name}"] / np.maximum(started, 1),
                                                  math.nan)
        metrics[f"utilisation_{p.name}"] = col[f"busy_days_{p.name}"] / max(p.capacity * model.days, 1)
    return metrics
