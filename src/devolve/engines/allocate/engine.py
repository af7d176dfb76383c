"""Fair shares of the pooled budget: targets, today's allocation, distance from target and a
pace-of-change path, at any level, in exact integer pence.

Pure: reads only the :class:`Deal` (and an optional neighbourhood assignment); the parameters it
uses are the deal's, as they stand at the start of each financial year.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from devolve.domain.errors import InputError, ParameterError
from devolve.domain.money import PENCE_PER_POUND, split_largest_remainder
from devolve.domain.periods import FinancialYear
from devolve.domain.records import Deal
from devolve.engines.allocate import levels, need, pace
from devolve.engines.allocate.policy import (PREFIX, AllocationPolicy, change_dates, policy_from_parameters,
                                             signature)
from devolve.engines.allocate.result import AllocationResult


def _year(deal: Deal, year: str | FinancialYear | None) -> FinancialYear:
    if year is None:
        return deal.financial_years[0]
    chosen = FinancialYear.parse(year)
    if chosen not in deal.financial_years:
        raise InputError(f"{chosen.label} is not a year of {deal.id} "
                         f"({deal.financial_years[0].label} to {deal.financial_years[-1].label})")
    return chosen


def _split(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer pence adding up to ``total`` exactly (all to nobody if there is nothing to split)."""
    weights = np.maximum(np.asarray(weights, dtype=np.float64), 0.0)
    if total == 0 or weights.sum() <= 0:
        return np.zeros(weights.size, dtype=np.int64)
    return np.asarray(split_largest_remainder(int(total), weights), dtype=np.int64)


def _area_populations(deal: Deal) -> np.ndarray:
    population = deal.small_areas["population"].cast(pl.Int64).to_numpy(allow_copy=True)
    bad = np.flatnonzero(population < 0)
    if bad.size:
        code = deal.small_areas["code"][int(bad[0])]
        raise InputError(f"population must not be negative: small area {code} has {int(population[bad[0]])}")
    return population


def _cost_factor(deal: Deal, policy: AllocationPolicy) -> np.ndarray:
    districts = deal.small_areas["district"]
    lookup = {code: policy.cost_adjustment.get(code, policy.default_cost_adjustment) for code in districts.unique()}
    return districts.replace_strict(lookup, return_dtype=pl.Float64).to_numpy()


def _parameter_table(deal: Deal, year: FinancialYear) -> pl.DataFrame:
    rows = []
    for path, parameter in deal.parameters.under(PREFIX).items():
        try:
            value = parameter.at(year.start)
        except ParameterError:
            value = None
        rows.append({"path": path, "value": None if value is None else str(value), "unit": parameter.unit,
                     "synthetic": parameter.synthetic, "source": deal.sources.get(parameter.source, parameter.source),
                     "description": parameter.description})
    return pl.DataFrame(rows, schema={"path": pl.Utf8, "value": pl.Utf8, "unit": pl.Utf8, "synthetic": pl.Boolean,
                                      "source": pl.Utf8, "description": pl.Utf8}).sort("path")


def _notes(deal: Deal, parameters: pl.DataFrame) -> tuple[str, ...]:
    notes = ["current (baseline) allocation: derived from the partners' contributions for the year, each "
             "spread over the small areas it covers by population (a CCG its own areas, a council its district, "
             "NHS England everyone); not a published figure"]
    notes += [f"from the deal pack (synthetic): {item}" for item in deal.synthetic_items if "contribution" in item]
    synthetic = parameters.filter(pl.col("synthetic"))
    if synthetic.height:
        groups = sorted({p.split(".")[1] for p in synthetic["path"]})
        notes.append(f"{synthetic.height} of {parameters.height} allocation parameters are synthetic "
                     f"(in: {', '.join(groups)}); see the parameters table and docs/method/allocation.md")
    notes += [f"data source {source} is synthetic (generated; the official file was not used)"
              for source, origin in sorted(deal.data.items()) if origin == "synthetic"]
    return tuple(notes)


def allocate(deal: Deal, *, year: str | FinancialYear | None = None, level: str = "district",
             assignment: pl.DataFrame | None = None, scenario_name: str = "baseline") -> AllocationResult:
    """Fair shares of ``deal``'s pool for ``level`` units in ``year`` (default: the deal's first).

    Raises :class:`InputError` for an unknown level or year, a negative population or a missing
    neighbourhood assignment, and :class:`ParameterError` for bad allocation parameters (e.g.
    component weights that do not add up to one).
    """
    if level not in levels.LEVELS:
        raise InputError(f"unknown level '{level}': choose one of {', '.join(levels.LEVELS)}")
    chosen = _year(deal, year)
    years = list(deal.financial_years)
    population = _area_populations(deal)
    codes = deal.small_areas["code"]
    pop = need.population_matrix(deal.population, codes, deal.age_bands)
    values = need.indicator_values(deal.small_areas)
    prints = levels.footprints(deal, years)
    units = levels.units_for(deal, level, prints[chosen], assignment)
    ids = pl.Series("id", units.ids, dtype=pl.Utf8)
    total_population = float(population.sum())

    cache: dict[object, tuple[AllocationPolicy, np.ndarray, np.ndarray]] = {}
    dates = change_dates(deal.parameters)
    spreads: dict[tuple[str, ...], levels.Spread] = {}
    policies, targets, currents, shares = [], [], [], []
    for y in years:
        key = signature(dates, y.start)
        if key not in cache:
            policy = policy_from_parameters(deal.parameters, y.start, deal.age_bands, need.INDICATOR_NAMES)
            cache[key] = (policy, *need.fair_shares(pop, need.standardised(values, policy),
                                                    _cost_factor(deal, policy), policy))
        policy, share, _ = cache[key]
        contributors = tuple(fp.partner for fp in prints[y])
        if contributors not in spreads:
            spreads[contributors] = levels.spread(prints[y], population)
        funding = levels.area_funding(prints[y], spreads[contributors], population.size)
        if level == "partner":
            if list(contributors) != list(units.ids):
                raise InputError(f"the partners contributing in {y.label} differ from those in {chosen.label}: "
                                 "the partner level needs the same contributors every year")
            mix = levels.partner_mix(prints[y], spreads[contributors], funding)
            current = np.array([fp.amount for fp in prints[y]], dtype=np.float64)
        else:
            mix, current = None, units.total(funding)
        targets.append(deal.pooled_budget[y] * units.total(share, mix))
        currents.append(current)
        policies.append(policy)
        shares.append((share, mix, key))
    allocations = pace.path(currents[0], targets, [float(deal.pooled_budget[y]) for y in years],
                            [p.pace for p in policies], [y.label for y in years])
    splits: dict[tuple, np.ndarray] = {}
    target_path = []
    for y, target, (_, _, key) in zip(years, targets, shares):
        if level == "partner" or (deal.pooled_budget[y], key) not in splits:
            splits[(deal.pooled_budget[y], key)] = _split(deal.pooled_budget[y], target)
        target_path.append(splits[(deal.pooled_budget[y], key)])
    allocation_path = [_split(deal.pooled_budget[y], a) for y, a in zip(years, allocations)]

    k = years.index(chosen)
    pool = deal.pooled_budget[chosen]
    share, mix, key = shares[k]
    policy, _, component_shares = cache[key]
    target_pence, allocation_pence = target_path[k], allocation_path[k]
    current_pence = _split(pool, currents[k])
    unit_population = units.total(population.astype(np.float64))
    need_index = np.divide(units.total(share) * total_population, unit_population,
                           out=np.full(len(units.ids), np.nan), where=unit_population > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = np.where(target_pence > 0, (current_pence - target_pence) / target_pence, np.nan)
        after = np.where(target_pence > 0, (allocation_pence - target_pence) / target_pence, np.nan)
        per_head = np.where(unit_population > 0, allocation_pence / PENCE_PER_POUND / unit_population, np.nan)
    table = pl.DataFrame({
        "id": ids, "name": pl.Series(units.names, dtype=pl.Utf8),
        "population": np.rint(unit_population).astype(np.int64),
        "target_pence": target_pence, "current_pence": current_pence,
        "distance_from_target": distance, "allocation_pence": allocation_pence,
        "allocation_distance_from_target": after, "per_head_gbp": per_head,
        "need_index": need_index, "target_share": targets[k] / pool if pool else np.zeros(len(units.ids)),
    }).with_columns(pl.col(c).fill_nan(None) for c in ("distance_from_target", "allocation_distance_from_target",
                                                       "per_head_gbp", "need_index"))
    path = pl.concat([pl.DataFrame({"id": ids, "target_pence": target_path[j], "allocation_pence": allocation_path[j]})
                      .select("id", pl.lit(y.label).alias("year"), "target_pence", "allocation_pence")
                      for j, y in enumerate(years)])

    area_need = np.divide(share * total_population, population, out=np.full(population.size, np.nan),
                          where=population > 0)
    areas = deal.small_areas.select("code", "name", "district", "ccg", "population").with_columns(
        ids.gather(units.member).alias("unit") if units.member is not None else pl.lit(None, pl.Utf8).alias("unit"),
        pl.Series("need_index", area_need).fill_nan(None), pl.Series("target_share", share))
    weights = policy.weights
    inequality_part = share / np.maximum(component_shares @ weights, 1e-300)
    component_targets = pl.concat([
        pl.DataFrame({"id": ids, "target_gbp": units.total(component_shares[:, j] * weights[j] * inequality_part, mix)
                      * pool / PENCE_PER_POUND}).select("id", pl.lit(c.id).alias("component"), "target_gbp")
        for j, c in enumerate(policy.components)])
    parameters = _parameter_table(deal, chosen)
    synthetic_paths = set(parameters.filter(pl.col("synthetic"))["path"].to_list())
    components = pl.DataFrame({
        "id": [c.id for c in policy.components], "name": [c.name for c in policy.components],
        "weight": [c.weight for c in policy.components],
        "cost_adjusted": [c.cost_adjusted for c in policy.components],
        "weight_synthetic": [f"{PREFIX}.components.{c.id}.weight" in synthetic_paths for c in policy.components],
        "need_indicators": [", ".join(f"{k} {v:g}" for k, v in c.need.items()) for c in policy.components],
    })
    return AllocationResult(
        deal_id=deal.id, deal_name=deal.name, year=chosen, years=tuple(years), level=level, pool_pence=int(pool),
        table=table, path=path, areas=areas, components=components, component_targets=component_targets,
        parameters=parameters, pace=policy.pace, scenario=scenario_name, data=dict(deal.data),
        notes=_notes(deal, parameters),
    )
