"""Synthetic monthly series of each indicator over the deal's years, for SPC charts.

There are no monthly outcome data in devolve. The series is *synthetic* and labelled so: each month's
expected value is the modelled baseline with every scheme's central effect phased in (starting
``lag_years`` after its first investment, reaching full size after ``ramp_years``); the observed
value adds sampling noise — numerators drawn from a Poisson distribution with the expected monthly
count (a binomial for proportions), from one seed, so the same seed gives the same series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from devolve.domain.records import Deal, Scheme
from devolve.engines.indicators.compute import Prepared, UnitSet, estimate
from devolve.engines.indicators.definitions import IndicatorError
from devolve.engines.indicators.model import Model, Scenario, effect_phase, scenario, years_after_start


def month_starts(deal: Deal) -> list[date]:
    out = []
    year, month = deal.start.year, deal.start.month
    for _ in range(deal.years * 12):
        out.append(date(year, month, 1))
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return out


@dataclass(frozen=True)
class Series:
    indicator: str
    units: tuple[str, ...]
    months: tuple[date, ...]
    expected: np.ndarray      # (unit, month)
    observed: np.ndarray      # (unit, month); NaN where a month had no denominator


def monthly_scenarios(model: Model, schemes: Sequence[Scheme]) -> list[Scenario]:
    """The schemes' effects as reached in the middle of each month of the deal."""
    deal = model.deal
    starts = {s.id: years_after_start(deal, s) for s in schemes}
    cases = []
    for t in range(len(month_starts(deal))):
        elapsed = (t + 0.5) / 12
        cases.append(scenario(model, schemes,
                              lambda s, e, at=elapsed: effect_phase(at, starts[s.id], e.lag_years, e.ramp_years)))
    return cases


def monthly_series(model: Model, prepared: Prepared, units: UnitSet, cases: Sequence[Scenario], *,
                   seed: int, stream: int, confidence: float = 0.95) -> Series:
    """A synthetic series per unit, one value a month, from the monthly ``cases``."""
    months = month_starts(model.deal)
    if len(cases) != len(months):
        raise IndicatorError(f"a monthly series needs one scenario per month ({len(months)}), not {len(cases)}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, stream]))
    indicator = prepared.indicator
    n_units = len(units.ids)
    expected = np.full((n_units, len(months)), np.nan)
    observed = np.full((n_units, len(months)), np.nan)
    for t, case in enumerate(cases):
        num = prepared.numerator.total(case) / 12
        den = prepared.denominator.total(case)
        exp_est, valid = estimate(indicator, num * 12, den, prepared.weights, confidence, strict=False)
        expected[:, t] = exp_est.value
        if indicator.is_proportion:
            trials = np.round(den.sum(axis=1) / 12).astype(np.int64)
            with np.errstate(divide="ignore", invalid="ignore"):
                p = np.where(den.sum(axis=1) > 0, num.sum(axis=1) * 12 / den.sum(axis=1), 0.0)
            drawn = rng.binomial(np.maximum(trials, 0), np.clip(p, 0.0, 1.0))
            with np.errstate(divide="ignore", invalid="ignore"):
                observed[:, t] = np.where(trials > 0, drawn / np.maximum(trials, 1), np.nan)
        else:
            counts = rng.poisson(np.maximum(num, 0.0))
            obs_est, _ = estimate(indicator, counts * 12.0, den, prepared.weights, confidence, strict=False)
            observed[:, t] = np.where(valid, obs_est.value, np.nan)
    return Series(indicator.id, units.ids, tuple(months), expected, observed)
