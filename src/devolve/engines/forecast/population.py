"""Population by small area × age band × sex, projected year by year (cohort change ratios).

A one-year step moves each age band forward with three rates per band and sex, all dated
parameters (``population.*``, national defaults derived from ONS mid-year estimates):

- ``cohort_change.<s>_<band>``: people aged *a* (in the band) one year later, aged *a+1*, per
  person aged *a* — survival and net migration together (the Hamilton–Perry cohort change ratio);
- ``band_exit.<s>_<band>``: the share of the band at its top single year of age, who leave it for
  the next band after the step;
- ``births.<s>``: children of sex *s* aged 0 one year later per woman aged 16–44.

For band *b* and sex *s*, with *c* the cohort change, *e* the exit share and *f* the births ratio:

    P'[b, s] = c[b, s]·(1 − e[b, s])·P[b, s] + c[b−1, s]·e[b−1, s]·P[b−1, s]   (+ f[s]·W for b = 0)

where W is the number of women aged 16–44. Each district's rates are the national parameters
times the district's own ratio to England in the same estimates, when those are given (a plain
table, :func:`cohort_rates_from_estimates`); otherwise the national rates apply everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import polars as pl

from devolve.domain.errors import InputError

SEXES = ("F", "M")
ENGLAND = "england"
FERTILE_AGES = (16, 44)
OPEN_BAND_TOP = 90  # the estimates' top age (90 = 90 and over) closes an open band


@dataclass(frozen=True)
class AgeBand:
    label: str
    low: int
    high: int | None  # inclusive; None for an open band

    @property
    def key(self) -> str:
        """The band as it is written in a parameter path: ``16-44`` → ``16_44``, ``85+`` → ``85_plus``."""
        return self.label.replace("+", "_plus").replace("-", "_")

    def share_of_ages(self, first: int, last: int | None = None) -> float:
        """The share of the band's single years of age inside ``first``..``last`` (uniform within)."""
        top = self.high if self.high is not None else OPEN_BAND_TOP
        upper = top if last is None else min(last, top)
        inside = max(0, upper - max(first, self.low) + 1)
        return inside / (top - self.low + 1)


def parse_bands(labels: tuple[str, ...]) -> tuple[AgeBand, ...]:
    """``("0-4", …, "85+")`` → age bands, checked to be contiguous from age 0."""
    bands = []
    for label in labels:
        closed = re.fullmatch(r"(\d+)-(\d+)", label)
        open_ = re.fullmatch(r"(\d+)\+", label)
        if closed:
            bands.append(AgeBand(label, int(closed.group(1)), int(closed.group(2))))
        elif open_:
            bands.append(AgeBand(label, int(open_.group(1)), None))
        else:
            raise InputError(f"age band '{label}' is neither 'low-high' nor 'low+'")
    expected = 0
    for band in bands:
        if band.low != expected:
            raise InputError(f"age bands must follow on from age 0 without gaps: '{band.label}' starts at "
                             f"{band.low}, expected {expected}")
        expected = (band.high or 0) + 1
    return tuple(bands)


@dataclass(frozen=True)
class CohortRates:
    """One year's rates, by group g = band × 2 + sex (F, M)."""

    cohort_change: np.ndarray   # [G]
    band_exit: np.ndarray       # [G]
    births: np.ndarray          # [2] children aged 0 of each sex per woman aged 16-44


def transition_matrices(change: np.ndarray, band_exit: np.ndarray, births: np.ndarray,
                        bands: tuple[AgeBand, ...]) -> np.ndarray:
    """One year's step for each of D places: [D, G, G] matrices M with ``next = M @ now``.

    ``change`` is [D, G] (cohort change ratios), ``band_exit`` [G], ``births`` [D, 2].
    """
    places, groups = change.shape
    nb = len(bands)
    matrix = np.zeros((places, groups, groups))
    g = np.arange(groups)
    band_of = g // 2
    closed = band_of < nb - 1
    stay = np.where(closed, change * (1.0 - band_exit), change)          # [D, G]
    matrix[:, g, g] = stay
    leave = (change * band_exit)[:, closed]                              # [D, G_closed]
    matrix[:, g[closed] + 2, g[closed]] = leave
    fertile = np.array([band.share_of_ages(*FERTILE_AGES) for band in bands])   # [B]
    women = np.arange(nb) * 2                                             # female groups
    for s in range(len(SEXES)):
        matrix[:, s, women] += births[:, s:s + 1] * fertile[None, :]
    return matrix


def transition_matrix(rates: CohortRates, bands: tuple[AgeBand, ...]) -> np.ndarray:
    """The [G, G] matrix of one year's step for one place."""
    return transition_matrices(rates.cohort_change[None, :], rates.band_exit, rates.births[None, :], bands)[0]


def cohort_rates_from_estimates(estimates: pl.DataFrame, bands: tuple[AgeBand, ...],
                                first_year: int) -> pl.DataFrame:
    """Cohort change ratios, band exit shares and births ratios from single-year estimates.

    ``estimates`` has ``mid_year``, ``district``, ``sex`` (F/M), ``age`` (0..90, 90 = 90+) and
    ``population`` for ``first_year`` and the year after. Returns one row per area (each district
    and ``england``, their sum) × band × sex with ``cohort_change``, ``band_exit`` and
    ``births_per_woman`` (children of that sex aged 0 in the later year per woman aged 16–44).
    """
    needed = {"mid_year", "district", "sex", "age", "population"}
    if not needed <= set(estimates.columns):
        raise InputError(f"population estimates need columns {sorted(needed)}")
    years = (first_year, first_year + 1)
    frame = estimates.filter(pl.col("mid_year").is_in(years)).select(list(needed))
    england = frame.group_by("mid_year", "sex", "age").agg(pl.col("population").sum()).with_columns(
        pl.lit(ENGLAND).alias("district"))
    frame = pl.concat([frame.select(england.columns), england])
    before = frame.filter(pl.col("mid_year") == years[0]).select("district", "sex", "age",
                                                               pl.col("population").alias("now"))
    after = frame.filter(pl.col("mid_year") == years[1]).select("district", "sex", "age",
                                                              pl.col("population").alias("later"))
    # the cohort aged a (a = 90: the 89 and 90+ of the later year fold in below) is aged a+1 a year on
    moved = after.with_columns((pl.col("age") - 1).clip(upper_bound=OPEN_BAND_TOP).alias("age"))
    moved = moved.group_by("district", "sex", "age").agg(pl.col("later").sum())
    joined = before.join(moved, on=["district", "sex", "age"], how="left").with_columns(
        pl.col("later").fill_null(0))
    top = OPEN_BAND_TOP
    rows = []
    for band in bands:
        high = band.high if band.high is not None else top
        in_band = joined.filter((pl.col("age") >= band.low) & (pl.col("age") <= high))
        agg = in_band.group_by("district", "sex").agg(
            pl.col("now").sum().alias("now"), pl.col("later").sum().alias("later"),
            pl.col("now").filter(pl.col("age") == high).sum().alias("at_top"))
        rows.append(agg.with_columns(pl.lit(band.label).alias("age_band")))
    table = pl.concat(rows).with_columns(
        (pl.col("later") / pl.col("now")).alias("cohort_change"),
        pl.when(pl.col("age_band") == bands[-1].label).then(0.0)
          .otherwise(pl.col("at_top") / pl.col("now")).alias("band_exit"))
    women = before.filter((pl.col("sex") == "F") & pl.col("age").is_between(*FERTILE_AGES)).group_by(
        "district").agg(pl.col("now").sum().alias("women"))
    babies = after.filter(pl.col("age") == 0).select("district", "sex", pl.col("later").alias("babies"))
    births = babies.join(women, on="district").select(
        "district", "sex", (pl.col("babies") / pl.col("women")).alias("births_per_woman"))
    return (table.join(births, on=["district", "sex"], how="left")
            .select("district", "age_band", "sex", "cohort_change", "band_exit", "births_per_woman")
            .sort("district", "age_band", "sex"))


def district_adjustments(rates: pl.DataFrame | None, districts: tuple[str, ...],
                         bands: tuple[AgeBand, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Each district's cohort change and births ratios relative to England's: [D, G] and [D, 2].

    Ones where no estimates are given or a district is missing from them.
    """
    groups = len(bands) * len(SEXES)
    change = np.ones((len(districts), groups))
    births = np.ones((len(districts), len(SEXES)))
    if rates is None or rates.height == 0:
        return change, births
    national = rates.filter(pl.col("district") == ENGLAND)
    base = {(r["age_band"], r["sex"]): r for r in national.iter_rows(named=True)}
    index = {code: i for i, code in enumerate(districts)}
    for row in rates.filter(pl.col("district").is_in(list(districts))).iter_rows(named=True):
        ref = base.get((row["age_band"], row["sex"]))
        band = next((b for b, band in enumerate(bands) if band.label == row["age_band"]), None)
        if ref is None or band is None:
            continue
        s = SEXES.index(row["sex"])
        d = index[row["district"]]
        if ref["cohort_change"] and row["cohort_change"] is not None:
            change[d, band * 2 + s] = row["cohort_change"] / ref["cohort_change"]
        if ref["births_per_woman"] and row["births_per_woman"] is not None:
            births[d, s] = row["births_per_woman"] / ref["births_per_woman"]
    return change, births


def project(base: np.ndarray, area_district: np.ndarray, yearly_rates: tuple[CohortRates, ...],
            bands: tuple[AgeBand, ...], change_adjust: np.ndarray, births_adjust: np.ndarray,
            lead_steps: int = 1) -> np.ndarray:
    """Population [T, A, G] for each year from the base ``[A, G]``.

    The first year is ``lead_steps`` steps after the base (its rates applied each time: a base of
    mid-2015 and a first year of 2016/17, centred on mid-2016, is one step); then one step a year,
    step *t* with ``yearly_rates[t]``. Each district has its adjustments; areas follow their district.
    """
    districts = change_adjust.shape[0]
    groups = base.shape[1]
    cumulative = np.broadcast_to(np.eye(groups), (districts, groups, groups)).copy()
    out = np.empty((len(yearly_rates), *base.shape))
    for t, rates in enumerate(yearly_rates):
        step = transition_matrices(rates.cohort_change[None, :] * change_adjust, rates.band_exit,
                                   rates.births[None, :] * births_adjust, bands)
        for _ in range(lead_steps if t == 0 else 1):
            cumulative = step @ cumulative
        out[t] = np.einsum("agh,ah->ag", cumulative[area_district], base, optimize=True)
    return out
