"""The discharge model as data: who arrives, how long they stay, where they go, what is there.

A :class:`DischargeModel` is a frozen, validated description of one hospital system (a district,
or a whole deal): emergency admissions a year with their day-of-week and monthly profile, age
groups with their acute length of stay and the shares leaving on each discharge pathway, and the
capacity, duration and cost of each pathway's places. It holds plain numbers only — building one
from a deal is :func:`devolve.engines.flow.inputs.model_from_deal` — and a scenario is a copy
with other numbers (:meth:`DischargeModel.with_capacity`).

The four NHS discharge pathways:

=====  ======================  ==========================================================
 0     ``home``                home with no new support: leaves as soon as ready
 1     ``home_support``        home with care or reablement: needs a package (a place)
 2     ``bedded_reablement``   short-term bedded reablement or rehabilitation: needs a bed
 3     ``care_home``           residential or nursing care home: needs a care home place
=====  ======================  ==========================================================

>>> model = example_model()
>>> model.pathway("care_home").number, model.capacities()["acute_beds"]
(3, 90)
>>> model.with_capacity(care_home=-1)
Traceback (most recent call last):
...
devolve.domain.errors.InputError: capacity of 'care_home' must be a whole number of places, 0 or more; found -1
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np

from devolve.domain.errors import InputError

#: Pathway names by NHS discharge pathway number (0–3).
PATHWAYS = ("home", "home_support", "bedded_reablement", "care_home")
PATHWAY_LABELS = {
    "home": "Home, no new support (pathway 0)",
    "home_support": "Home with care or reablement (pathway 1)",
    "bedded_reablement": "Short-term bedded reablement (pathway 2)",
    "care_home": "Residential or nursing care home (pathway 3)",
}
#: What happens to an emergency arrival when every bed in the bed base is occupied.
FULL_BED_BASE = {
    "escalate": "admitted to an escalation bed above the bed base",
    "divert": "diverted to another hospital (not admitted here)",
    "wait": "waits in the emergency department until a bed frees up",
}
CAPACITY_KEYS = ("acute_beds", *PATHWAYS[1:])
SHARE_TOLERANCE = 1e-6
MAX_DAYS = 3650


def _positive(value: float, what: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise InputError(f"{what} must be a number above 0; found {value!r}")
    return float(value)


def _whole(value: object, what: str, *, minimum: int = 0, unit: str = "places") -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        lowest = "0 or more" if minimum == 0 else f"{minimum} or more"
        raise InputError(f"{what} must be a whole number of {unit}, {lowest}; found {value!r}")
    return int(value)


def _shares(values: tuple[float, ...], what: str) -> tuple[float, ...]:
    for v in values:
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
            raise InputError(f"{what} must be shares of 0 or more; found {v!r}")
    total = math.fsum(values)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise InputError(f"{what} must add up to 1; they add up to {total:.6g}")
    return tuple(float(v) for v in values)


@dataclass(frozen=True)
class AgeGroup:
    """Patients of one age group: their share of admissions, acute stay and pathway shares."""

    name: str
    admission_share: float
    los_mean_days: float
    los_cv: float
    pathway_shares: tuple[float, float, float, float]   # pathways 0, 1, 2, 3

    def __post_init__(self) -> None:
        if not (0.0 <= self.admission_share <= 1.0):
            raise InputError(f"admission share of age group '{self.name}' must be between 0 and 1; "
                             f"found {self.admission_share!r}")
        _positive(self.los_mean_days, f"mean acute length of stay of age group '{self.name}'")
        _positive(self.los_cv, f"coefficient of variation of acute length of stay of age group '{self.name}'")
        if len(self.pathway_shares) != 4:
            raise InputError(f"age group '{self.name}' needs a share for each of the 4 pathways; "
                             f"found {len(self.pathway_shares)}")
        object.__setattr__(self, "pathway_shares",
                           _shares(tuple(self.pathway_shares), f"pathway shares of age group '{self.name}'"))

    @property
    def los_lognormal(self) -> tuple[float, float]:
        """(mu, sigma) of the lognormal with this mean and coefficient of variation."""
        sigma2 = math.log1p(self.los_cv ** 2)
        return math.log(self.los_mean_days) - sigma2 / 2.0, math.sqrt(sigma2)


@dataclass(frozen=True)
class Pathway:
    """A discharge pathway with places: how many, how long each stay in it, what a place costs."""

    name: str
    capacity: int
    duration_mean_days: float
    duration_cv: float
    cost_per_place_day: float   # pounds per place per day, paid whether the place is used or not

    def __post_init__(self) -> None:
        if self.name not in PATHWAYS[1:]:
            raise InputError(f"'{self.name}' is not a pathway with places ({', '.join(PATHWAYS[1:])})")
        object.__setattr__(self, "capacity", _whole(self.capacity, f"capacity of '{self.name}'"))
        _positive(self.duration_mean_days, f"mean duration of '{self.name}'")
        _positive(self.duration_cv, f"coefficient of variation of the duration of '{self.name}'")
        if not math.isfinite(self.cost_per_place_day) or self.cost_per_place_day < 0:
            raise InputError(f"cost per place-day of '{self.name}' must be 0 or more; "
                             f"found {self.cost_per_place_day!r}")

    @property
    def number(self) -> int:
        return PATHWAYS.index(self.name)

    @property
    def gamma(self) -> tuple[float, float]:
        """(shape, scale) of the gamma with this mean and coefficient of variation (cv 1: exponential)."""
        shape = 1.0 / self.duration_cv ** 2
        return shape, self.duration_mean_days / shape


@dataclass(frozen=True)
class DischargeModel:
    """One hospital system's emergency admissions, acute stays and discharge pathways.

    Time runs from ``start - warm_up_days`` to ``start + days``; results are measured over the
    last ``days`` only. ``day_of_week`` (Monday first) and ``month`` (January first) are relative
    admission profiles, normalised here so a year holds ``admissions_per_year`` on average.
    """

    admissions_per_year: float
    age_groups: tuple[AgeGroup, ...]
    pathways: tuple[Pathway, ...]           # pathways 1, 2, 3 in order
    acute_beds: int
    full_bed_base: str
    bed_day_cost: float                     # pounds per occupied hospital bed day
    start: date
    days: int = 365
    warm_up_days: int = 60
    day_of_week: tuple[float, ...] = (1.0,) * 7
    month: tuple[float, ...] = (1.0,) * 12
    label: str = ""
    synthetic: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        _positive(self.admissions_per_year, "emergency admissions a year")
        if not self.age_groups:
            raise InputError("the model needs at least one age group")
        _shares(tuple(g.admission_share for g in self.age_groups), "admission shares of the age groups")
        if tuple(p.name for p in self.pathways) != PATHWAYS[1:]:
            raise InputError(f"the model needs pathways {', '.join(PATHWAYS[1:])} in that order")
        object.__setattr__(self, "acute_beds", _whole(self.acute_beds, "the acute bed base", minimum=1, unit="beds"))
        if self.full_bed_base not in FULL_BED_BASE:
            raise InputError(f"what happens on a full bed base must be one of {', '.join(FULL_BED_BASE)}; "
                             f"found {self.full_bed_base!r}")
        if not math.isfinite(self.bed_day_cost) or self.bed_day_cost < 0:
            raise InputError(f"cost of a bed day must be 0 or more; found {self.bed_day_cost!r}")
        object.__setattr__(self, "days", _whole(self.days, "days to simulate", minimum=1, unit="days"))
        if self.days > MAX_DAYS:
            raise InputError(f"days to simulate must be at most {MAX_DAYS}; found {self.days}")
        object.__setattr__(self, "warm_up_days", _whole(self.warm_up_days, "warm-up days", unit="days"))
        for profile, size, what in ((self.day_of_week, 7, "day-of-week profile"), (self.month, 12, "monthly profile")):
            if len(profile) != size:
                raise InputError(f"the {what} needs {size} values; found {len(profile)}")
            for v in profile:
                _positive(v, f"each value of the {what}")

    # --- scenarios -------------------------------------------------------------------------------

    def capacities(self) -> dict[str, int]:
        """The bed base and each pathway's places, by name."""
        return {"acute_beds": self.acute_beds, **{p.name: p.capacity for p in self.pathways}}

    def with_capacity(self, **capacity: int) -> DischargeModel:
        """A copy with other capacities (``acute_beds``, ``home_support``, ``bedded_reablement``,
        ``care_home``); any other name raises :class:`InputError`."""
        unknown = sorted(set(capacity) - set(CAPACITY_KEYS))
        if unknown:
            raise InputError(f"'{unknown[0]}' is not a capacity of the model ({', '.join(CAPACITY_KEYS)})")
        pathways = tuple(replace(p, capacity=_whole(capacity[p.name], f"capacity of '{p.name}'"))
                         if p.name in capacity else p for p in self.pathways)
        beds = capacity.get("acute_beds", self.acute_beds)
        return replace(self, pathways=pathways, acute_beds=_whole(beds, "the acute bed base", minimum=1, unit="beds"))

    def with_options(self, **changes: object) -> DischargeModel:
        """A copy with other fields (validated again)."""
        return replace(self, **changes)

    def pathway(self, name: str) -> Pathway:
        for p in self.pathways:
            if p.name == name:
                return p
        raise InputError(f"'{name}' is not a pathway with places ({', '.join(PATHWAYS[1:])})")

    # --- derived numbers -------------------------------------------------------------------------

    @property
    def first_day(self) -> date:
        """The first simulated day (the first day of the warm-up)."""
        return self.start - timedelta(days=self.warm_up_days)

    def daily_admissions(self) -> np.ndarray:
        """Expected emergency admissions on each simulated day, warm-up first.

        rate(day) = admissions_per_year / 365 × dow(weekday) / mean(dow) × month(m) / m̄, where m̄
        is the month profile averaged over the days of a 365-day year.
        """
        dow = np.asarray(self.day_of_week, dtype=float)
        dow = dow / dow.mean()
        month_days = np.array([calendar.monthrange(2015, m)[1] for m in range(1, 13)], dtype=float)
        month = np.asarray(self.month, dtype=float)
        month = month / (month @ month_days / month_days.sum())
        first = self.first_day
        total = self.warm_up_days + self.days
        weekdays = (first.weekday() + np.arange(total)) % 7
        months = np.array([(first + timedelta(days=int(d))).month - 1 for d in range(total)])
        return self.admissions_per_year / 365.0 * dow[weekdays] * month[months]

    def pathway_shares(self) -> np.ndarray:
        """The share of admissions leaving on each pathway 0–3, over all age groups."""
        return sum(np.asarray(g.pathway_shares) * g.admission_share for g in self.age_groups)

    def offered_load(self) -> dict[str, float]:
        """Places each pathway would keep busy on average if there were no waiting (λ × mean)."""
        per_day = self.admissions_per_year / 365.0 * self.pathway_shares()
        return {p.name: float(per_day[p.number] * p.duration_mean_days) for p in self.pathways}

    def primed(self) -> dict[str, int]:
        """Places busy at the start of the warm-up: the offered load, at most the capacity.

        Starting full rather than empty shortens the warm-up a pathway with long stays needs.
        """
        load = self.offered_load()
        return {p.name: min(p.capacity, int(math.floor(load[p.name] + 0.5))) for p in self.pathways}

    def community_cost_per_day(self) -> float:
        """Pounds a day for all pathway places (used or not)."""
        return sum(p.capacity * p.cost_per_place_day for p in self.pathways)


def example_model(**changes: object) -> DischargeModel:
    """A small synthetic model (about 13 admissions a day) for examples and tests."""
    groups = (
        AgeGroup("under_65", 0.55, 3.0, 1.2, (0.95, 0.045, 0.004, 0.001)),
        AgeGroup("65_plus", 0.45, 8.0, 1.0, (0.5, 0.45, 0.04, 0.01)),
    )
    pathways = (
        Pathway("home_support", 135, 42.0, 0.5, 40.0),
        Pathway("bedded_reablement", 12, 28.0, 0.6, 100.0),
        Pathway("care_home", 20, 120.0, 1.0, 90.0),
    )
    model = DischargeModel(admissions_per_year=4800.0, age_groups=groups, pathways=pathways, acute_beds=90,
                           full_bed_base="escalate", bed_day_cost=313.0, start=date(2016, 4, 1), days=120,
                           warm_up_days=30, label="synthetic example", synthetic=("every input",))
    return replace(model, **changes) if changes else model


def capacities_from_mapping(mapping: Mapping[str, object]) -> dict[str, int]:
    """Validate a capacity mapping read from a user (names and whole numbers of 0 or more)."""
    out: dict[str, int] = {}
    for key, value in mapping.items():
        if key not in CAPACITY_KEYS:
            raise InputError(f"'{key}' is not a capacity of the model ({', '.join(CAPACITY_KEYS)})")
        out[key] = _whole(value, "the acute bed base" if key == "acute_beds" else f"capacity of '{key}'",
                          minimum=1 if key == "acute_beds" else 0, unit="beds" if key == "acute_beds" else "places")
    return out
