"""Statistical process control in the NHS "Making Data Count" style: the XmR chart.

    mean       = x̄ of the points (or of the first ``baseline_points``)
    MR̄         = mean of the moving ranges |xᵢ − xᵢ₋₁|
    limits     = x̄ ± 2.66 × MR̄            (three sigma, as 2.66 = 3 / 1.128)
    2σ lines   = x̄ ± (2/3) × 2.66 × MR̄

Special-cause rules, in Making Data Count's order of precedence (a point takes the first that fits):
  1. a point beyond a control limit;
  2. part of a trend of ``trend`` (7) points each higher, or each lower, than the one before;
  3. part of two out of three consecutive points beyond the same 2σ line but inside the limits
     (all three on that side of the mean);
  4. part of a run of ``run`` (7) consecutive points on one side of the mean.
A point on the high side is an improvement when higher is better and a concern when lower is
better (and the reverse on the low side). The chart's variation icon follows its latest point.

Assurance against a target: if the target lies outside the limits the process will consistently
pass (or fail) it; inside the limits it is hit and miss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from devolve.engines.indicators.definitions import DIRECTIONS, IndicatorError

LIMIT = 2.66
#: Text for each variation and assurance outcome, so a chart never relies on colour alone.
VARIATION_TEXT = {
    "common_cause": "Common cause variation: no significant change",
    "improvement_high": "Special cause variation: improvement (higher)",
    "improvement_low": "Special cause variation: improvement (lower)",
    "concern_high": "Special cause variation: concern (higher)",
    "concern_low": "Special cause variation: concern (lower)",
}
ASSURANCE_TEXT = {
    "consistently_pass": "The process will consistently pass the target",
    "consistently_fail": "The process will consistently fail the target",
    "hit_and_miss": "Hit and miss: the target lies within the process limits",
    "no_target": "No target to assure against",
}
RULE_TEXT = {
    "beyond_upper_limit": "a point above the upper control limit",
    "beyond_lower_limit": "a point below the lower control limit",
    "trend_up": "a trend of points each higher than the last",
    "trend_down": "a trend of points each lower than the last",
    "two_of_three_high": "two of three points beyond the upper 2σ line",
    "two_of_three_low": "two of three points beyond the lower 2σ line",
    "run_above": "a run of points above the mean",
    "run_below": "a run of points below the mean",
    "common_cause": "common cause",
}


@dataclass(frozen=True)
class SpcChart:
    values: tuple[float, ...]
    mean: float
    mean_moving_range: float
    upper_limit: float
    lower_limit: float
    upper_two_sigma: float
    lower_two_sigma: float
    rules: tuple[str, ...]          # per point: a key of RULE_TEXT
    variation_of_points: tuple[str, ...]   # per point: a key of VARIATION_TEXT
    variation: str                  # of the latest point
    assurance: str                  # a key of ASSURANCE_TEXT
    target: float | None
    direction: str

    def to_json(self) -> dict:
        return {
            "mean": self.mean, "mean_moving_range": self.mean_moving_range,
            "upper_limit": self.upper_limit, "lower_limit": self.lower_limit,
            "upper_two_sigma": self.upper_two_sigma, "lower_two_sigma": self.lower_two_sigma,
            "variation": self.variation, "variation_text": VARIATION_TEXT[self.variation],
            "assurance": self.assurance, "assurance_text": ASSURANCE_TEXT[self.assurance],
            "target": self.target, "direction": self.direction,
            "points": [{"value": v, "rule": r, "variation": p}
                       for v, r, p in zip(self.values, self.rules, self.variation_of_points)],
        }


def _windows_all(flags: np.ndarray, length: int) -> np.ndarray:
    """Mark every point that belongs to a window of ``length`` consecutive True flags."""
    n = flags.size
    out = np.zeros(n, dtype=bool)
    if n < length:
        return out
    counts = np.convolve(flags.astype(int), np.ones(length, dtype=int), mode="valid")
    for start in np.flatnonzero(counts == length):
        out[start:start + length] = True
    return out


def _trend(values: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Points in a run of ``length`` points each strictly higher (or lower) than the one before."""
    steps = np.diff(values)
    up, down = np.zeros(values.size, dtype=bool), np.zeros(values.size, dtype=bool)
    for sign, out in ((1, up), (-1, down)):
        marked = _windows_all(np.sign(steps) == sign, length - 1)  # length points = length-1 steps
        for i in np.flatnonzero(marked):
            out[i] = out[i + 1] = True
    return up, down


def _two_of_three(beyond: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Points beyond a 2σ line that are among two of three such consecutive points on that side."""
    n = beyond.size
    out = np.zeros(n, dtype=bool)
    for start in range(max(0, n - 2)):
        window = slice(start, start + 3)
        if beyond[window].sum() >= 2 and side[window].all():
            out[window] |= beyond[window]
    return out


def xmr_chart(values: Sequence[float], *, direction: str, target: float | None = None,
              baseline_points: int | None = None, run: int = 7, trend: int = 7) -> SpcChart:
    """An XmR chart of ``values`` (in time order) with Making Data Count's rules and icons."""
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or x.size < 2:
        raise IndicatorError("an SPC chart needs at least two points")
    if np.any(~np.isfinite(x)):
        raise IndicatorError("an SPC chart's points must all be numbers (one is missing)")
    if direction not in DIRECTIONS:
        raise IndicatorError(f"direction must be one of {', '.join(DIRECTIONS)}, not '{direction}'")
    if baseline_points is not None and not 2 <= baseline_points <= x.size:
        raise IndicatorError(f"baseline_points must be between 2 and the number of points ({x.size})")
    if run < 2 or trend < 3:
        raise IndicatorError("a run needs at least 2 points and a trend at least 3")
    base = x[:baseline_points] if baseline_points else x
    mean = float(base.mean())
    mr_bar = float(np.abs(np.diff(base)).mean())
    upper, lower = mean + LIMIT * mr_bar, mean - LIMIT * mr_bar
    upper2, lower2 = mean + 2 / 3 * LIMIT * mr_bar, mean - 2 / 3 * LIMIT * mr_bar
    above, below = x > upper, x < lower
    trend_up, trend_down = _trend(x, trend)
    high_side, low_side = x > mean, x < mean
    two_high = _two_of_three((x > upper2) & ~above, high_side)  # beyond 2σ but inside the limits
    two_low = _two_of_three((x < lower2) & ~below, low_side)
    run_above, run_below = _windows_all(high_side, run), _windows_all(low_side, run)
    rules: list[str] = []
    for i in range(x.size):
        for name, flags in (("beyond_upper_limit", above), ("beyond_lower_limit", below),
                            ("trend_up", trend_up), ("trend_down", trend_down),
                            ("two_of_three_high", two_high), ("two_of_three_low", two_low),
                            ("run_above", run_above), ("run_below", run_below)):
            if flags[i]:
                rules.append(name)
                break
        else:
            rules.append("common_cause")
    higher_is_better = direction == "higher_is_better"
    variation_of_points = []
    for rule in rules:
        if rule == "common_cause":
            variation_of_points.append("common_cause")
            continue
        high = rule in ("beyond_upper_limit", "trend_up", "two_of_three_high", "run_above")
        good = high == higher_is_better
        variation_of_points.append(f"{'improvement' if good else 'concern'}_{'high' if high else 'low'}")
    if target is None:
        assurance = "no_target"
    elif (higher_is_better and target <= lower) or (not higher_is_better and target >= upper):
        assurance = "consistently_pass"
    elif (higher_is_better and target > upper) or (not higher_is_better and target < lower):
        assurance = "consistently_fail"
    else:
        assurance = "hit_and_miss"
    return SpcChart(tuple(float(v) for v in x), mean, mr_bar, upper, lower, upper2, lower2, tuple(rules),
                    tuple(variation_of_points), variation_of_points[-1], assurance, target, direction)
