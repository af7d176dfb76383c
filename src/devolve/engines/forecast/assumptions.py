"""The forecast's assumptions as they stand in each year of the deal, read from dated parameters.

Every figure comes from the deal's parameters (national defaults in
``packs/builtin/national/parameters/{growth,inflation,unit_costs,population,forecast}.yaml``, the
deal's overrides, then a scenario's changes); nothing is invented here. Values are read at the start
of each financial year, so a scenario that changes a parameter from 2018-04-01 changes 2018/19 on.

Each scheme of the deal contributes parameters of its own, so that a scenario can scale, drop or
re-estimate it (see :func:`scheme_parameters`):

- ``schemes.<id>.scale`` — share of the scheme delivered (1 = as planned, 0 = dropped): scales its
  investment and its effects;
- ``schemes.<id>.effects.<n>.low | high`` — the 80% interval of effect *n* (1-based, as listed).

Bad values (a negative half-width, an interval with low above high, a share outside 0..1) raise
:class:`ParameterError` naming the parameter, the year and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from devolve.domain.errors import ParameterError
from devolve.domain.parameters import Parameter, ParameterSet
from devolve.domain.periods import FinancialYear
from devolve.domain.records import Deal
from devolve.engines.forecast.population import SEXES, AgeBand, CohortRates, parse_bands

#: The quantile of the standard normal at 90%: an 80% interval is central ± Z80 standard deviations.
Z80 = 1.2815515655446004
#: Which non-demographic growth parameter drives each care setting.
GROWTH_OF_SETTING = {
    "hospital": "growth.hospital",
    "primary_care": "growth.primary_and_community",
    "community": "growth.primary_and_community",
    "mental_health": "growth.primary_and_community",
    "prescribing": "growth.prescribing",
    "social_care": "growth.social_care",
}


@dataclass(frozen=True)
class EffectSpec:
    """One effect of one scheme, on one service line, over the deal's years."""

    scheme: int                 # index into the schemes
    line: int                   # index into the service lines
    band_share: np.ndarray      # [B] share of each age band at or over the effect's minimum age
    low: np.ndarray             # [T] 80% interval of the proportional change in activity
    high: np.ndarray            # [T]
    profile: np.ndarray         # [T] share of the full effect realised (ramp, lag, scale, switch)
    substitute: int             # index of the line care moves to, or -1
    substitute_ratio: float     # units of the substitute per unit avoided


@dataclass(frozen=True)
class SchemeSpec:
    id: str
    name: str
    category: str
    synthetic: bool
    investment: np.ndarray      # [T] pounds, after scale and the schemes switch


@dataclass(frozen=True)
class ForecastAssumptions:
    years: tuple[FinancialYear, ...]
    bands: tuple[AgeBand, ...]
    lines: tuple[str, ...]
    settings: tuple[str, ...]                # the setting of each line
    unit_cost: np.ndarray                    # [T, L] pounds in first-year prices
    growth: np.ndarray                       # [T, L] non-demographic growth in the year
    pay: np.ndarray                          # [T]
    prices: np.ndarray                       # [T]
    pay_share: np.ndarray                    # [T]
    need_elasticity: np.ndarray              # [L]
    budget_growth: np.ndarray                # [T]
    efficiencies: np.ndarray                 # [T]
    reconcile: bool
    cohort_rates: tuple[CohortRates, ...]    # [T] the step into each year (the first: base → year 1)
    half_growth: float
    half_pay: float
    half_prices: float
    half_district_migration: float
    half_area_migration: float
    half_need: float                         # relative
    half_efficiencies: float                 # relative
    bed_days_per_emergency_admission: float
    schemes: tuple[SchemeSpec, ...]
    effects: tuple[EffectSpec, ...]
    notes: tuple[str, ...]                   # how assumptions were read, for the reader of the results


def _when(year: FinancialYear) -> date:
    return year.start


def _series(parameters: ParameterSet, path: str, years, *, low: float | None = None,
            high: float | None = None) -> np.ndarray:
    values = []
    for year in years:
        value = parameters.at(path, _when(year))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParameterError(f"parameter '{path}' is {value!r} in {year}: expected a number")
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"between {low:g} and {high:g}" if low is not None and high is not None else (
                f"at least {low:g}" if low is not None else f"at most {high:g}")
            raise ParameterError(f"parameter '{path}' is {value:g} in {year}: expected a value {bounds}")
        values.append(float(value))
    return np.array(values)


def _first(parameters: ParameterSet, path: str, years, **bounds) -> float:
    return float(_series(parameters, path, years[:1], **bounds)[0])


def _flag(parameters: ParameterSet, path: str, years) -> np.ndarray:
    values = [parameters.at(path, _when(y)) for y in years]
    for year, value in zip(years, values):
        if not isinstance(value, bool):
            raise ParameterError(f"parameter '{path}' is {value!r} in {year}: expected true or false")
    return np.array(values, dtype=bool)


def _pay(parameters: ParameterSet, years) -> tuple[np.ndarray, list[str]]:
    """The pay award each year; where the national pay policy has ended, the default award (noted)."""
    values, notes = [], []
    for year in years:
        parameter = parameters["inflation.pay"]
        in_force = [v for d, v in parameter.values if d <= _when(year)]
        if in_force and in_force[-1] is None:
            value = _first(parameters, "forecast.default_pay_award", (year,))
            notes.append(f"inflation.pay has no value in {year} (the pay policy ended); "
                         f"forecast.default_pay_award ({value:g}) is used")
        else:
            value = float(_series(parameters, "inflation.pay", (year,))[0])
        values.append(value)
    return np.array(values), notes


def scheme_parameters(deal: Deal) -> dict[str, Parameter]:
    """The parameters each scheme adds (scale and effect intervals), from ``schemes.yaml``."""
    start = deal.start
    out: dict[str, Parameter] = {}
    for scheme in deal.schemes:
        stem = f"schemes.{scheme.id}"
        out[f"{stem}.scale"] = Parameter(
            f"{stem}.scale", f"Share of scheme '{scheme.name}' delivered (1 = as planned, 0 = dropped)",
            "fraction", scheme.source, ((start, 1.0),), scheme.synthetic)
        for n, effect in enumerate(scheme.effects, start=1):
            for side in ("low", "high"):
                path = f"{stem}.effects.{n}.{side}"
                out[path] = Parameter(
                    path, f"{side.title()} end of the 80% interval of the change in {effect.service_line} "
                          f"(ages {effect.min_age}+) from scheme '{scheme.name}'",
                    "fraction", scheme.source, ((start, getattr(effect, side)),), scheme.synthetic)
    return out


def _ramp(first_year: int, lag: int, ramp: int, count: int) -> np.ndarray:
    t = np.arange(count) - first_year - lag
    if ramp <= 0:
        return (t >= 0).astype(float)
    return np.clip((t + 1) / ramp, 0.0, 1.0)


def _schemes(deal: Deal, parameters: ParameterSet, years, bands, line_index) -> tuple[tuple, tuple]:
    enabled = _flag(parameters, "forecast.schemes_enabled", years)
    schemes, effects = [], []
    for k, scheme in enumerate(deal.schemes):
        stem = f"schemes.{scheme.id}"
        scale = _series(parameters, f"{stem}.scale", years, low=0.0) * enabled
        planned = np.array([scheme.investment.get(y, 0) / 100 for y in years])
        schemes.append(SchemeSpec(scheme.id, scheme.name, scheme.category, scheme.synthetic, planned * scale))
        invested = np.nonzero(planned > 0)[0]
        first_year = int(invested[0]) if invested.size else 0
        for n, effect in enumerate(scheme.effects, start=1):
            low = _series(parameters, f"{stem}.effects.{n}.low", years, low=-1.0, high=1.0)
            high = _series(parameters, f"{stem}.effects.{n}.high", years, low=-1.0, high=1.0)
            bad = np.nonzero(low > high)[0]
            if bad.size:
                t = int(bad[0])
                raise ParameterError(
                    f"scheme '{scheme.id}' effect {n} ({effect.service_line}): low {low[t]:g} is above high "
                    f"{high[t]:g} in {years[t]}: an 80% interval needs low no greater than high "
                    f"(parameters {stem}.effects.{n}.low and .high)")
            profile = _ramp(first_year, effect.lag_years, effect.ramp_years, len(years)) * scale
            share = np.array([band.share_of_ages(effect.min_age) for band in bands])
            substitute = line_index[effect.substitute] if effect.substitute else -1
            effects.append(EffectSpec(k, line_index[effect.service_line], share, low, high, profile,
                                      substitute, float(effect.substitute_ratio)))
    return tuple(schemes), tuple(effects)


def _cohort_rates(parameters: ParameterSet, years, bands: tuple[AgeBand, ...]) -> tuple[CohortRates, ...]:
    out = []
    for year in years:
        change, leave = [], []
        for band in bands:
            for sex in SEXES:
                key = f"{sex.lower()}_{band.key}"
                change.append(_first(parameters, f"population.cohort_change.{key}", (year,), low=0.0))
                leave.append(0.0 if band is bands[-1] else
                             _first(parameters, f"population.band_exit.{key}", (year,), low=0.0, high=1.0))
        births = [_first(parameters, f"population.births.{sex.lower()}", (year,), low=0.0) for sex in SEXES]
        out.append(CohortRates(np.array(change), np.array(leave), np.array(births)))
    return tuple(out)


def read_assumptions(deal: Deal, parameters: ParameterSet | None = None) -> ForecastAssumptions:
    """The forecast's assumptions for ``deal`` under ``parameters`` (default: the deal's own).

    ``parameters`` must include the schemes' own parameters (:func:`scheme_parameters`).
    """
    params = parameters if parameters is not None else deal.parameters.merged(scheme_parameters(deal))
    years = deal.financial_years
    bands = parse_bands(deal.age_bands)
    lines = tuple(s.id for s in deal.service_lines)
    settings = tuple(s.setting for s in deal.service_lines)
    line_index = {line: i for i, line in enumerate(lines)}
    unit_cost = np.stack([_series(params, f"unit_costs.{line}", years, low=0.0) for line in lines], axis=1)
    growth = np.stack([_series(params, GROWTH_OF_SETTING[s], years, low=-0.5, high=0.5) for s in settings], axis=1)
    need = np.array([_first(params, f"forecast.need_elasticity.{s}", years, low=0.0, high=0.99) for s in settings])
    pay, notes = _pay(params, years)
    schemes, effects = _schemes(deal, params, years, bands, line_index)
    half = {name: _first(params, f"forecast.uncertainty.{name}", years, low=0.0)
            for name in ("growth", "pay", "prices", "district_migration", "small_area_migration",
                         "need_elasticity", "plan_efficiencies")}
    reconcile = _flag(params, "forecast.reconcile_baseline", years[:1])[0]
    if not reconcile:
        notes.append("forecast.reconcile_baseline is false: spend is the modelled cost, not scaled to the budget")
    return ForecastAssumptions(
        years=years, bands=bands, lines=lines, settings=settings, unit_cost=unit_cost, growth=growth,
        pay=pay, prices=_series(params, "inflation.prices", years, low=-0.5, high=0.5),
        pay_share=_series(params, "inflation.pay_share", years, low=0.0, high=1.0),
        need_elasticity=need,
        budget_growth=_series(params, "forecast.budget_growth", years, low=-0.5, high=0.5),
        efficiencies=_series(params, "forecast.plan_efficiencies", years, low=0.0, high=0.5),
        reconcile=bool(reconcile), cohort_rates=_cohort_rates(params, years, bands),
        half_growth=half["growth"], half_pay=half["pay"], half_prices=half["prices"],
        half_district_migration=half["district_migration"], half_area_migration=half["small_area_migration"],
        half_need=half["need_elasticity"], half_efficiencies=half["plan_efficiencies"],
        bed_days_per_emergency_admission=_first(params, "forecast.bed_days_per_emergency_admission", years,
                                                low=0.0),
        schemes=schemes, effects=effects, notes=tuple(notes),
    )
