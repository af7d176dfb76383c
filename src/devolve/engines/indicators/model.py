"""Modelled activity and outcome quantities, by small area and age band, for the indicators.

There are no outcome data in devolve, so indicators are computed from a model (all inputs named):

    activity[l, area, band] = Σ_sex population × rate_per_1000[l, band, sex] / 1,000 × m_l(area)

where m is the area's deprivation multiplier for line l: with r the area's relative rank in
England's IMD 2019 (0 = most deprived; its rank among the 32,844 LSOAs the IoD2019 ranks, or the
middle of its decile), and the parameter ``indicators.deprivation_ratio.<l>`` = R,

    m(r) = exp(ln R × (0.5 − r)) / ((2 / ln R) × sinh(ln R / 2))

so the most deprived end has R times the rate of the least deprived end and England's average
multiplier is 1.

Every numerator and denominator is linear in activity: Σ_l activity[l] × K[l, area] + C[area, band]
(a coefficient per line and area, plus a term independent of activity, such as residents). Schemes
scale activity by line and age band and move avoided activity to a substitute line, so a scenario is
a cheap recombination of per-unit sums (see :class:`Components`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from devolve.domain.errors import ParameterError
from devolve.domain.records import Deal, Scheme
from devolve.engines.indicators.definitions import AgeRange, IndicatorError, Measure, parse_band

#: Lower-layer super output areas ranked by the English Indices of Deprivation 2019 (MHCLG):
#: the denominator that turns an area's IMD rank into a relative rank.
IOD2019_AREAS = 32_844
WEEKS_PER_YEAR = 365.25 / 7
PREFIX = "indicators"


def relative_rank(small_areas: pl.DataFrame) -> np.ndarray:
    """Each area's relative deprivation rank in England, 0 (most deprived) to 1."""
    rank = small_areas["imd_rank"].cast(pl.Float64).to_numpy() if "imd_rank" in small_areas.columns else None
    decile = small_areas["imd_decile"].cast(pl.Float64).to_numpy()
    from_decile = (decile - 0.5) / 10
    if rank is None:
        out = from_decile
    else:
        out = np.where(np.isnan(rank), from_decile, (rank - 0.5) / IOD2019_AREAS)
    if np.any(np.isnan(out)):
        bad = small_areas["code"][int(np.flatnonzero(np.isnan(out))[0])]
        raise IndicatorError(f"small area {bad} has neither an IMD rank nor an IMD decile")
    return out


def need_multiplier(rank: np.ndarray, ratio: float) -> np.ndarray:
    """exp(ln R (0.5 − r)) normalised to an England average of 1 (r uniform on [0, 1])."""
    if ratio <= 0:
        raise IndicatorError(f"a deprivation ratio must be positive, not {ratio:g}")
    beta = np.log(ratio)
    if abs(beta) < 1e-12:
        return np.ones_like(rank, dtype=float)
    return np.exp(beta * (0.5 - rank)) / (2 / beta * np.sinh(beta / 2))


@dataclass(frozen=True)
class Inputs:
    """What a value was computed from: parameters (path → synthetic?) and service lines."""

    parameters: Mapping[str, bool] = field(default_factory=dict)
    lines: frozenset[str] = frozenset()

    def __or__(self, other: Inputs) -> Inputs:
        return Inputs({**self.parameters, **other.parameters}, self.lines | other.lines)


@dataclass(frozen=True)
class Model:
    """Baseline modelled activity of a deal, summed over sex: arrays indexed [line, area, band]."""

    areas: tuple[str, ...]
    bands: tuple[str, ...]
    band_ranges: tuple[AgeRange, ...]
    lines: tuple[str, ...]
    population: np.ndarray        # (area, band)
    activity: np.ndarray          # (line, area, band)
    rank: np.ndarray              # (area,) relative deprivation rank
    when: date
    deal: Deal
    synthetic_lines: frozenset[str]

    def parameter(self, path: str) -> tuple[float, Inputs]:
        full = f"{PREFIX}.{path}"
        try:
            value = self.deal.parameters.at(full, self.when)
        except ParameterError as exc:
            raise IndicatorError(f"indicators: {exc}") from None
        return float(value), Inputs({full: self.deal.parameters[full].synthetic})

    def group(self, path: str) -> dict[str, tuple[float, Inputs]]:
        """Parameters under ``indicators.<path>.`` keyed by their last part (e.g. a service line)."""
        stem = f"{PREFIX}.{path}"
        keys = [p[len(stem) + 1:] for p in self.deal.parameters.under(stem)]
        if not keys:
            raise IndicatorError(f"indicators: the deal has no parameters under '{stem}'")
        return {key: self.parameter(f"{path}.{key}") for key in keys}

    def multiplier(self, name: str) -> tuple[np.ndarray, Inputs]:
        path = f"deprivation_ratio.{name}"
        if f"{PREFIX}.{path}" not in self.deal.parameters:
            path = "deprivation_ratio.default"
        ratio, used = self.parameter(path)
        return need_multiplier(self.rank, ratio), used

    def line_index(self, line: str) -> int:
        try:
            return self.lines.index(line)
        except ValueError:
            raise IndicatorError(f"'{line}' is not a service line of the deal ({', '.join(self.lines)})") from None

    def band_mask(self, ages: AgeRange, what: str) -> np.ndarray:
        mask = np.zeros(len(self.bands), dtype=bool)
        for i, band in enumerate(self.band_ranges):
            if ages.covers(band):
                mask[i] = True
            elif ages.overlaps(band):
                raise IndicatorError(f"{what}: ages {ages.label()} do not fall on the edges of the age bands "
                                     f"({', '.join(self.bands)}); band {self.bands[i]} is split")
        if not mask.any():
            raise IndicatorError(f"{what}: ages {ages.label()} include no age band")
        return mask


def build_model(deal: Deal, when: date, activity: pl.DataFrame | None = None) -> Model:
    """The deal's modelled baseline (or ``activity`` given by area, age_band, sex, service_line)."""
    areas = tuple(deal.small_areas["code"].to_list())
    bands = tuple(deal.age_bands)
    lines = tuple(s.id for s in deal.service_lines)
    area_index = {code: i for i, code in enumerate(areas)}
    band_index = {b: i for i, b in enumerate(bands)}
    pop = deal.population
    a_idx = pop["area"].replace_strict(area_index, default=-1, return_dtype=pl.Int64).to_numpy()
    b_idx = pop["age_band"].replace_strict(band_index, default=-1, return_dtype=pl.Int64).to_numpy()
    if np.any(a_idx < 0) or np.any(b_idx < 0):
        raise IndicatorError("the deal's population table names an area or age band the deal does not have")
    population = np.zeros((len(areas), len(bands)))
    np.add.at(population, (a_idx, b_idx), pop["population"].to_numpy())
    rank = relative_rank(deal.small_areas)
    model = Model(areas, bands, tuple(parse_band(b) for b in bands), lines, population,
                  np.zeros((len(lines), len(areas), len(bands))), rank, when, deal,
                  frozenset(deal.activity_rates.filter(pl.col("synthetic"))["service_line"].unique().to_list()))
    if activity is None:
        grid = np.zeros((len(areas), len(bands), 2))
        s_idx = pop["sex"].replace_strict({"F": 0, "M": 1}, default=-1, return_dtype=pl.Int64).to_numpy()
        if np.any(s_idx < 0):
            raise IndicatorError("the deal's population table has a sex other than F and M")
        np.add.at(grid, (a_idx, b_idx, s_idx), pop["population"].to_numpy())
        rates = np.zeros((len(lines), len(bands), 2))
        r = deal.activity_rates
        where = (r["service_line"].replace_strict({l: i for i, l in enumerate(lines)}, return_dtype=pl.Int64).to_numpy(),
                 r["age_band"].replace_strict(band_index, return_dtype=pl.Int64).to_numpy(),
                 r["sex"].replace_strict({"F": 0, "M": 1}, return_dtype=pl.Int64).to_numpy())
        rates[where] = r["rate_per_1000"].to_numpy()
        base = np.einsum("nbs,lbs->lnb", grid, rates) / 1000
        for i, line in enumerate(lines):
            base[i] *= model.multiplier(line)[0][:, None]
        return _replace_activity(model, base)
    required = {"area", "age_band", "service_line", "activity"}
    if not required <= set(activity.columns):
        raise IndicatorError(f"an activity table needs columns {', '.join(sorted(required))}")
    given = np.zeros((len(lines), len(areas), len(bands)))
    l_idx = activity["service_line"].replace_strict({l: i for i, l in enumerate(lines)}, default=-1,
                                                    return_dtype=pl.Int64).to_numpy()
    ga = activity["area"].replace_strict(area_index, default=-1, return_dtype=pl.Int64).to_numpy()
    gb = activity["age_band"].replace_strict(band_index, default=-1, return_dtype=pl.Int64).to_numpy()
    if np.any(l_idx < 0) or np.any(ga < 0) or np.any(gb < 0):
        raise IndicatorError("the activity table names a service line, area or age band the deal does not have")
    values = activity["activity"].cast(pl.Float64).to_numpy()
    if np.any(~np.isfinite(values)) or np.any(values < 0):
        raise IndicatorError("the activity table has a missing or negative activity")
    np.add.at(given, (l_idx, ga, gb), values)
    return _replace_activity(model, given)


def _replace_activity(model: Model, activity: np.ndarray) -> Model:
    return Model(model.areas, model.bands, model.band_ranges, model.lines, model.population, activity,
                 model.rank, model.when, model.deal, model.synthetic_lines)


@dataclass(frozen=True)
class LinearMeasure:
    """A numerator or denominator as Σ_l activity[l] × K[l, area] + C[area, band], on masked bands."""

    coefficients: np.ndarray      # (line, area)
    constant: np.ndarray          # (area, band); NaN where undefined
    bands: np.ndarray             # (band,) bool
    inputs: Inputs
    what: str


def linear_measure(model: Model, measure: Measure, delayed_share: float | None = None) -> LinearMeasure:
    """The measure's coefficients. ``delayed_share``: a share of bed days delayed from the flow engine,
    used instead of the synthetic parameter."""
    n_lines, n_areas = len(model.lines), len(model.areas)
    k = np.zeros((n_lines, n_areas))
    const = np.zeros((n_areas, len(model.bands)))
    used = Inputs()
    name = measure.name
    if measure.kind == "activity":
        k[model.line_index(name)] = 1.0
        used = Inputs(lines=frozenset({name}))
    elif measure.kind == "population":
        const = model.population.copy()
    elif name in ("occupied_bed_days", "delayed_days"):
        for line, (days, p) in model.group("bed_days_per_unit").items():
            k[model.line_index(line)] = days
            used = used | p | Inputs(lines=frozenset({line}))
        if name == "delayed_days":
            if delayed_share is None:
                share, p = model.parameter("delayed_share_of_bed_days")
                used = used | p
            else:
                share = delayed_share
            m, p = model.multiplier("delayed_transfers")
            k *= share * m[None, :]
            used = used | p
    elif name in ("care_home_residents", "care_home_admissions", "home_care_clients", "long_term_care_clients"):
        if name in ("care_home_residents", "care_home_admissions", "long_term_care_clients"):
            for line, (stay, p) in model.group("care_home_mean_stay_years").items():
                if stay <= 0:
                    raise IndicatorError(f"indicators.care_home_mean_stay_years.{line} must be positive")
                per_week = 1 / WEEKS_PER_YEAR / (stay if name == "care_home_admissions" else 1.0)
                k[model.line_index(line)] += per_week
                used = used | p | Inputs(lines=frozenset({line}))
        if name in ("home_care_clients", "long_term_care_clients"):
            for line, (hours, p) in model.group("home_care_hours_per_client").items():
                if hours <= 0:
                    raise IndicatorError(f"indicators.home_care_hours_per_client.{line} must be positive")
                k[model.line_index(line)] += 1 / hours
                used = used | p | Inputs(lines=frozenset({line}))
    elif name == "reablement_at_home_91":
        m, p_ratio = model.multiplier("not_at_home_after_reablement")
        for line, (share, p) in model.group("at_home_after_reablement").items():
            k[model.line_index(line)] = np.clip(1 - (1 - share) * m, 0.0, 1.0)
            used = used | p | p_ratio | Inputs(lines=frozenset({line}))
    elif name == "preventable_deaths":
        rates = model.group("preventable_mortality_rate")
        m, p_ratio = model.multiplier("preventable_mortality")
        used = p_ratio
        column = np.full(len(model.bands), np.nan)
        for band, (rate, p) in rates.items():
            if band in model.bands:
                column[model.bands.index(band)] = rate / 1000
                used = used | p
        const = model.population * column[None, :] * m[:, None]
    else:
        raise IndicatorError(f"'{name}' is not a quantity devolve can model")
    mask = model.band_mask(measure.ages, measure.describe())
    undefined = np.isnan(const[:, mask]).any(axis=0)
    if undefined.any():
        band = np.asarray(model.bands)[mask][undefined][0]
        raise IndicatorError(f"{measure.describe()}: no value for age band {band} "
                             f"(parameters under indicators.preventable_mortality_rate)")
    return LinearMeasure(k, np.where(mask[None, :], np.nan_to_num(const), 0.0), mask, used, measure.describe())


# --- schemes -------------------------------------------------------------------------------------

def band_share_from(band: AgeRange, min_age: int) -> float:
    """Share of a band's ages at or above ``min_age`` (ages spread evenly; an open band over 15 years)."""
    high = band.high if band.high is not None else band.low + 14
    if min_age <= band.low:
        return 1.0
    if min_age > high:
        return 0.0
    return (high - min_age + 1) / (high - band.low + 1)


def years_after_start(deal: Deal, scheme: Scheme) -> float:
    """When a scheme's investment begins, in years after the deal's start (0 if it has none)."""
    years = [y for y, amount in scheme.investment.items() if amount > 0]
    if not years:
        return 0.0
    return (min(years).start - deal.start).days / 365.25


def effect_phase(elapsed_years: float, start: float, lag: int, ramp: int) -> float:
    """Share of an effect's full size reached ``elapsed_years`` after the deal's start."""
    since = elapsed_years - start - lag
    if since < 0:
        return 0.0
    if ramp <= 0:
        return 1.0
    return min(1.0, since / ramp)


@dataclass(frozen=True)
class Scenario:
    """Scheme effects as multipliers on activity by (line, band), and substitutions (source →
    substitute, per band: units of the substitute per unit of source activity)."""

    multipliers: np.ndarray                     # (line, band)
    substitutions: Mapping[tuple[int, int], np.ndarray]

    @staticmethod
    def baseline(model: Model) -> Scenario:
        return Scenario(np.ones((len(model.lines), len(model.bands))), {})


def scenario(model: Model, schemes: Sequence[Scheme], phase=None) -> Scenario:
    """Central effects ((low + high) / 2) of ``schemes``; ``phase(scheme, effect)`` gives the share
    of each effect reached (default: all at full effect). Effects on one line add; a line's activity
    never falls below zero; avoided activity (a fall) moves to the effect's substitute line."""
    mult = np.ones((len(model.lines), len(model.bands)))
    subs: dict[tuple[int, int], np.ndarray] = {}
    shares = {m: np.array([band_share_from(b, m) for b in model.band_ranges]) for m in
              {e.min_age for s in schemes for e in s.effects}}
    for scheme in schemes:
        for effect in scheme.effects:
            reached = 1.0 if phase is None else phase(scheme, effect)
            change = (effect.low + effect.high) / 2 * reached * shares[effect.min_age]
            li = model.line_index(effect.service_line)
            mult[li] += change
            if effect.substitute is not None and effect.substitute_ratio > 0:
                key = (li, model.line_index(effect.substitute))
                subs[key] = subs.get(key, 0.0) + np.maximum(-change, 0.0) * effect.substitute_ratio
    return Scenario(np.maximum(mult, 0.0), subs)


# --- per-unit sums -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Grouping:
    """Areas grouped into units (districts, neighbourhoods, deprivation deciles within them)."""

    index: np.ndarray         # (area,) unit index
    size: int

    def sum_over_areas(self, values: np.ndarray) -> np.ndarray:
        """Sum the area axis (second to last) of ``values`` into units."""
        moved = np.moveaxis(values, -2, 0)
        out = np.zeros((self.size, *moved.shape[1:]))
        if self.index.size:
            order = np.argsort(self.index, kind="stable")
            ordered = self.index[order]
            starts = np.r_[0, np.flatnonzero(ordered[1:] != ordered[:-1]) + 1]
            out[ordered[starts]] = np.add.reduceat(moved[order], starts, axis=0)
        return np.moveaxis(out, 0, -2)


@dataclass(frozen=True)
class Components:
    """A measure's per-unit, per-band sums, ready to recombine under any scenario."""

    by_line: np.ndarray                          # (line, unit, band)
    by_pair: Mapping[tuple[int, int], np.ndarray]  # substitution (source, substitute) → (unit, band)
    constant: np.ndarray                         # (unit, band)
    bands: np.ndarray
    inputs: Inputs
    what: str

    def total(self, case: Scenario) -> np.ndarray:
        out = (self.by_line * case.multipliers[:, None, :]).sum(axis=0) + self.constant
        for key, share in case.substitutions.items():
            if key in self.by_pair:
                out = out + self.by_pair[key] * share[None, :]
        return out[:, self.bands]


def components(model: Model, measure: LinearMeasure, grouping: Grouping,
               pairs: Sequence[tuple[int, int]] = ()) -> Components:
    weighted = model.activity * measure.coefficients[:, :, None]
    by_line = grouping.sum_over_areas(weighted)
    by_pair = {}
    for source, substitute in pairs:
        if measure.coefficients[substitute].any():
            by_pair[(source, substitute)] = grouping.sum_over_areas(
                model.activity[source] * measure.coefficients[substitute][:, None])
    return Components(by_line, by_pair, grouping.sum_over_areas(measure.constant), measure.bands,
                      measure.inputs, measure.what)
