"""Fiscal levers: a devolved health tax and a business-rates discount for healthy workplaces.

Both are dated parameters (``fiscal.*``, national defaults in
``packs/builtin/national/parameters/fiscal.yaml``), off by default, switched on by a scenario. The
functions here are pure and vectorised over Monte Carlo runs (first axis) and years (last axis).

**Health tax.** In year *t*, with residents N and residents aged 16–64 W (projected, per run):

    revenue = (precept · band_d_per_resident · N + levy · W) · collection_rate

**Business-rates discount** for employers that meet a workforce-health standard. The discount
starts in the first year it is above zero; uptake ramps up over ``ramp_years``:

    uptake_t   = uptake · min(1, (t − t0 + 1) / ramp_years)
    cost       = rateable_value_per_resident · N_0 · multiplier_t · eligible_share · uptake_t · discount_t
    covered    = W · employment_rate · eligible_employment_share · uptake_t      (workers)
    days saved = covered · absence_days_per_worker · absence_reduction
    demand     = demand_effect · covered / W        (proportional change in the demand lines, ages 16–64)

The cost is revenue the councils forgo, met from the pool; the absence benefit (days × value per
day) accrues to employers and the economy and is reported beside the forecast, not in the gap; the
demand change feeds the forecast's activity like a scheme's effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from devolve.domain.errors import ParameterError
from devolve.domain.parameters import ParameterSet
from devolve.domain.periods import FinancialYear

Z80 = 1.2815515655446004
WORKING_AGES = (16, 64)
#: The per-run uncertain quantities of the levers, in the order they are drawn.
DRAWS = ("collection_rate", "uptake", "absence_reduction", "demand_effect")


@dataclass(frozen=True)
class FiscalLevers:
    """The levers' parameters in each year of the deal ([T] arrays)."""

    precept_gbp_per_band_d: np.ndarray
    band_d_per_resident: np.ndarray
    collection_rate: np.ndarray
    levy_gbp_per_working_age: np.ndarray
    multiplier: np.ndarray
    rateable_value_per_resident: np.ndarray
    discount: np.ndarray
    eligible_share: np.ndarray
    uptake: np.ndarray
    ramp_years: float
    employment_rate: np.ndarray
    eligible_employment_share: np.ndarray
    absence_days_per_worker: np.ndarray
    absence_reduction: np.ndarray
    value_per_absence_day: np.ndarray
    demand_effect: np.ndarray
    demand_lines: tuple[str, ...]
    half_collection_rate: float
    half_uptake: float
    half_absence_reduction: float
    half_demand_effect: float

    @property
    def tax_on(self) -> bool:
        return bool(np.any(self.precept_gbp_per_band_d > 0) or np.any(self.levy_gbp_per_working_age > 0))

    @property
    def discount_on(self) -> bool:
        return bool(np.any(self.discount > 0))

    def uptake_profile(self) -> np.ndarray:
        """[T] uptake of the discount each year, ramping up from the first year it is offered."""
        offered = np.nonzero(self.discount > 0)[0]
        if offered.size == 0:
            return np.zeros_like(self.discount)
        t = np.arange(self.discount.size) - offered[0]
        ramp = np.clip((t + 1) / self.ramp_years, 0.0, 1.0) if self.ramp_years > 0 else (t >= 0).astype(float)
        return ramp * (self.discount > 0)


def _values(parameters: ParameterSet, path: str, years: tuple[FinancialYear, ...], low: float | None = 0.0,
            high: float | None = None) -> np.ndarray:
    out = []
    for year in years:
        value = parameters.at(path, year.start)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParameterError(f"parameter '{path}' is {value!r} in {year}: expected a number")
        if (low is not None and value < low) or (high is not None and value > high):
            expected = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
            raise ParameterError(f"parameter '{path}' is {value:g} in {year}: expected a value {expected}")
        out.append(float(value))
    return np.array(out)


def read_levers(parameters: ParameterSet, years: tuple[FinancialYear, ...], lines: tuple[str, ...]) -> FiscalLevers:
    """The levers as they stand in each of ``years``; ``lines`` are the deal's service lines."""
    at = lambda path, **kw: _values(parameters, f"fiscal.{path}", years, **kw)  # noqa: E731
    first: date = years[0].start
    text = parameters.at("fiscal.rates_discount.demand_lines", first)
    demand_lines = tuple(part.strip() for part in str(text).split(";") if part.strip())
    unknown = [line for line in demand_lines if line not in lines]
    if unknown:
        raise ParameterError(f"parameter 'fiscal.rates_discount.demand_lines' names '{unknown[0]}', which is not "
                             f"a service line of this deal ({', '.join(lines)})")
    return FiscalLevers(
        precept_gbp_per_band_d=at("health_precept.gbp_per_band_d"),
        band_d_per_resident=at("health_precept.band_d_per_resident"),
        collection_rate=at("health_precept.collection_rate", high=1.0),
        levy_gbp_per_working_age=at("health_levy.gbp_per_working_age_resident"),
        multiplier=at("business_rates.multiplier", high=1.0),
        rateable_value_per_resident=at("business_rates.rateable_value_per_resident"),
        discount=at("rates_discount.discount", high=1.0),
        eligible_share=at("rates_discount.eligible_share", high=1.0),
        uptake=at("rates_discount.uptake", high=1.0),
        ramp_years=float(at("rates_discount.ramp_years")[0]),
        employment_rate=at("rates_discount.employment_rate", high=1.0),
        eligible_employment_share=at("rates_discount.eligible_employment_share", high=1.0),
        absence_days_per_worker=at("rates_discount.absence_days_per_worker"),
        absence_reduction=at("rates_discount.absence_reduction", high=1.0),
        value_per_absence_day=at("rates_discount.value_per_absence_day"),
        demand_effect=at("rates_discount.demand_effect", low=-1.0, high=1.0),
        demand_lines=demand_lines,
        half_collection_rate=float(at("uncertainty.collection_rate")[0]),
        half_uptake=float(at("uncertainty.uptake")[0]),
        half_absence_reduction=float(at("uncertainty.absence_reduction")[0]),
        half_demand_effect=float(at("uncertainty.demand_effect")[0]),
    )


def health_tax_revenue(levers: FiscalLevers, residents: np.ndarray, working_age: np.ndarray,
                       z_collection: np.ndarray) -> np.ndarray:
    """[R, T] pounds raised; ``residents`` and ``working_age`` are [R, T], ``z_collection`` [R]."""
    rate = np.clip(levers.collection_rate[None, :] + levers.half_collection_rate / Z80 * z_collection[:, None],
                   0.0, 1.0)
    due = (levers.precept_gbp_per_band_d * levers.band_d_per_resident)[None, :] * residents \
        + levers.levy_gbp_per_working_age[None, :] * working_age
    return due * rate


@dataclass(frozen=True)
class RatesDiscountOutcome:
    cost: np.ndarray                  # [R, T] pounds of rates forgone, met by the pool
    covered_workers: np.ndarray       # [R, T]
    absence_days_avoided: np.ndarray  # [R, T]
    absence_value: np.ndarray         # [R, T] pounds (outside the pool)
    demand_change: np.ndarray         # [R, T] proportional change in the demand lines, ages 16-64


def rates_discount(levers: FiscalLevers, residents_first_year: float, working_age: np.ndarray,
                   z_uptake: np.ndarray, z_absence: np.ndarray, z_demand: np.ndarray) -> RatesDiscountOutcome:
    """The discount's cost and benefits per run and year (all zero when no discount is offered)."""
    profile = levers.uptake_profile()[None, :]
    uptake = np.clip(levers.uptake[None, :] + levers.half_uptake / Z80 * z_uptake[:, None], 0.0, 1.0) * profile
    rateable = levers.rateable_value_per_resident * residents_first_year
    cost = rateable[None, :] * (levers.multiplier * levers.eligible_share * levers.discount)[None, :] * uptake
    covered_share = (levers.employment_rate * levers.eligible_employment_share)[None, :] * uptake
    covered = working_age * covered_share
    reduction = np.clip(levers.absence_reduction[None, :] + levers.half_absence_reduction / Z80 * z_absence[:, None],
                        0.0, 1.0)
    days = covered * levers.absence_days_per_worker[None, :] * reduction
    effect = np.clip(levers.demand_effect[None, :] + levers.half_demand_effect / Z80 * z_demand[:, None], -1.0, 1.0)
    return RatesDiscountOutcome(cost, covered, days, days * levers.value_per_absence_day[None, :],
                                effect * covered_share)
