"""Need indicators of each small area, and the weighted capitation kernel.

An indicator is oriented so that a higher value means more need. The rates are the IoD2019
income, employment and older people's income deprivation rates (File 8 numerators divided by the
File 6 populations); the health indicators are File 8's as published. Each is standardised against
England's reference mean and standard deviation (dated parameters), so an area's need does not
depend on which other areas share its deal.

For area *i*, component *c*, age band and sex *a*:

    WP[i, c] = Σ_a pop[i, a] · cost[c, a] · exp(Σ_k β[c, k] · z[i, k]) · m[i, c]
    share[i] = f[i] / Σ_j f[j],   f[i] = (Σ_c w[c] · WP[i, c] / Σ_j WP[j, c]) · ((1 − h) + h · exp(γ · z[i, hi]))

with ``m`` the market forces factor of the area's district for cost-adjusted components (else 1),
``w`` the component weights, ``h`` the health inequalities policy weight and ``γ`` its gradient.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from devolve.domain.errors import InputError
from devolve.engines.allocate.policy import SEXES, AllocationPolicy

#: indicator -> (numerator or value column, denominator column or None, what it is)
INDICATORS: Mapping[str, tuple[str, str | None, str]] = {
    "income": ("income_numerator", "population",
               "income deprivation rate (IoD2019 income domain numerator / total population)"),
    "employment": ("employment_numerator", "pop_16_59",
                   "employment deprivation rate (IoD2019 employment domain numerator / population aged 16-59)"),
    "older_income": ("older_income_numerator", "pop_60_plus",
                     "income deprivation affecting older people (IDAOPI numerator / population aged 60+)"),
    "illness": ("illness_ratio", None, "comparative illness and disability ratio (IoD2019)"),
    "acute_morbidity": ("acute_morbidity", None, "acute morbidity indicator (IoD2019)"),
    "mood_anxiety": ("mood_anxiety", None, "mood and anxiety disorders indicator (IoD2019)"),
    "premature_mortality": ("ypll", None, "years of potential life lost indicator (IoD2019)"),
}
INDICATOR_NAMES = tuple(INDICATORS)


def indicator_values(small_areas: pl.DataFrame) -> pl.DataFrame:
    """One column per indicator (raw, unstandardised), in the small areas' order.

    A suppressed numerator (null: a small count the publisher withheld) counts as zero; a missing
    health indicator takes the reference mean later (a z-score of zero). Rates with no one in the
    denominator are zero.
    """
    missing = sorted({c for num, den, _ in INDICATORS.values() for c in (num, den) if c} - set(small_areas.columns))
    if missing:
        raise InputError(f"the deal's small areas have no column {missing[0]}: load the deal with "
                         "devolve.packs.loader.load_deal, which attaches the need indicators")
    columns = []
    for name, (value, denominator, _) in INDICATORS.items():
        if denominator is None:
            columns.append(pl.col(value).cast(pl.Float64).alias(name))
        else:
            den = pl.col(denominator).cast(pl.Float64)
            columns.append(pl.when(den > 0).then(pl.col(value).cast(pl.Float64).fill_null(0.0) / den)
                           .otherwise(0.0).alias(name))
    return small_areas.select(columns)


def standardised(values: pl.DataFrame, policy: AllocationPolicy) -> dict[str, np.ndarray]:
    """z-scores of the indicators the policy uses, against its reference mean and sd."""
    out = {}
    for name, (mean, sd) in policy.references.items():
        raw = values[name].to_numpy(allow_copy=True).astype(np.float64)
        out[name] = np.where(np.isnan(raw), 0.0, (raw - mean) / sd)
    return out


def population_matrix(population: pl.DataFrame, area_codes: pl.Series, age_bands: tuple[str, ...]) -> np.ndarray:
    """Area × (age band, sex) population, band-major then sex (F, M), in ``area_codes`` order.

    Raises :class:`InputError` on a negative or non-finite count, an unknown band or sex, or a
    row for an area that is not among the deal's small areas.
    """
    n, width = len(area_codes), len(age_bands) * len(SEXES)
    if population.height == 0:
        return np.zeros((n, width))
    values = population["population"].cast(pl.Float64).to_numpy()
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row = population.row(int(np.argmax(bad)), named=True)
        raise InputError(f"population must not be negative: area {row['area']}, age band {row['age_band']}, "
                         f"sex {row['sex']} has {row['population']}")
    bands = list(age_bands)
    try:
        indexed = population.select(
            pl.col("area").cast(pl.Enum(area_codes.to_list())).to_physical().cast(pl.Int64).alias("i"),
            (pl.col("age_band").cast(pl.Enum(bands)).to_physical().cast(pl.Int64) * len(SEXES)
             + pl.col("sex").cast(pl.Enum(list(SEXES))).to_physical().cast(pl.Int64)).alias("j"))
    except pl.exceptions.PolarsError:
        known_areas, known_bands = set(area_codes.to_list()), set(bands)
        for row in population.select("area", "age_band", "sex").iter_rows(named=True):
            if row["area"] not in known_areas or row["age_band"] not in known_bands or row["sex"] not in SEXES:
                raise InputError(f"population row for area {row['area']}, age band {row['age_band']}, sex "
                                 f"{row['sex']} does not match the deal's small areas, age bands and sexes") from None
        raise InputError("the deal's small area codes and age bands must each be unique") from None
    if indexed.null_count().sum_horizontal().item():
        raise InputError("population rows must name an area, an age band and a sex")
    flat = indexed["i"].to_numpy() * width + indexed["j"].to_numpy()
    return np.bincount(flat, weights=values, minlength=n * width).reshape(n, width)


def weighted_populations(pop: np.ndarray, z: dict[str, np.ndarray], cost_factor: np.ndarray,
                         policy: AllocationPolicy) -> np.ndarray:
    """Area × component weighted population (age-cost × additional need × cost adjustment)."""
    curves = np.stack([c.cost_curve for c in policy.components], axis=1)        # (bands·sexes) × C
    exponent = np.zeros((pop.shape[0], len(policy.components)))
    for j, component in enumerate(policy.components):
        for indicator, beta in component.need.items():
            exponent[:, j] += beta * z[indicator]
    adjusted = np.array([c.cost_adjusted for c in policy.components])
    cost = np.where(adjusted[None, :], cost_factor[:, None], 1.0)
    return (pop @ curves) * np.exp(exponent) * cost


def fair_shares(pop: np.ndarray, z: dict[str, np.ndarray], cost_factor: np.ndarray,
                policy: AllocationPolicy) -> tuple[np.ndarray, np.ndarray]:
    """Each area's share of the pool (summing to one) and its components' shares (area × component).

    Raises :class:`InputError` when a weighted component has no weighted population anywhere (no
    one of the ages it serves lives in the deal).
    """
    wp = weighted_populations(pop, z, cost_factor, policy)
    totals = wp.sum(axis=0)
    weights = policy.weights
    empty = [c.id for c, t, w in zip(policy.components, totals, weights) if w > 0 and t <= 0]
    if empty:
        raise InputError(f"component '{empty[0]}' has no weighted population in this deal: no residents of the "
                         "ages it serves, or no residents at all")
    component_shares = np.divide(wp, totals, out=np.zeros_like(wp), where=totals > 0)
    capitation = component_shares @ weights
    h, gamma = policy.inequalities_weight, policy.inequalities_gradient
    inequality = (1.0 - h) + h * np.exp(gamma * z[policy.inequalities_indicator])
    adjusted = capitation * inequality
    total = adjusted.sum()
    if total <= 0:
        raise InputError("the deal has no residents to allocate the pool to")
    return adjusted / total, component_shares
