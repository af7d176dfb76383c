"""From all runs to the forecast's tables: years with P10/P50/P90, decomposition, schemes, levers,
activity, workforce, population and places.

Percentiles are over all runs (run 0, the central run, included). The decomposition is the central
run's, in whole pence: the running totals are rounded once and differenced, so the drivers add up
to the final year's gap exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from devolve.domain.parameters import ParameterSet
from devolve.engines.forecast.budget import BALANCE_TOLERANCE_GBP, BudgetPosition, apply_budget_rules
from devolve.engines.forecast.model import ForecastModel
from devolve.engines.forecast.simulate import CentralCells, RunArrays, driver_names
from devolve.engines.forecast.workforce import cover_gaps, demand_fte, read_workforce, supply_fte

PERCENTILES = (10, 50, 90)


@dataclass(frozen=True)
class Forecast:
    """The forecast's tables and headline figures (pounds unless a column says otherwise)."""

    runs: int
    seed: int
    years: pl.DataFrame
    run_table: pl.DataFrame
    decomposition: pl.DataFrame
    schemes: pl.DataFrame
    levers: pl.DataFrame
    activity: pl.DataFrame
    activity_lines: pl.DataFrame
    workforce: pl.DataFrame
    workforce_cover: pl.DataFrame
    population: pl.DataFrame
    places: pl.DataFrame
    probability_of_balance: float
    probability_within_limits: float
    calibration_p50: float


def _pct(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p10, p50, p90 = np.percentile(values, PERCENTILES, axis=axis)
    return p10, p50, p90


def _central(arrays: RunArrays) -> int:
    hits = np.nonzero(arrays.run == 0)[0]
    return int(hits[0]) if hits.size else 0


def years_table(model: ForecastModel, arrays: RunArrays, position: BudgetPosition) -> pl.DataFrame:
    c = _central(arrays)
    spend = _pct(arrays.spend)
    gap = _pct(arrays.gap)
    cumulative = _pct(position.cumulative_gap)
    return pl.DataFrame({
        "year": list(model.years),
        "budget_gbp": model.budget,
        "income_p50_gbp": np.median(arrays.income, axis=0),
        "spend_p10_gbp": spend[0], "spend_p50_gbp": spend[1], "spend_p90_gbp": spend[2],
        "spend_central_gbp": arrays.spend[c],
        "do_nothing_spend_p50_gbp": np.median(arrays.do_nothing_spend, axis=0),
        "gap_p10_gbp": gap[0], "gap_p50_gbp": gap[1], "gap_p90_gbp": gap[2], "gap_central_gbp": arrays.gap[c],
        "cumulative_gap_p10_gbp": cumulative[0], "cumulative_gap_p50_gbp": cumulative[1],
        "cumulative_gap_p90_gbp": cumulative[2],
        "probability_overspend": (arrays.gap > BALANCE_TOLERANCE_GBP).mean(axis=0),
        "carried_p50_gbp": np.median(position.carried, axis=0),
        "called_from_partners_p50_gbp": np.median(position.called, axis=0),
        "investment_gbp": arrays.investment[c], "fund_drawn_gbp": arrays.fund_drawn[c],
        "tax_revenue_p50_gbp": np.median(arrays.tax_revenue, axis=0),
        "rates_discount_cost_p50_gbp": np.median(arrays.rates_cost, axis=0),
        "residents_p50": np.median(arrays.residents, axis=0),
    })


def run_table(model: ForecastModel, arrays: RunArrays, position: BudgetPosition) -> pl.DataFrame:
    """One row per run and year: everything a reader needs to redo any summary."""
    R, T = arrays.gap.shape
    flat = lambda values: np.asarray(values).reshape(R * T)  # noqa: E731
    return pl.DataFrame({
        "run": np.repeat(arrays.run, T), "year": np.tile(np.array(model.years), R),
        "budget_gbp": flat(arrays.budget), "income_gbp": flat(arrays.income), "spend_gbp": flat(arrays.spend),
        "service_spend_gbp": flat(arrays.service_spend), "do_nothing_spend_gbp": flat(arrays.do_nothing_spend),
        "investment_gbp": flat(arrays.investment), "fund_drawn_gbp": flat(arrays.fund_drawn),
        "tax_revenue_gbp": flat(arrays.tax_revenue), "rates_discount_cost_gbp": flat(arrays.rates_cost),
        "efficiency_gbp": flat(arrays.efficiency), "gap_gbp": flat(arrays.gap),
        "cumulative_gap_gbp": flat(position.cumulative_gap), "carried_gbp": flat(position.carried),
        "called_from_partners_gbp": flat(position.called), "returned_to_partners_gbp": flat(position.returned),
        "residents": flat(arrays.residents), "admissions_avoided": flat(arrays.admissions_avoided),
        "bed_days_saved": flat(arrays.bed_days_saved), "people_supported_at_home": flat(arrays.people_at_home),
        "calibration": np.repeat(arrays.calibration, T),
    })


def decomposition_table(model: ForecastModel, arrays: RunArrays) -> pl.DataFrame:
    """The central run's final-year gap as the first year's gap plus each driver, in exact pence."""
    c = _central(arrays)
    running = np.round(np.cumsum(arrays.drivers[c]) * 100).astype(np.int64)
    pence = np.diff(running, prepend=0)
    p10, p50, p90 = _pct(arrays.drivers)
    return pl.DataFrame({"driver": list(driver_names(model)), "pence": pence, "gbp": pence / 100,
                         "p10_gbp": p10, "p50_gbp": p50, "p90_gbp": p90})


def schemes_table(model: ForecastModel, arrays: RunArrays) -> pl.DataFrame:
    rows = []
    for s, scheme in enumerate(model.assumptions.schemes):
        invested = float(scheme.investment.sum())
        saving = -arrays.scheme_cost[:, s].sum(axis=1)
        substitution = arrays.scheme_substitution[:, s].sum(axis=1)
        net = saving - substitution - invested
        net10, net50, net90 = _pct(net)
        roi = net / invested if invested > 0 else None
        rows.append({
            "id": scheme.id, "name": scheme.name, "category": scheme.category, "synthetic": scheme.synthetic,
            "investment_gbp": invested, "gross_saving_p50_gbp": float(np.median(saving)),
            "substitution_cost_p50_gbp": float(np.median(substitution)),
            "net_benefit_p10_gbp": float(net10), "net_benefit_p50_gbp": float(net50),
            "net_benefit_p90_gbp": float(net90),
            "roi_p10": None if roi is None else float(np.percentile(roi, 10)),
            "roi_p50": None if roi is None else float(np.median(roi)),
            "roi_p90": None if roi is None else float(np.percentile(roi, 90)),
            "final_year_saving_p50_gbp": float(np.median(-(arrays.scheme_cost[:, s, -1]
                                                          + arrays.scheme_substitution[:, s, -1]))),
            "probability_net_benefit": float((net > 0).mean()),
        })
    schema = {"id": pl.Utf8, "name": pl.Utf8, "category": pl.Utf8, "synthetic": pl.Boolean,
              "investment_gbp": pl.Float64, "gross_saving_p50_gbp": pl.Float64,
              "substitution_cost_p50_gbp": pl.Float64, "net_benefit_p10_gbp": pl.Float64,
              "net_benefit_p50_gbp": pl.Float64, "net_benefit_p90_gbp": pl.Float64, "roi_p10": pl.Float64,
              "roi_p50": pl.Float64, "roi_p90": pl.Float64, "final_year_saving_p50_gbp": pl.Float64,
              "probability_net_benefit": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def levers_table(model: ForecastModel, arrays: RunArrays) -> pl.DataFrame:
    med = lambda values: np.median(values, axis=0)  # noqa: E731
    return pl.DataFrame({
        "year": list(model.years),
        "health_tax_revenue_p50_gbp": med(arrays.tax_revenue),
        "health_tax_revenue_p10_gbp": np.percentile(arrays.tax_revenue, 10, axis=0),
        "health_tax_revenue_p90_gbp": np.percentile(arrays.tax_revenue, 90, axis=0),
        "rates_discount_cost_p50_gbp": med(arrays.rates_cost),
        "rates_discount_demand_change_p50_gbp": med(arrays.lever_demand_cost),
        "absence_days_avoided_p50": med(arrays.absence_days),
        "absence_value_p50_gbp": med(arrays.absence_value),
    })


def activity_tables(model: ForecastModel, arrays: RunArrays) -> tuple[pl.DataFrame, pl.DataFrame]:
    columns = {"year": list(model.years)}
    for name, values in (("admissions_avoided", arrays.admissions_avoided), ("bed_days_saved", arrays.bed_days_saved),
                         ("people_supported_at_home", arrays.people_at_home)):
        p10, p50, p90 = _pct(values)
        columns |= {f"{name}_p10": p10, f"{name}_p50": p50, f"{name}_p90": p90}
    T, L = len(model.years), len(model.lines)
    lines = pl.DataFrame({
        "year": np.repeat(np.array(model.years), L), "service_line": np.tile(np.array(model.lines), T),
        "do_nothing_p50": np.median(arrays.activity_do_nothing, axis=0).reshape(T * L),
        "plan_p10": np.percentile(arrays.activity, 10, axis=0).reshape(T * L),
        "plan_p50": np.median(arrays.activity, axis=0).reshape(T * L),
        "plan_p90": np.percentile(arrays.activity, 90, axis=0).reshape(T * L),
    })
    return pl.DataFrame(columns), lines


def workforce_tables(model: ForecastModel, parameters: ParameterSet, arrays: RunArrays) -> tuple[pl.DataFrame,
                                                                                                pl.DataFrame]:
    plan = read_workforce(parameters, model.assumptions.years, model.lines)
    demand = demand_fte(plan, arrays.activity)                                       # [R, T, C]
    p10, p50, p90 = _pct(demand)
    supply = supply_fte(plan, float(arrays.residents[_central(arrays), 0]))
    gaps, cover = cover_gaps(plan, p50, supply, model.years)
    T, C = p50.shape
    bands = pl.DataFrame({"year": np.repeat(np.array(model.years), C),
                          "competency": np.tile(np.array(plan.competencies), T),
                          "demand_p10_fte": p10.reshape(T * C), "demand_p90_fte": p90.reshape(T * C)})
    return gaps.join(bands, on=["year", "competency"]), cover


def population_table(model: ForecastModel, arrays: RunArrays) -> pl.DataFrame:
    """Residents by district, age band and sex (central projection) for each year."""
    T, A, G = model.population.shape
    by_district = np.zeros((T, len(model.districts), G))
    np.add.at(by_district, (slice(None), model.area_district), model.population)
    D = len(model.districts)
    return pl.DataFrame({
        "year": np.repeat(np.array(model.years), D * G),
        "district": np.tile(np.repeat(np.array(model.districts), G), T),
        "age_band": np.tile(np.repeat(np.array(model.bands), 2), T * D),
        "sex": np.tile(np.array(["F", "M"]), T * D * len(model.bands)),
        "population": by_district.reshape(T * D * G),
    })


def places_table(model: ForecastModel, cells: CentralCells, area_codes: list[str],
                 neighbourhoods: pl.DataFrame | None) -> pl.DataFrame:
    """Central run: residents and service spend of each small area (or neighbourhood), first and last year.

    Each cell's spend per unit of activity is shared out to the areas by their activity in it, so the
    places add up to the central run's service spend.
    """
    rho = np.divide(cells.spend, cells.activity0, out=np.zeros_like(cells.spend), where=cells.activity0 > 0)
    U = np.einsum("lbs,tlb->tbs", model.rate, rho)
    V = np.einsum("lbs,l,tlb->tbs", model.rate, cells.need_elasticity, rho)
    T = rho.shape[0]
    pop = model.population.reshape(T, model.population.shape[1], -1)
    spend = np.einsum("tag,tg->ta", pop, U.reshape(T, -1)) \
        + model.deprivation[None, :] * np.einsum("tag,tg->ta", pop, V.reshape(T, -1))
    frame = pl.DataFrame({
        "area": area_codes, "district": np.array(model.districts)[model.area_district],
        "deprivation_score": model.deprivation,
        "residents_first": pop[0].sum(axis=1), "residents_last": pop[-1].sum(axis=1),
        "spend_first_gbp": spend[0], "spend_last_gbp": spend[-1],
    })
    level = "small area"
    key = "area"
    if neighbourhoods is not None and neighbourhoods.height:
        frame = frame.join(neighbourhoods.select("area", "neighbourhood"), on="area", how="left").with_columns(
            pl.col("neighbourhood").fill_null(pl.col("area")))
        frame = frame.group_by("neighbourhood").agg(
            pl.col("district").mode().sort().first(),
            pl.col("residents_first", "residents_last", "spend_first_gbp", "spend_last_gbp").sum(),
            (pl.col("deprivation_score") * pl.col("residents_first")).sum().alias("_dep"))
        frame = frame.with_columns((pl.col("_dep") / pl.col("residents_first")).alias("deprivation_score")).drop("_dep")
        level, key = "neighbourhood", "neighbourhood"
    return frame.rename({key: "place"}).with_columns(
        pl.lit(level).alias("level"),
        (pl.col("spend_first_gbp") / pl.col("residents_first")).alias("spend_per_head_first_gbp"),
        (pl.col("spend_last_gbp") / pl.col("residents_last")).alias("spend_per_head_last_gbp"),
        (pl.col("spend_last_gbp") / pl.col("spend_first_gbp") - 1.0).alias("spend_growth"),
    ).sort("place")


def summarise(model: ForecastModel, parameters: ParameterSet, arrays: RunArrays, seed: int, cells: CentralCells,
              area_codes: list[str], neighbourhoods: pl.DataFrame | None = None) -> Forecast:
    """All the forecast's tables from the runs (in any order; they are sorted by run here)."""
    order = np.argsort(arrays.run, kind="stable")
    arrays = RunArrays(**{name: value[order] for name, value in vars(arrays).items()})
    position = apply_budget_rules(arrays.gap, model.budget, model.carry_forward_limit)
    activity, activity_lines = activity_tables(model, arrays)
    workforce, cover = workforce_tables(model, parameters, arrays)
    return Forecast(
        runs=int(arrays.run.size), seed=seed, years=years_table(model, arrays, position),
        run_table=run_table(model, arrays, position), decomposition=decomposition_table(model, arrays),
        schemes=schemes_table(model, arrays), levers=levers_table(model, arrays), activity=activity,
        activity_lines=activity_lines, workforce=workforce, workforce_cover=cover,
        population=population_table(model, arrays), places=places_table(model, cells, area_codes, neighbourhoods),
        probability_of_balance=float(position.balanced.mean()),
        probability_within_limits=float(position.within_limits.mean()),
        calibration_p50=float(np.median(arrays.calibration)),
    )
