"""Use cases of outcomes and inequalities: a deal's indicators, by district or neighbourhood, with
inequalities across deprivation, scheme effects, SPC monitoring and the targets that apply.

Computing only: writing the HTML report is :mod:`devolve.interfaces.report.indicators`.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from devolve.domain.errors import InputError
from devolve.domain.records import Deal
from devolve.engines.indicators import (Catalogue, IndicatorsOutcome, Rule, compute_indicators as engine_compute,
                                        district_units, neighbourhood_units)
from devolve.engines.indicators.spc import ASSURANCE_TEXT, RULE_TEXT, VARIATION_TEXT, SpcChart
from devolve.packs import loader
from devolve.packs.indicators import read_catalogue
from devolve.services.forecast import read_neighbourhoods

LEVELS = ("district", "neighbourhood")
FLOW_REPLICATIONS = 20
SYNTHETIC_NOTE = ("synthetic: no outcome data (HES, ASCOF, mortality files) are in devolve; every indicator value is "
                  "modelled from the deal's residents, deprivation and activity rates with the parameters listed, "
                  "and the monthly series for SPC charts add seeded sampling noise to that model")


def catalogue_for(deal: Deal) -> Catalogue:
    """The national indicators and rulebook with the deal pack's own on top."""
    pack = Path(deal.pack_path)
    return read_catalogue(pack if pack.is_dir() else None, service_lines=[s.id for s in deal.service_lines])


def _flow_delayed_share(deal: Deal, seed: int) -> tuple[float | None, str]:
    """The share of bed days delayed from the flow engine's discharge simulation when this
    installation has the flow service; otherwise (None, why), and the synthetic parameter is used."""
    fallback = "parameter indicators.delayed_share_of_bed_days (synthetic"
    try:
        flow = importlib.import_module("devolve.services.flow")
    except ModuleNotFoundError as exc:
        if exc.name != "devolve.services.flow":
            raise
        return None, f"{fallback}; this installation has no flow service)"
    simulate = getattr(flow, "simulate_discharge", None)
    if simulate is None:
        return None, f"{fallback}; the flow service has no simulate_discharge)"
    accepted = inspect.signature(simulate).parameters
    options = {k: v for k, v in (("seed", seed), ("replications", FLOW_REPLICATIONS)) if k in accepted}
    result = simulate(deal, **options)
    run = getattr(result, "run", result)
    table = getattr(run, "per_replication", None)
    if not isinstance(table, pl.DataFrame) or not {"delayed_days", "bed_days"} <= set(table.columns):
        return None, f"{fallback}; the flow simulation's result has no delayed and occupied bed days)"
    bed_days = float(table["bed_days"].mean())
    if not bed_days > 0:
        return None, f"{fallback}; the flow simulation occupied no bed days)"
    share = float(table["delayed_days"].mean()) / bed_days
    return share, (f"flow engine: simulate_discharge, delayed days / occupied bed days = {share:.2%} "
                   f"(mean of its replications)")


def _assignment(deal: Deal, data_dir: str | Path | None, seed: int) -> pl.DataFrame:
    """Neighbourhoods from the places engine (through the adapter the allocation service shares)."""
    if importlib.util.find_spec("devolve.services.places") is None:
        raise InputError("the neighbourhood level needs the places engine (devolve.services.places), which this "
                         "installation does not have; use --level district, or give --neighbourhoods FILE.csv "
                         "(columns area, neighbourhood)")
    from devolve.services.allocation import neighbourhood_assignment
    return neighbourhood_assignment(deal, data_dir=data_dir, seed=seed)


@dataclass(frozen=True)
class IndicatorsResult:
    deal: Deal
    catalogue: Catalogue
    outcome: IndicatorsOutcome

    def to_json(self) -> dict[str, Any]:
        return indicators_json(self)


def compute_indicators(deal: Deal, *, level: str = "district", assignment: pl.DataFrame | None = None,
                       as_of: date | None = None, deciles: str = "local", seed: int = 0, confidence: float = 0.95,
                       activity: pl.DataFrame | None = None, adopted: Sequence[Rule] = (),
                       data_dir: str | Path | None = None, use_flow: bool = False) -> IndicatorsResult:
    """Indicators of ``deal`` at ``level`` (district, or neighbourhood from ``assignment`` or the places
    engine), as at ``as_of`` (default: the deal's start). ``adopted``: local rules adopted since the
    pack was written (e.g. by a board decision). ``activity``: a table (area, age_band,
    service_line, activity) replacing the modelled baseline, e.g. a forecast year's. ``use_flow``: take
    the share of bed days delayed from the flow engine's discharge simulation (when installed; it
    takes seconds to minutes) instead of the synthetic parameter."""
    if level not in LEVELS:
        raise InputError(f"--level must be one of {', '.join(LEVELS)}, not '{level}'")
    when = as_of or deal.start
    if level == "neighbourhood":
        units = neighbourhood_units(deal, assignment if assignment is not None else _assignment(deal, data_dir, seed))
    else:
        units = district_units(deal)
    catalogue = catalogue_for(deal).with_local_rules(adopted)
    share, origin = (_flow_delayed_share(deal, seed) if use_flow
                     else (None, "parameter indicators.delayed_share_of_bed_days (synthetic)"))
    outcome = engine_compute(deal, catalogue, units, when=when, deciles=deciles, confidence=confidence, seed=seed,
                             activity=activity, delayed_share=share, delayed_share_source=origin)
    return IndicatorsResult(deal, catalogue, outcome)


def indicators(ref: str | Path, data_dir: str | Path | None = None, *, level: str = "district",
               as_of: date | None = None, deciles: str = "local", seed: int = 0,
               neighbourhoods: str | Path | None = None, use_flow: bool = False) -> IndicatorsResult:
    """Load a deal (a built-in id or a pack folder) and compute its indicators. ``neighbourhoods``: a
    CSV of small areas to neighbourhoods (columns area, neighbourhood) instead of the places engine."""
    if level not in LEVELS:
        raise InputError(f"--level must be one of {', '.join(LEVELS)}, not '{level}'")
    if neighbourhoods is not None and level != "neighbourhood":
        raise InputError("--neighbourhoods is for --level neighbourhood")
    assignment = read_neighbourhoods(neighbourhoods) if neighbourhoods is not None else None
    deal = loader.load_deal(ref, data_dir=data_dir)
    return compute_indicators(deal, level=level, assignment=assignment, as_of=as_of, deciles=deciles, seed=seed,
                              data_dir=data_dir, use_flow=use_flow)


def projected_deal(deal: Deal, projection: pl.DataFrame, year: str) -> Deal:
    """``deal`` with its residents grown to ``year`` of a population projection by district, age band
    and sex (the forecast engine's ``population`` table: year, district, age_band, sex, population):
    each small area's residents × projected / base residents of its district, band and sex."""
    needed = {"year", "district", "age_band", "sex", "population"}
    if not needed <= set(projection.columns):
        raise InputError(f"a population projection needs columns {', '.join(sorted(needed))}")
    keys = ["district", "age_band", "sex"]
    chosen = projection.filter(pl.col("year") == year).select(*keys, pl.col("population").alias("projected"))
    if chosen.height == 0:
        raise InputError(f"the population projection has no year {year}")
    base = deal.population.group_by(keys).agg(pl.col("population").sum().alias("base"))
    growth = base.join(chosen, on=keys, how="left").with_columns(
        pl.when(pl.col("base") > 0).then(pl.col("projected") / pl.col("base")).otherwise(1.0).alias("growth"))
    if growth["projected"].null_count():
        raise InputError(f"the population projection for {year} lacks some districts, age bands or sexes of the deal")
    grown = (deal.population.join(growth.select(*keys, "growth"), on=keys, how="left")
             .with_columns((pl.col("population") * pl.col("growth")).alias("population")).drop("growth"))
    return replace(deal, population=grown)


def projected_indicators(deal: Deal, projection: pl.DataFrame, year: str, *, seed: int = 0) -> dict[str, Any]:
    """Each indicator in ``year`` of a forecast: residents grown as the forecast projects them, and the
    schemes' effects as phased in by the deal's last month (synthetic, like every modelled value)."""
    result = compute_indicators(projected_deal(deal, projection, year), seed=seed)
    return {"year": year, "synthetic": True,
            "basis": ("forecast engine's population projection for the year (by district, age band and sex) "
                      "applied to each small area; schemes' central effects as reached in the deal's last month"),
            "indicators": [{"id": r.indicator.id, "value": _num(r.series.expected[0][-1]),
                            "without_schemes": _num(r.deal.value), "unit": r.indicator.unit}
                           for r in result.outcome.reports]}


# --- JSON -----------------------------------------------------------------------------------------

def _num(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _chart_json(chart: SpcChart | str | None) -> dict[str, Any]:
    if chart is None or isinstance(chart, str):
        return {"variation": None, "assurance": None, "note": chart or "no chart"}
    return {"variation": chart.variation, "variation_text": VARIATION_TEXT[chart.variation],
            "assurance": chart.assurance, "assurance_text": ASSURANCE_TEXT[chart.assurance]}


def _slope_json(row) -> dict[str, Any]:
    if row.slope is None:
        return {"sii": None, "sii_ci": None, "rii": None, "rii_ci": None, "rii_extremes": None,
                "quintile_gap": None, "note": row.reason}
    out = {k: (_num(v) if not isinstance(v, (list, str, int)) else v) for k, v in row.slope.to_json().items()}
    out["sii_ci"] = [_num(v) for v in row.slope.to_json()["sii_ci"]]
    out["rii_ci"] = [_num(v) for v in row.slope.to_json()["rii_ci"]]
    out["quintile_gap"] = row.quintiles.to_json() if row.quintiles else None
    return out


def indicators_json(result: IndicatorsResult) -> dict[str, Any]:
    """The `devolve indicators --json` contract."""
    deal, outcome, catalogue = result.deal, result.outcome, result.catalogue
    sources = {**deal.sources, **catalogue.sources}
    rows, ineq, units, schemes, spc = [], [], [], [], []
    for report in outcome.reports:
        ind, d, a = report.indicator, report.decision, report.deal
        params = sorted(report.inputs.parameters)
        rows.append({
            "id": ind.id, "name": ind.name, "value": _num(a.value), "unit": ind.unit,
            "ci": [_num(a.lower), _num(a.upper)], "confidence": outcome.confidence,
            "target": _num(a.target), "target_source": d.source, "status": a.status, "status_text": a.status_text,
            "rule": d.rule.id if d.rule else None, "reason": d.reason,
            "national_target": _num(d.national.value) if d.national else None,
            "direction": ind.direction, "definition": ind.definition,
            "numerator": {"measure": ind.numerator.describe(), "value": _num(a.numerator)},
            "denominator": {"measure": ind.denominator.describe(), "value": _num(a.denominator)},
            "standardisation": (f"direct, {catalogue.standards[ind.standard].name}" if ind.standardisation == "direct"
                                else "none"),
            "source": sources.get(ind.source, ind.source), "synthetic": report.synthetic,
            "inputs": {"parameters": [{"path": p, "synthetic": report.inputs.parameters[p]} for p in params],
                       "service_lines": sorted(report.inputs.lines)},
            "spc": _chart_json(report.chart),
        })
        deciles = [{k: (_num(v) if isinstance(v, float) else v) for k, v in r.items() if k != "unit"}
                   for r in report.deciles.iter_rows(named=True)]
        ineq.append({"indicator": ind.id, "unit": deal.id, **_slope_json(report.deal_inequality),
                     "deciles": deciles, "decile_basis": outcome.decile_basis, "synthetic": report.synthetic})
        by_unit = {r.unit: r for r in report.unit_inequalities}
        for u in report.units:
            units.append({"unit": u.unit, "name": u.name, "indicator": ind.id, "value": _num(u.value),
                          "ci": [_num(u.lower), _num(u.upper)], "target": _num(u.target), "status": u.status,
                          "denominator": _num(u.denominator), **{f"inequality_{k}": v for k, v in
                                                                 _slope_json(by_unit[u.unit]).items()
                                                                 if k in ("sii", "sii_ci", "rii", "note")},
                          "spc": _chart_json(report.unit_charts.get(u.unit)), "synthetic": report.synthetic})
        schemes += [{**s.to_json(), "synthetic": True} for s in report.schemes]
        chart = report.chart
        spc.append({"indicator": ind.id, "unit": deal.id, "synthetic": True,
                    "months": [m.isoformat() for m in report.series.months],
                    "observed": [_num(v) for v in report.series.observed[0]],
                    "expected": [_num(v) for v in report.series.expected[0]],
                    "targets": [_num(v) for v in report.monthly_targets],
                    "chart": _json_chart(chart), "rules": RULE_TEXT})
    return {
        "deal": deal.id, "name": deal.name, "level": outcome.level, "as_of": outcome.when.isoformat(),
        "decile_basis": outcome.decile_basis, "confidence": outcome.confidence, "seed": outcome.seed,
        "spc_baseline_months": outcome.baseline_months,
        "synthetic": any(r.synthetic for r in outcome.reports), "synthetic_note": SYNTHETIC_NOTE,
        "delayed_transfers_from": outcome.delayed_share_source,
        "indicators": rows, "inequalities": ineq, "units": units, "schemes": schemes, "spc": spc,
        "rules": [{**d.to_json(), "modelled": False,
                   "note": "devolve has no data to compute this measure; the rule that applies is shown"}
                  for d in outcome.rules],
        "directives": [c.to_json() for c in outcome.directives],
        "standard_populations": {s.id: {"name": s.name, "source": sources.get(s.source, s.source),
                                        "band_weights": s.band_weights(deal.age_bands)}
                                 for s in catalogue.standards.values()},
        "unlinked_local_targets": [r.id for r in catalogue.local_rules if r.measure is None],
    }


def _json_chart(chart: SpcChart | None) -> dict[str, Any] | None:
    if chart is None:
        return None
    out = chart.to_json()
    return {k: (_num(v) if isinstance(v, float) else v) for k, v in out.items()}
