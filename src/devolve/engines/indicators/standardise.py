"""Rates and proportions with confidence intervals, as Public Health England computes them.

* Crude rate: O / n × per, with Byar's approximation to exact Poisson limits for O.
* Directly standardised rate (DSR): Σ wᵢ Oᵢ/nᵢ / Σ wᵢ × per, with Dobson's method: the DSR's limits
  are DSR + √(var(DSR)/O) × (O_limit − O), where O = Σ Oᵢ, O_limit are Byar's limits for O and
  var(DSR) = Σ (wᵢ/Σw)² Oᵢ/nᵢ² × per².
* Proportion: O / n with Wilson score limits.

Every function is vectorised over rows: counts and denominators are arrays of shape (units, bands)
(or (units,) for crude figures). Zero or negative denominators raise :class:`IndicatorError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from devolve.engines.indicators.definitions import IndicatorError


def z_value(confidence: float) -> float:
    if not 0.5 < confidence < 1:
        raise IndicatorError(f"a confidence level must be between 0.5 and 1, not {confidence:g}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


@dataclass(frozen=True)
class Estimate:
    """Values with lower and upper limits and standard errors, one per row."""

    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    se: np.ndarray
    count: np.ndarray          # the numerator's total (O)
    denominator: np.ndarray    # the denominator's total (n)


def byar_limits(observed: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Byar's approximation to the exact Poisson limits of an observed count (0 has lower limit 0)."""
    o = np.asarray(observed, dtype=float)
    if np.any(o < 0):
        raise IndicatorError("a count cannot be negative")
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(o > 0, o * (1 - 1 / (9 * o) - z / (3 * np.sqrt(o))) ** 3, 0.0)
    upper = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * np.sqrt(o + 1))) ** 3
    return np.maximum(lower, 0.0), upper


def _check_denominators(denominators: np.ndarray, what: str) -> None:
    if np.any(~np.isfinite(denominators)) or np.any(denominators <= 0):
        raise IndicatorError(f"{what}: a denominator is zero or negative (no population or activity to divide by)")


def crude_rate(counts: np.ndarray, denominators: np.ndarray, per: float, confidence: float = 0.95,
               what: str = "crude rate") -> Estimate:
    o = np.asarray(counts, dtype=float)
    n = np.asarray(denominators, dtype=float)
    _check_denominators(n, what)
    low, high = byar_limits(o, confidence)
    return Estimate(o / n * per, low / n * per, high / n * per, np.sqrt(o) / n * per, o, n)


def proportion(counts: np.ndarray, denominators: np.ndarray, confidence: float = 0.95,
               what: str = "proportion") -> Estimate:
    o = np.asarray(counts, dtype=float)
    n = np.asarray(denominators, dtype=float)
    _check_denominators(n, what)
    if np.any(o < 0) or np.any(o > n * (1 + 1e-9)):
        raise IndicatorError(f"{what}: a numerator is negative or larger than its denominator")
    p = np.clip(o / n, 0.0, 1.0)
    z = z_value(confidence)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Estimate(p, np.maximum(centre - half, 0.0), np.minimum(centre + half, 1.0),
                    np.sqrt(p * (1 - p) / n), o, n)


def directly_standardised_rate(counts: np.ndarray, denominators: np.ndarray, weights: np.ndarray, per: float,
                               confidence: float = 0.95, what: str = "standardised rate") -> Estimate:
    """DSR per row of ``counts``/``denominators`` (shape (rows, bands)) with standard ``weights`` (bands,)."""
    o = np.atleast_2d(np.asarray(counts, dtype=float))
    n = np.atleast_2d(np.asarray(denominators, dtype=float))
    w = np.asarray(weights, dtype=float)
    if o.shape != n.shape or o.shape[-1] != w.shape[0]:
        raise IndicatorError(f"{what}: counts, denominators and standard weights have different age bands")
    if w.size == 0 or np.any(w < 0) or w.sum() <= 0:
        raise IndicatorError(f"{what}: the standard population has no positive weight in these age bands")
    _check_denominators(n, what)
    if np.any(o < 0):
        raise IndicatorError(f"{what}: a count is negative")
    share = w / w.sum()
    value = (o / n * share).sum(axis=1) * per
    variance = (share ** 2 * o / n ** 2).sum(axis=1) * per ** 2
    total = o.sum(axis=1)
    low_o, high_o = byar_limits(total, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(total > 0, np.sqrt(variance / total), 0.0)
    lower = np.maximum(value + scale * (low_o - total), 0.0)
    upper = value + scale * (high_o - total)
    return Estimate(value, lower, upper, np.sqrt(variance), total, n.sum(axis=1))
