"""The indicators engine's one entry point: values, inequalities, scheme effects, monitoring series
and the rules that apply, for a deal and a set of units. Pure: no files, no databases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from devolve.domain.errors import ParameterError
from devolve.domain.records import Deal
from devolve.engines.indicators.compute import (InequalityRow, SchemeRow, UnitSet, decile_units, inequalities,
                                                prepare, scheme_effects, scheme_pairs)
from devolve.engines.indicators.definitions import Catalogue, Indicator, IndicatorError, convert
from devolve.engines.indicators.model import Inputs, Model, Scenario, build_model
from devolve.engines.indicators.rules import Decision, DirectiveCheck, check_directive, decide, rate
from devolve.engines.indicators.series import Series, monthly_scenarios, monthly_series
from devolve.engines.indicators.spc import SpcChart, xmr_chart

TOLERANCE_PARAMETER = "indicators.rag_amber_tolerance"
ENGLAND_POPULATION_PARAMETER = "indicators.england_population"


@dataclass(frozen=True)
class Assessment:
    """One indicator for one unit: the value, its interval, and how it rates against the rule."""

    indicator: str
    unit: str
    name: str
    value: float | None
    lower: float | None
    upper: float | None
    numerator: float
    denominator: float
    target: float | None          # in the indicator's unit
    status: str                   # green | amber | red | no target | exempt | not computable
    status_text: str


@dataclass(frozen=True)
class IndicatorReport:
    indicator: Indicator
    decision: Decision
    deal: Assessment
    units: tuple[Assessment, ...]
    deal_inequality: InequalityRow
    unit_inequalities: tuple[InequalityRow, ...]
    deciles: pl.DataFrame          # deal-level decile values
    unit_deciles: pl.DataFrame
    schemes: tuple[SchemeRow, ...]
    series: Series                 # deal level
    unit_series: Series
    chart: SpcChart | None
    unit_charts: dict[str, SpcChart | str]   # unit → chart, or why there is none
    monthly_targets: tuple[float | None, ...]
    inputs: Inputs
    synthetic: bool


@dataclass(frozen=True)
class IndicatorsOutcome:
    deal_id: str
    level: str
    when: date
    decile_basis: str
    confidence: float
    seed: int
    baseline_months: int
    reports: tuple[IndicatorReport, ...]
    rules: tuple[Decision, ...]            # every measure of the rulebook (incl. ones devolve cannot model)
    directives: tuple[DirectiveCheck, ...]
    unit_names: dict[str, str] = field(default_factory=dict)
    delayed_share_source: str = "parameter"


def deal_units(deal: Deal) -> UnitSet:
    return UnitSet("deal", (deal.id,), (deal.name,), np.zeros(deal.small_areas.height, dtype=np.int64))


def district_units(deal: Deal) -> UnitSet:
    codes = [d.code for d in deal.districts]
    lookup = {c: i for i, c in enumerate(codes)}
    index = deal.small_areas["district"].replace_strict(lookup, default=-1, return_dtype=pl.Int64).to_numpy()
    if np.any(index < 0):
        raise IndicatorError("a small area's district is not one of the deal's districts")
    return UnitSet("district", tuple(codes), tuple(d.name for d in deal.districts), index)


def neighbourhood_units(deal: Deal, assignment: pl.DataFrame) -> UnitSet:
    """Units from an assignment table of small areas to neighbourhoods (columns ``area`` or
    ``code``, and ``neighbourhood``; an optional ``name``)."""
    area_col = "area" if "area" in assignment.columns else "code"
    if area_col not in assignment.columns or "neighbourhood" not in assignment.columns:
        raise IndicatorError("a neighbourhood assignment needs columns 'area' (or 'code') and 'neighbourhood'")
    table = assignment.select(pl.col(area_col).cast(pl.Utf8).alias("area"),
                              pl.col("neighbourhood").cast(pl.Utf8),
                              *([pl.col("name").cast(pl.Utf8)] if "name" in assignment.columns else []))
    if table["area"].is_duplicated().any():
        raise IndicatorError("the neighbourhood assignment lists a small area twice")
    ids = sorted(table["neighbourhood"].unique().to_list())
    lookup = {n: i for i, n in enumerate(ids)}
    mapping = dict(zip(table["area"].to_list(), table["neighbourhood"].to_list()))
    missing = [c for c in deal.small_areas["code"].to_list() if c not in mapping]
    if missing:
        raise IndicatorError(f"the neighbourhood assignment has no neighbourhood for {len(missing)} small areas "
                             f"(e.g. {missing[0]})")
    index = np.array([lookup[mapping[c]] for c in deal.small_areas["code"].to_list()], dtype=np.int64)
    names = ids
    if "name" in table.columns:
        first = dict(table.unique("neighbourhood", keep="first").select("neighbourhood", "name").iter_rows())
        names = [first.get(n) or n for n in ids]
    return UnitSet("neighbourhood", tuple(ids), tuple(names), index)


def _parameter(deal: Deal, path: str, when: date) -> float:
    try:
        return float(deal.parameters.at(path, when))
    except ParameterError as exc:
        raise IndicatorError(f"indicators: {exc}") from None


def _assess(indicator: Indicator, decision: Decision, tolerance: float, unit: str, name: str, value, lower,
            upper, numerator, denominator) -> Assessment:
    if value is None or not np.isfinite(value):
        return Assessment(indicator.id, unit, name, None, None, None, float(numerator), float(denominator), None,
                          "not computable", "no denominator (no residents or activity in the age range)")
    target = None
    if decision.source == "exempt":
        status, text = "exempt", "exempt from the national target"
    elif decision.rule is None:
        status, text = "no target", "no target applies"
    else:
        target = convert(decision.rule.value, decision.rule.unit, indicator.unit)
        status, text = rate(float(value), indicator.unit, decision.rule, indicator.direction, tolerance)
    return Assessment(indicator.id, unit, name, float(value), float(lower), float(upper), float(numerator),
                      float(denominator), target, status, text)


def _synthetic(model: Model, inputs: Inputs) -> bool:
    deal = model.deal
    return (any(inputs.parameters.values()) or bool(inputs.lines & model.synthetic_lines)
            or deal.data.get("imd2019-domains") == "synthetic" or deal.data.get("imd2019-population") == "synthetic")


def _chart(values: np.ndarray, direction: str, target: float | None, baseline: int) -> SpcChart | str:
    if values.size < 2 or not np.isfinite(values).all():
        return "too few events in some months for a chart"
    return xmr_chart(values, direction=direction, target=target, baseline_points=min(baseline, values.size))


def compute_indicators(deal: Deal, catalogue: Catalogue, units: UnitSet, *, when: date, deciles: str = "local",
                       confidence: float = 0.95, seed: int = 0, min_groups: int = 5,
                       activity: pl.DataFrame | None = None, delayed_share: float | None = None,
                       delayed_share_source: str = "parameter", baseline_months: int = 12) -> IndicatorsOutcome:
    """Everything the indicators report shows, for ``deal`` and its ``units``, as at ``when``.

    ``activity`` replaces the modelled baseline activity (e.g. a forecast year's); ``delayed_share``
    replaces the synthetic share of bed days delayed (e.g. from the flow engine's simulation). SPC
    charts take their mean and limits from the first ``baseline_months`` (the deal's first year).
    """
    if not catalogue.indicators:
        raise IndicatorError("there are no indicators to compute")
    model = build_model(deal, when, activity)
    tolerance = _parameter(deal, TOLERANCE_PARAMETER, when)
    whole = deal_units(deal)
    deal_deciles, _ = decile_units(model, whole, deciles)
    unit_deciles, _ = decile_units(model, units, deciles)
    pairs = scheme_pairs(model, deal.schemes)
    baseline = Scenario.baseline(model)
    sources = {**deal.sources, **catalogue.sources}
    months = monthly_scenarios(model, deal.schemes)
    reports = []
    for stream, indicator in enumerate(catalogue.indicators):
        decision = decide(indicator.id, when, catalogue.national_rules, catalogue.local_rules, sources)
        p_deal = prepare(model, catalogue, indicator, whole.grouping(), pairs, delayed_share)
        p_units = prepare(model, catalogue, indicator, units.grouping(), pairs, delayed_share)
        p_deal_deciles = prepare(model, catalogue, indicator, deal_deciles.grouping(), pairs, delayed_share)
        p_unit_deciles = prepare(model, catalogue, indicator, unit_deciles.grouping(), pairs, delayed_share)
        e_deal, _ = p_deal.estimate(baseline, confidence, strict=True, label=lambda _r: f"deal '{deal.id}'")
        e_units, _ = p_units.estimate(baseline, confidence, strict=False)
        deal_row = _assess(indicator, decision, tolerance, deal.id, deal.name, e_deal.value[0], e_deal.lower[0],
                           e_deal.upper[0], e_deal.count[0], e_deal.denominator[0])
        unit_rows = tuple(_assess(indicator, decision, tolerance, u, n, e_units.value[i], e_units.lower[i],
                                  e_units.upper[i], e_units.count[i], e_units.denominator[i])
                          for i, (u, n) in enumerate(zip(units.ids, units.names)))
        deal_ineq, deal_table = inequalities(p_deal_deciles, whole, baseline, confidence, min_groups)
        unit_ineq, unit_table = inequalities(p_unit_deciles, units, baseline, confidence, min_groups)
        schemes = scheme_effects(model, p_deal, p_deal_deciles, whole, deal.schemes, confidence, min_groups)
        series = monthly_series(model, p_deal, whole, months, seed=seed, stream=2 * stream)
        unit_series = monthly_series(model, p_units, units, months, seed=seed, stream=2 * stream + 1)
        targets = []
        for month in series.months:
            d = decide(indicator.id, month, catalogue.national_rules, catalogue.local_rules)
            targets.append(convert(d.rule.value, d.rule.unit, indicator.unit) if d.rule else None)
        last_target = targets[-1]
        chart = _chart(series.observed[0], indicator.direction, last_target, baseline_months)
        unit_charts = {u: _chart(unit_series.observed[i], indicator.direction, last_target, baseline_months)
                       for i, u in enumerate(units.ids)}
        inputs = p_deal.inputs
        reports.append(IndicatorReport(
            indicator, decision, deal_row, unit_rows, deal_ineq[0], tuple(unit_ineq), deal_table, unit_table,
            tuple(schemes), series, unit_series, chart if isinstance(chart, SpcChart) else None, unit_charts,
            tuple(targets), inputs, _synthetic(model, inputs)))
    modelled = {i.id for i in catalogue.indicators}
    measures = sorted({r.measure for r in (*catalogue.national_rules, *catalogue.local_rules)
                       if r.measure and r.measure not in modelled and r.kind == "target"})
    rules = tuple(decide(m, when, catalogue.national_rules, catalogue.local_rules, sources) for m in measures)
    return IndicatorsOutcome(deal.id, units.level, when, deciles, confidence, seed, baseline_months,
                             tuple(reports), rules, directives(deal, catalogue, when),
                             dict(zip(units.ids, units.names)), delayed_share_source)


def directives(deal: Deal, catalogue: Catalogue, when: date) -> tuple[DirectiveCheck, ...]:
    """Each money directive (measure ``pooled_budget``) for each year of the deal."""
    measures = sorted({r.measure for r in (*catalogue.national_rules, *catalogue.local_rules)
                       if r.kind == "directive" and r.measure})
    out = []
    for measure in measures:
        if measure != "pooled_budget":
            raise IndicatorError(f"directive measure '{measure}' is not one devolve can check (pooled_budget)")
        for year in deal.financial_years:
            decision = decide(measure, year.start, catalogue.national_rules, catalogue.local_rules,
                              {**deal.sources, **catalogue.sources})
            england = _parameter(deal, ENGLAND_POPULATION_PARAMETER, max(year.start, when))
            out.append(check_directive(decision, year.label, deal.pooled_budget[year] / 100,
                                       deal.total_population, england))
    return tuple(out)


__all__: Sequence[str] = ("IndicatorsOutcome", "IndicatorReport", "Assessment", "compute_indicators",
                          "deal_units", "district_units", "neighbourhood_units")
