"""Use cases of the flow engine: simulate hospital discharge for a deal's district, plan capacity.

``simulate_discharge(deal, district=…)`` builds the district's discharge model from the deal
(residents × emergency admission rates, the ``flow.*`` parameters, unit costs), runs it and
returns a :class:`FlowResult`; ``plan_discharge_capacity`` adds the capacity sweep and the
least-cost mix for a target. ``FlowResult.to_json()`` is the JSON contract of ``devolve flow``.
Nothing here writes files (see :mod:`devolve.interfaces.report.flow`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devolve.domain.errors import InputError
from devolve.domain.records import Deal
from devolve.engines.flow import FULL_BED_BASE, DischargeModel, Estimate, FlowRun, model_from_deal, simulate
from devolve.engines.flow.inputs import residents
from devolve.engines.flow.model import CAPACITY_KEYS, capacities_from_mapping
from devolve.engines.flow.plan import CapacityMix, CapacityPlan, plan_capacity
from devolve.engines.flow.queueing import allen_cunneen_wait

Progress = Callable[[int, int], None]


def _number(value: float | None, digits: int = 4) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def _interval(e: Estimate, digits: int = 4) -> list[float] | None:
    return None if e.ci is None else [_number(e.low, digits), _number(e.high, digits)]


def _estimate_json(e: Estimate, digits: int = 4) -> dict[str, Any]:
    return {"mean": _number(e.mean, digits), "ci": _interval(e, digits)}


def steady_state_wait(model: DischargeModel, name: str) -> float:
    """Queueing theory's mean wait for a pathway at the year's average demand (Allen–Cunneen; an
    M/G/c approximation, infinite when the load reaches the capacity), to set beside the simulation."""
    pathway = model.pathway(name)
    rate = model.admissions_per_year / 365.0 * float(model.pathway_shares()[pathway.number])
    return allen_cunneen_wait(arrival_rate=rate, mean_service=pathway.duration_mean_days,
                              service_cv=pathway.duration_cv, servers=pathway.capacity)


def synthetic_summary(paths: tuple[str, ...] | list[str]) -> list[str]:
    """Synthetic inputs grouped for reading: 'flow.admissions.day_of_week (7)'.

    >>> synthetic_summary(["flow.a.x", "flow.a.y", "population (synthetic small areas)"])
    ['flow.a (2)', 'population (synthetic small areas)']
    """
    groups: dict[str, int] = {}
    for path in paths:
        parent = path.rsplit(".", 1)[0] if path.count(".") >= 2 else path
        groups[parent] = groups.get(parent, 0) + 1
    return [name if count == 1 and name in paths else f"{name} ({count})" for name, count in groups.items()]


def _mix_json(mix: CapacityMix) -> dict[str, Any]:
    return {"capacities": dict(mix.capacities), "delayed_days_mean": _number(mix.delayed_days.mean, 2),
            "delayed_days_ci": _interval(mix.delayed_days, 2),
            "delayed_days_reduction": _estimate_json(mix.reduction, 2),
            "total_cost_gbp": _number(mix.total_cost.mean, 0), "total_cost_ci": _interval(mix.total_cost, 0),
            "community_cost_gbp": _number(mix.community_cost, 0),
            "hospital_bed_days_cost_gbp": _number(mix.hospital_cost.mean, 0), "meets_target": mix.meets_target}


@dataclass(frozen=True)
class FlowResult:
    """A discharge simulation of one district (or a whole deal), and optionally a capacity plan."""

    deal_id: str
    deal_name: str
    district: str | None
    area_name: str
    residents: float
    admissions_source: str
    run: FlowRun
    plan: CapacityPlan | None = None

    @property
    def model(self) -> DischargeModel:
        return self.run.model

    def to_json(self) -> dict[str, Any]:
        """The JSON contract of ``devolve flow`` (a dict of plain values, ready for ``json.dumps``)."""
        model, summary = self.run.model, self.run.summary
        payload: dict[str, Any] = {
            "deal": self.deal_id, "deal_name": self.deal_name, "district": self.district, "area": self.area_name,
            "residents": round(self.residents), "start": model.start.isoformat(), "days": model.days,
            "warm_up_days": model.warm_up_days, "replications": self.run.replications, "seed": self.run.seed,
            "admissions_per_year": round(model.admissions_per_year, 1), "admissions_source": self.admissions_source,
            "full_bed_base": model.full_bed_base, "full_bed_base_means": FULL_BED_BASE[model.full_bed_base],
            "acute_beds": model.acute_beds,
            "delayed_days_mean": _number(summary.delayed_days.mean, 2),
            "delayed_days_ci": _interval(summary.delayed_days, 2),
            "occupancy_mean": _number(summary.occupancy.mean, 2), "occupancy_ci": _interval(summary.occupancy, 2),
            "occupancy_rate_mean": _number(summary.occupancy_rate.mean),
            "peak_occupancy_mean": _number(summary.peak_occupancy.mean, 2),
            "length_of_stay_mean": _number(summary.los_days.mean), "length_of_stay_ci": _interval(summary.los_days),
            "acute_length_of_stay_mean": _number(summary.acute_los_days.mean),
            "delayed_patients_mean": _number(summary.delayed_patients.mean, 2),
            "bed_wait_days_mean": _number(summary.bed_wait_days.mean, 2),
            "full_days_mean": _number(summary.full_days.mean, 2),
            "escalation_bed_days_mean": _number(summary.escalation_bed_days.mean, 2),
            "patients": {name: _number(value, 2) for name, value in summary.patients.items()},
            "pathways": [{
                "pathway": p.name, "nhs_pathway": p.number, "label": p.label, "capacity": p.capacity,
                "utilisation": _number(p.utilisation.mean), "utilisation_ci": _interval(p.utilisation),
                "wait_days_mean": _number(p.wait_days.mean), "wait_days_ci": _interval(p.wait_days),
                "delayed_days_mean": _number(p.delayed_days.mean, 2), "referrals_mean": _number(p.referrals.mean, 2),
                "share_waiting": _number(p.share_waiting.mean), "place_day_cost_gbp": _number(p.place_day_cost, 2),
                "offered_load": _number(model.offered_load()[p.name], 2),
                "steady_state_wait_days": _number(steady_state_wait(model, p.name)),
            } for p in summary.pathways],
            "cost_gbp": {name: _number(e.mean, 0) for name, e in summary.cost.items()},
            "cost_ci_gbp": {name: _interval(e, 0) for name, e in summary.cost.items()},
            "bed_day_cost_gbp": model.bed_day_cost,
            "synthetic": bool(model.synthetic),
            "synthetic_inputs": list(model.synthetic),
            "synthetic_summary": synthetic_summary(model.synthetic),
        }
        if self.plan is not None:
            plan = self.plan
            payload["capacity_plan"] = {
                "target_fraction": plan.target_fraction,
                "baseline_delayed_days": _number(plan.baseline.summary.delayed_days.mean, 2),
                "target_delayed_days": _number(plan.target_delayed_days, 2),
                "replications": plan.baseline.replications,
                "sweep": [{k: (_number(v, 2) if isinstance(v, float) else v) for k, v in row.items()}
                          for row in plan.sweep.iter_rows(named=True)],
                "candidates": [{**_mix_json(c), "least_cost": c is plan.best} for c in plan.candidates],
                "least_cost_mix": None if plan.best is None else _mix_json(plan.best),
                "met": plan.best is not None,
            }
        return payload


def read_capacity_file(path: str | Path) -> dict[str, int]:
    """Read a capacity file: YAML (or JSON) mapping ``acute_beds``, ``home_support``,
    ``bedded_reablement``, ``care_home`` to whole numbers; any subset. Raises InputError."""
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{file}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except UnicodeDecodeError:
        raise InputError(f"{file}: not a UTF-8 text file") from None
    if not isinstance(data, Mapping) or not data:
        raise InputError(f"{file}: expected a mapping of capacities ({', '.join(CAPACITY_KEYS)}); found {data!r}")
    try:
        return capacities_from_mapping({str(k): v for k, v in data.items()})
    except InputError as exc:
        raise InputError(f"{file}: {exc}") from None


def _build(deal: Deal, district: str | None, days: int, capacity: Mapping[str, int] | None,
           admissions_per_year: float | None) -> tuple[DischargeModel, str, float]:
    model = model_from_deal(deal, district=district, days=days, capacity=capacity,
                            admissions_per_year=admissions_per_year)
    source = ("given (admissions_per_year)" if admissions_per_year is not None
              else "residents × emergency_admission rates per 1,000 (activity_rates)")
    return model, source, residents(deal, district)


def simulate_discharge(deal: Deal, *, district: str | None = None, days: int = 365, replications: int = 1000,
                       capacity: Mapping[str, int] | None = None, seed: int = 0,
                       admissions_per_year: float | None = None, progress: Progress | None = None) -> FlowResult:
    """Simulate hospital discharge for ``district`` (a district code; None: the whole deal as one
    system) over ``days`` after the warm-up, ``replications`` times from ``seed``.

    ``capacity`` overrides default capacities by name; ``admissions_per_year`` overrides the
    admissions derived from the deal (e.g. a forecast), keeping its age mix.
    """
    model, source, people = _build(deal, district, days, capacity, admissions_per_year)
    run = simulate(model, replications=replications, seed=seed, progress=progress)
    return FlowResult(deal.id, deal.name, district, model.label, people, source, run)


def plan_discharge_capacity(deal: Deal, *, district: str | None = None, days: int = 365, replications: int = 200,
                            capacity: Mapping[str, int] | None = None, seed: int = 0,
                            admissions_per_year: float | None = None, target_fraction: float = 0.5,
                            steps: int = 8, verify: int = 4, progress: Progress | None = None) -> FlowResult:
    """As :func:`simulate_discharge`, plus the capacity sweep and the least-cost mix that cuts
    delayed days to ``target_fraction`` of the baseline (every run paired on the same seed)."""
    model, source, people = _build(deal, district, days, capacity, admissions_per_year)
    plan = plan_capacity(model, target_fraction=target_fraction, replications=replications, seed=seed, steps=steps,
                         verify=verify, progress=progress)
    return FlowResult(deal.id, deal.name, district, model.label, people, source, plan.baseline, plan)
