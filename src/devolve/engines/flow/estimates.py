"""Means with 95% confidence intervals over replications (Student's t), and paired differences.

>>> e = estimate([10.0, 12.0, 11.0, 13.0])
>>> e.mean, round(e.low, 3), round(e.high, 3)
(11.5, 9.446, 13.554)
>>> round(t_quantile(0.975, 10), 4)
2.2281
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

LEVEL = 0.95


def t_quantile(p: float, df: int) -> float:
    """The p-quantile (p > 0.5) of Student's t with ``df`` degrees of freedom.

    Exact for 1 and 2 degrees of freedom; otherwise Hill's (1970) algorithm 396, accurate to
    about 1e-6 in the range used here.
    """
    if not 0.5 < p < 1.0 or df < 1:
        raise ValueError("t_quantile needs 0.5 < p < 1 and df >= 1")
    tail = 2.0 * (1.0 - p)          # two-sided tail probability
    n = float(df)
    if df == 1:
        half = tail * math.pi / 2.0
        return math.cos(half) / math.sin(half)
    if df == 2:
        return math.sqrt(2.0 / (tail * (2.0 - tail)) - 2.0)
    a = 1.0 / (n - 0.5)
    b = 48.0 / (a * a)
    c = ((20700.0 * a / b - 98.0) * a - 16.0) * a + 96.36
    d = ((94.5 / (b + c) - 3.0) / b + 1.0) * math.sqrt(a * math.pi / 2.0) * n
    x = d * tail
    y = x ** (2.0 / n)
    if y > 0.05 + a:
        x = NormalDist().inv_cdf(tail * 0.5)
        y = x * x
        if n < 5:
            c += 0.3 * (n - 4.5) * (x + 0.6)
        c = (((0.05 * d * x - 5.0) * x - 7.0) * x - 2.0) * x + b + c
        y = (((((0.4 * y + 6.3) * y + 36.0) * y + 94.5) / c - y - 3.0) / b + 1.0) * x
        y = a * y * y
        y = math.expm1(y) if y > 0.002 else 0.5 * y * y + y
    else:
        y = ((1.0 / (((n + 6.0) / (n * y) - 0.089 * d - 0.822) * (n + 2.0) * 3.0) + 0.5 / (n + 4.0)) * y - 1.0) \
            * (n + 1.0) / (n + 2.0) + 1.0 / y
    return math.sqrt(n * y)


@dataclass(frozen=True)
class Estimate:
    """A mean over replications with its 95% confidence interval (None with one replication)."""

    mean: float
    low: float | None
    high: float | None
    n: int

    @property
    def ci(self) -> tuple[float, float] | None:
        return None if self.low is None or self.high is None else (self.low, self.high)

    @property
    def half_width(self) -> float | None:
        return None if self.high is None else self.high - self.mean

    def contains(self, value: float) -> bool:
        return self.low is not None and self.high is not None and self.low <= value <= self.high


def estimate(values: Sequence[float] | np.ndarray) -> Estimate:
    """Mean and t-interval of the finite values (NaN, e.g. a mean wait with nobody waiting, dropped)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return Estimate(math.nan, None, None, 0)
    mean = float(x.mean())
    if x.size < 2:
        return Estimate(mean, None, None, int(x.size))
    half = t_quantile(0.5 + LEVEL / 2.0, int(x.size) - 1) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return Estimate(mean, mean - half, mean + half, int(x.size))


def paired_difference(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> Estimate:
    """Mean and interval of a − b, replication by replication (common random numbers)."""
    return estimate(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))


def welch_difference(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> Estimate:
    """Mean and interval of mean(a) − mean(b) for independent samples (Welch–Satterthwaite)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    diff = float(x.mean() - y.mean())
    if vx + vy == 0:
        return Estimate(diff, diff, diff, int(x.size + y.size))
    df = (vx + vy) ** 2 / (vx ** 2 / (x.size - 1) + vy ** 2 / (y.size - 1))
    half = t_quantile(0.5 + LEVEL / 2.0, max(1, int(df))) * math.sqrt(vx + vy)
    return Estimate(diff, diff - half, diff + half, int(x.size + y.size))
