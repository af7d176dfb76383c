"""Indicator values by unit (the deal, its districts or neighbourhoods) and by deprivation decile
within each unit; SII, RII and the quintile gap; and how each scheme changes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from devolve.domain.records import Scheme
from devolve.engines.indicators.definitions import Catalogue, Indicator, IndicatorError
from devolve.engines.indicators.inequality import (QuintileGap, SlopeIndex, assign_deciles, midpoint_ranks,
                                                   slope_index)
from devolve.engines.indicators.model import (Components, Grouping, Inputs, Model, Scenario, components,
                                              linear_measure, scenario)
from devolve.engines.indicators.standardise import (Estimate, crude_rate, directly_standardised_rate,
                                                    proportion)


@dataclass(frozen=True)
class UnitSet:
    """Units that partition the deal's areas: their ids, names and each area's unit."""

    level: str                    # deal | district | neighbourhood
    ids: tuple[str, ...]
    names: tuple[str, ...]
    index: np.ndarray             # (area,) → unit

    def grouping(self) -> Grouping:
        return Grouping(self.index, len(self.ids))


@dataclass(frozen=True)
class Prepared:
    """An indicator's numerator and denominator sums for a grouping, and its standard weights."""

    indicator: Indicator
    numerator: Components
    denominator: Components
    weights: np.ndarray | None    # standard weights of the used bands (direct standardisation)

    @property
    def inputs(self) -> Inputs:
        return self.numerator.inputs | self.denominator.inputs

    def estimate(self, case: Scenario, confidence: float, *, strict: bool, label=None) -> tuple[Estimate, np.ndarray]:
        """Estimates for every unit; ``strict``: a zero denominator is an error (else that unit is NaN)."""
        num, den = self.numerator.total(case), self.denominator.total(case)
        return estimate(self.indicator, num, den, self.weights, confidence, strict=strict, label=label)


def estimate(indicator: Indicator, num: np.ndarray, den: np.ndarray, weights: np.ndarray | None,
             confidence: float, *, strict: bool, label=None) -> tuple[Estimate, np.ndarray]:
    """Values of ``indicator`` from numerator and denominator sums by (row, band)."""
    direct = indicator.standardisation == "direct"
    valid = (den > 0).all(axis=1) if direct else den.sum(axis=1) > 0
    if strict and not valid.all():
        row = int(np.flatnonzero(~valid)[0])
        where = label(row) if label else f"row {row}"
        raise IndicatorError(f"indicator '{indicator.id}' for {where}: its denominator "
                             f"({'an age band of ' if direct else ''}{indicator.denominator.describe()}) is zero")
    n_rows = num.shape[0]
    out = {k: np.full(n_rows, np.nan) for k in ("value", "lower", "upper", "se")}
    counts = num.sum(axis=1)
    denominators = den.sum(axis=1)
    if valid.any():
        what = f"indicator '{indicator.id}'"
        if direct:
            e = directly_standardised_rate(num[valid], den[valid], weights, indicator.per, confidence, what)
        elif indicator.is_proportion:
            e = proportion(counts[valid], denominators[valid], confidence, what)
        else:
            e = crude_rate(counts[valid], denominators[valid], indicator.per, confidence, what)
        for key in out:
            out[key][valid] = getattr(e, key)
    return Estimate(out["value"], out["lower"], out["upper"], out["se"], counts, denominators), valid


def prepare(model: Model, catalogue: Catalogue, indicator: Indicator, grouping: Grouping,
            pairs: Sequence[tuple[int, int]], delayed_share: float | None) -> Prepared:
    num_measure = linear_measure(model, indicator.numerator, delayed_share)
    den_measure = linear_measure(model, indicator.denominator, delayed_share)
    weights = None
    if indicator.standardisation == "direct":
        if not np.array_equal(num_measure.bands, den_measure.bands):
            raise IndicatorError(f"indicator '{indicator.id}': a standardised rate needs its numerator and "
                                 "denominator over the same ages")
        standard = catalogue.standards.get(indicator.standard or "")
        if standard is None:
            raise IndicatorError(f"indicator '{indicator.id}': standard population '{indicator.standard}' is missing")
        band_weights = standard.band_weights(model.bands)
        weights = np.array([band_weights[b] for b, used in zip(model.bands, num_measure.bands) if used])
        if weights.sum() <= 0:
            raise IndicatorError(f"indicator '{indicator.id}': the standard population '{standard.id}' has no "
                                 "weight in its age bands")
    return Prepared(indicator, components(model, num_measure, grouping, pairs),
                    components(model, den_measure, grouping, pairs), weights)


def scheme_pairs(model: Model, schemes: Sequence[Scheme]) -> list[tuple[int, int]]:
    return sorted({(model.line_index(e.service_line), model.line_index(e.substitute))
                   for s in schemes for e in s.effects if e.substitute is not None})


def decile_units(model: Model, units: UnitSet, basis: str) -> tuple[UnitSet, np.ndarray]:
    """Areas grouped by (unit, deprivation decile): local deciles re-cut within each unit, or the
    areas' national IMD deciles. Returns the grouping (unit × 10 + decile − 1) and each area's decile."""
    if basis == "local":
        decile = assign_deciles(units.index, model.rank, model.population.sum(axis=1))
    elif basis == "national":
        decile = np.minimum(10, np.floor(model.rank * 10).astype(int) + 1)
    else:
        raise IndicatorError(f"deciles must be 'local' or 'national', not '{basis}'")
    ids = tuple(f"{u}:{d}" for u in units.ids for d in range(1, 11))
    return UnitSet(units.level, ids, ids, units.index * 10 + decile - 1), decile


@dataclass(frozen=True)
class InequalityRow:
    unit: str
    slope: SlopeIndex | None
    quintiles: QuintileGap | None
    reason: str                      # why no SII, when there is none


def inequalities(prepared: Prepared, units: UnitSet, case: Scenario, confidence: float,
                 min_groups: int) -> tuple[list[InequalityRow], pl.DataFrame]:
    """SII / RII per unit across its deprivation deciles, the quintile gap, and the decile table."""
    num = prepared.numerator.total(case).reshape(len(units.ids), 10, -1)
    den = prepared.denominator.total(case).reshape(len(units.ids), 10, -1)
    rows, table = [], []
    for u, unit in enumerate(units.ids):
        e, valid = estimate(prepared.indicator, num[u], den[u], prepared.weights, confidence, strict=False)
        present = np.flatnonzero(valid)
        ranks = midpoint_ranks(e.denominator[present]) if present.size else np.array([])
        for d, x in zip(present, ranks):
            table.append({"unit": unit, "decile": int(d) + 1, "value": float(e.value[d]), "lower": float(e.lower[d]),
                          "upper": float(e.upper[d]), "se": float(e.se[d]), "denominator": float(e.denominator[d]),
                          "rank_midpoint": float(x)})
        if present.size < min_groups:
            rows.append(InequalityRow(unit, None, None, f"only {present.size} deprivation deciles with a "
                                                       f"denominator (at least {min_groups} needed)"))
            continue
        slope = slope_index(e.value[present], e.se[present], e.denominator[present], confidence=confidence)
        gap = None
        if valid[[0, 1]].any() and valid[[8, 9]].any():
            ends, _ = estimate(prepared.indicator, np.stack([num[u][:2].sum(axis=0), num[u][8:].sum(axis=0)]),
                               np.stack([den[u][:2].sum(axis=0), den[u][8:].sum(axis=0)]), prepared.weights,
                               confidence, strict=False)
            if np.isfinite(ends.value).all():
                gap = QuintileGap(float(ends.value[0]), float(ends.value[1]))
        rows.append(InequalityRow(unit, slope, gap, ""))
    schema = {"unit": pl.Utf8, "decile": pl.Int64, "value": pl.Float64, "lower": pl.Float64, "upper": pl.Float64,
              "se": pl.Float64, "denominator": pl.Float64, "rank_midpoint": pl.Float64}
    return rows, pl.DataFrame(table, schema=schema)


@dataclass(frozen=True)
class SchemeRow:
    scheme: str
    name: str
    indicator: str
    value_before: float
    value_after: float
    sii_before: float | None
    sii_after: float | None
    rii_before: float | None
    rii_after: float | None

    def to_json(self) -> dict:
        return dict(self.__dict__)


def scheme_effects(model: Model, prepared_deal: Prepared, prepared_deciles: Prepared, deal_units: UnitSet,
                   schemes: Sequence[Scheme], confidence: float, min_groups: int) -> list[SchemeRow]:
    """Each scheme's central effect at full size (and all schemes together) on the deal-wide value,
    SII and RII of one indicator."""
    base = Scenario.baseline(model)
    before, _ = prepared_deal.estimate(base, confidence, strict=True)
    ineq_before = inequalities(prepared_deciles, deal_units, base, confidence, min_groups)[0][0].slope
    cases = [(s.id, s.name, scenario(model, [s])) for s in schemes if s.effects]
    if len(cases) > 1:
        cases.append(("all", "All schemes together", scenario(model, list(schemes))))
    out = []
    for scheme_id, name, case in cases:
        after, _ = prepared_deal.estimate(case, confidence, strict=True)
        ineq_after = inequalities(prepared_deciles, deal_units, case, confidence, min_groups)[0][0].slope
        out.append(SchemeRow(scheme_id, name, prepared_deal.indicator.id, float(before.value[0]), float(after.value[0]),
                             ineq_before.sii if ineq_before else None, ineq_after.sii if ineq_after else None,
                             ineq_before.rii if ineq_before else None, ineq_after.rii if ineq_after else None))
    return out
