"""Inequality across deprivation: the slope and relative indices of inequality, and the gap between
the most and least deprived fifths.

Method (Low & Low 2004, as in Public Health England's / OHID's ``phe_sii``): groups (deprivation
deciles) are ordered from the most deprived (1) to the least deprived; each gets the midpoint of its
range in the cumulative population share, xᵢ ∈ (0, 1), and its population share aᵢ. A line is fitted
to the group values yᵢ by weighted least squares with weights aᵢ (PHE's √a transformation), so

    SII = Σ aᵢ(xᵢ − x̄)(yᵢ − ȳ) / Σ aᵢ(xᵢ − x̄)²,    x̄ = Σ aᵢxᵢ, ȳ = Σ aᵢyᵢ (the population mean)

is the fitted value at the least deprived end (x = 1) minus that at the most deprived end (x = 0):
negative when the indicator is higher in more deprived areas. RII = SII / ȳ (the gap as a share of
the mean); PHE's alternative, the ratio of the fitted ends (b₀ + SII) / b₀, is ``rii_extremes``.

Confidence intervals: the SII is linear in the group values, SII = Σ cᵢ yᵢ with
cᵢ = aᵢ(xᵢ − x̄)/Σ aⱼ(xⱼ − x̄)², so with independent group values of standard error sᵢ its variance is
exactly Σ cᵢ² sᵢ² ("analytic", the default; RII by the delta method). PHE's seeded simulation (draw each
yᵢ from N(yᵢ, sᵢ²), refit, take percentiles) is ``method="simulation"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from devolve.engines.indicators.definitions import IndicatorError
from devolve.engines.indicators.standardise import z_value


@dataclass(frozen=True)
class SlopeIndex:
    sii: float
    sii_lower: float
    sii_upper: float
    rii: float
    rii_lower: float
    rii_upper: float
    rii_extremes: float | None   # PHE's fitted(least deprived) / fitted(most deprived); None if b0 = 0
    intercept: float             # fitted value at the most deprived end
    mean: float                  # population-weighted mean of the group values
    groups: int
    method: str
    confidence: float

    def to_json(self) -> dict:
        return {"sii": self.sii, "sii_ci": [self.sii_lower, self.sii_upper], "rii": self.rii,
                "rii_ci": [self.rii_lower, self.rii_upper], "rii_extremes": self.rii_extremes,
                "fitted_most_deprived": self.intercept, "fitted_least_deprived": self.intercept + self.sii,
                "mean": self.mean, "groups": self.groups, "ci_method": self.method,
                "confidence": self.confidence}


def midpoint_ranks(population: np.ndarray) -> np.ndarray:
    """Each group's midpoint in the cumulative population share (groups in deprivation order)."""
    pop = np.asarray(population, dtype=float)
    total = pop.sum()
    return (np.cumsum(pop) - pop / 2) / total


def slope_index(values, standard_errors, population, *, confidence: float = 0.95, method: str = "analytic",
                repetitions: int = 10_000, seed: int = 0) -> SlopeIndex:
    """SII and RII of ``values`` across groups ordered from most to least deprived."""
    y = np.asarray(values, dtype=float)
    se = np.asarray(standard_errors, dtype=float)
    pop = np.asarray(population, dtype=float)
    if not (y.shape == se.shape == pop.shape) or y.ndim != 1:
        raise IndicatorError("slope index: values, standard errors and populations must be lists of the same length")
    if y.size < 2:
        raise IndicatorError("slope index: at least two deprivation groups are needed")
    if np.any(~np.isfinite(pop)) or np.any(pop <= 0):
        raise IndicatorError("slope index: every deprivation group needs a positive population")
    if np.any(~np.isfinite(y)):
        raise IndicatorError("slope index: a group value is missing")
    if np.any(~np.isfinite(se)) or np.any(se < 0):
        raise IndicatorError("slope index: a standard error is missing or negative")
    if method not in ("analytic", "simulation"):
        raise IndicatorError(f"slope index: method must be 'analytic' or 'simulation', not '{method}'")
    a = pop / pop.sum()
    x = midpoint_ranks(pop)
    x_bar = float(a @ x)
    sxx = float(a @ (x - x_bar) ** 2)
    c = a * (x - x_bar) / sxx
    mean = float(a @ y)
    sii = float(c @ y)
    intercept = mean - sii * x_bar
    rii = sii / mean if mean != 0 else float("nan")
    extremes = (intercept + sii) / intercept if intercept != 0 else None
    z = z_value(confidence)
    if method == "analytic":
        sii_se = float(np.sqrt(c ** 2 @ se ** 2))
        gradient = c / mean - sii * a / mean ** 2 if mean != 0 else np.full_like(c, np.nan)
        rii_se = float(np.sqrt(gradient ** 2 @ se ** 2))
        bounds = (sii - z * sii_se, sii + z * sii_se, rii - z * rii_se, rii + z * rii_se)
    else:
        if repetitions < 1000:
            raise IndicatorError("slope index: a simulation needs at least 1,000 repetitions")
        rng = np.random.default_rng(seed)
        draws = y + se * rng.standard_normal((repetitions, y.size))
        sii_draws = draws @ c
        with np.errstate(divide="ignore", invalid="ignore"):
            rii_draws = sii_draws / (draws @ a)
        tail = (1 - confidence) / 2 * 100
        low_s, high_s = np.percentile(sii_draws, [tail, 100 - tail])
        low_r, high_r = np.nanpercentile(rii_draws, [tail, 100 - tail])
        bounds = (float(low_s), float(high_s), float(low_r), float(high_r))
    return SlopeIndex(sii, bounds[0], bounds[1], rii, bounds[2], bounds[3], extremes, intercept, mean,
                      int(y.size), method, confidence)


@dataclass(frozen=True)
class QuintileGap:
    most_deprived: float
    least_deprived: float

    @property
    def gap(self) -> float:
        return self.most_deprived - self.least_deprived

    @property
    def ratio(self) -> float | None:
        return self.most_deprived / self.least_deprived if self.least_deprived else None

    def to_json(self) -> dict:
        return {"most_deprived_quintile": self.most_deprived, "least_deprived_quintile": self.least_deprived,
                "gap": self.gap, "ratio": self.ratio}


def assign_deciles(unit: np.ndarray, deprivation: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Local deprivation deciles: within each unit, areas ordered from the most deprived (lowest
    ``deprivation`` rank) are cut into ten groups of (as near as whole areas allow) equal population,
    each area going to the decile holding the midpoint of its population. Returns 1..10 per area.

    This is how PHE builds deciles within a local authority for its local SII (the areas' national
    IMD ranks, re-cut within the place).
    """
    unit = np.asarray(unit)
    rank = np.asarray(deprivation, dtype=float)
    pop = np.asarray(population, dtype=float)
    if np.any(np.isnan(rank)):
        raise IndicatorError("local deciles: an area has no deprivation rank")
    order = np.lexsort((rank, unit))
    sorted_unit = unit[order]
    sorted_pop = pop[order]
    starts = np.r_[0, np.flatnonzero(sorted_unit[1:] != sorted_unit[:-1]) + 1]
    group = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, sorted_unit.size]))
    cumulative = np.cumsum(sorted_pop)
    before = np.r_[0.0, cumulative][starts][group]
    totals = np.add.reduceat(sorted_pop, starts)[group]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(totals > 0, (cumulative - before - sorted_pop / 2) / totals, 0.0)
    decile = np.minimum(10, np.floor(share * 10).astype(int) + 1)
    out = np.empty_like(decile)
    out[order] = decile
    return out
