"""The indicators engine's vocabulary: indicator definitions, standard populations, dated rules.

These are frozen records built by :mod:`devolve.packs.indicators` from a pack's YAML (or by a test
inline); the engine only reads them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType

from devolve.domain.errors import DevolveError


class IndicatorError(DevolveError):
    """An indicator cannot be computed from what it was given (a zero denominator, a missing
    standard population, an indicator with no source...). The message says which and why."""


#: Units an indicator's value may carry, with the factor that turns a value in that unit into the
#: unit's base (events per person per year, a share, pounds per head).
INDICATOR_UNITS: Mapping[str, tuple[str, float]] = MappingProxyType({
    "per_1000_per_year": ("rate", 1 / 1000),
    "per_100000_per_year": ("rate", 1 / 100000),
    "per_person_per_year": ("rate", 1.0),
    "fraction": ("share", 1.0),
    "GBP_per_head": ("money_per_head", 1.0),
})
DIRECTIONS = ("higher_is_better", "lower_is_better")
MEASURE_KINDS = ("activity", "population", "quantity")
#: Named modelled quantities a numerator or denominator may use (devolve.engines.indicators.model).
QUANTITIES = ("occupied_bed_days", "delayed_days", "care_home_admissions", "care_home_residents",
              "home_care_clients", "long_term_care_clients", "reablement_at_home_91", "preventable_deaths")


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """``value`` in ``from_unit`` expressed in ``to_unit`` (e.g. 5 per 1,000 = 500 per 100,000)."""
    if from_unit == to_unit:
        return value
    if from_unit not in INDICATOR_UNITS or to_unit not in INDICATOR_UNITS:
        raise IndicatorError(f"cannot compare a value in '{from_unit}' with one in '{to_unit}'")
    kind_from, factor_from = INDICATOR_UNITS[from_unit]
    kind_to, factor_to = INDICATOR_UNITS[to_unit]
    if kind_from != kind_to:
        raise IndicatorError(f"cannot compare a value in '{from_unit}' with one in '{to_unit}'")
    return value * factor_from / factor_to


@dataclass(frozen=True)
class AgeRange:
    """Ages ``low`` to ``high`` inclusive (``high`` None: no upper limit)."""

    low: int = 0
    high: int | None = None

    def covers(self, band: AgeRange) -> bool:
        upper_ok = self.high is None or (band.high is not None and band.high <= self.high)
        return band.low >= self.low and upper_ok

    def overlaps(self, band: AgeRange) -> bool:
        below = self.high is not None and band.low > self.high
        above = band.high is not None and band.high < self.low
        return not (below or above)

    def label(self) -> str:
        if self.high is None:
            return "all ages" if self.low == 0 else f"{self.low}+"
        return f"{self.low}-{self.high}"


_BAND = re.compile(r"^(\d+)-(\d+)$")
_OPEN = re.compile(r"^(\d+)\+$")


def parse_band(label: str) -> AgeRange:
    """An age band label ("0-4", "85+") as an :class:`AgeRange`."""
    if m := _BAND.match(label):
        return AgeRange(int(m.group(1)), int(m.group(2)))
    if m := _OPEN.match(label):
        return AgeRange(int(m.group(1)), None)
    raise IndicatorError(f"age band '{label}' is not of the form '0-4' or '85+'")


@dataclass(frozen=True)
class Measure:
    """A numerator or a denominator: modelled activity of a service line, residents, or a named
    quantity, for an age range."""

    kind: str              # activity | population | quantity
    name: str              # service line id, "population" or a quantity name
    ages: AgeRange = AgeRange()

    def describe(self) -> str:
        what = {"activity": f"activity of {self.name}", "population": "residents",
                "quantity": self.name.replace("_", " ")}[self.kind]
        return what if self.ages == AgeRange() else f"{what} aged {self.ages.label()}"


@dataclass(frozen=True)
class StandardPopulation:
    """A standard population as age groups and weights, e.g. the 2013 European Standard Population."""

    id: str
    name: str
    source: str
    groups: tuple[tuple[AgeRange, float], ...]

    def band_weights(self, bands: Sequence[str]) -> dict[str, float]:
        """Weights of the standard aggregated to ``bands`` (labels such as "0-4", "85+").

        A group that a band boundary cuts is split in proportion to the single years of age on each
        side (its weight spread evenly over its years); an open group ("95+") must fall wholly in
        one band, which must then be open too.
        """
        if not self.groups:
            raise IndicatorError(f"standard population '{self.id}' has no age groups")
        weights: dict[str, float] = {}
        parsed = {label: parse_band(label) for label in bands}
        for label, band in parsed.items():
            total = 0.0
            for group, weight in self.groups:
                if not band.overlaps(group):
                    continue
                if group.high is None:
                    if band.high is not None or band.low > group.low:
                        raise IndicatorError(
                            f"standard population '{self.id}': its open group {group.label()} cannot be "
                            f"split across age band {label}")
                    total += weight
                    continue
                if band.covers(group):
                    total += weight
                    continue
                low = max(band.low, group.low)
                high = group.high if band.high is None else min(band.high, group.high)
                total += weight * (high - low + 1) / (group.high - group.low + 1)
            weights[label] = total
        return weights


@dataclass(frozen=True)
class Indicator:
    """One indicator as data: what it counts, over whom, how it is standardised, which way is good."""

    id: str
    name: str
    definition: str
    numerator: Measure
    denominator: Measure
    per: float
    standardisation: str            # none | direct
    standard: str | None            # standard population id when direct
    direction: str                  # higher_is_better | lower_is_better
    unit: str
    source: str

    def __post_init__(self) -> None:
        if not self.source.strip():
            raise IndicatorError(f"indicator '{self.id}' has no source: every indicator must say where "
                                 "its definition comes from")
        if self.direction not in DIRECTIONS:
            raise IndicatorError(f"indicator '{self.id}': direction must be one of {', '.join(DIRECTIONS)}, "
                                 f"not '{self.direction}'")
        if self.unit not in INDICATOR_UNITS:
            raise IndicatorError(f"indicator '{self.id}': unit must be one of {', '.join(INDICATOR_UNITS)}, "
                                 f"not '{self.unit}'")
        if self.per <= 0:
            raise IndicatorError(f"indicator '{self.id}': per must be positive, not {self.per:g}")
        if self.standardisation == "direct" and not self.standard:
            raise IndicatorError(f"indicator '{self.id}' is directly standardised but names no standard population")
        if self.standardisation not in ("none", "direct"):
            raise IndicatorError(f"indicator '{self.id}': standardisation must be 'none' or 'direct'")

    @property
    def is_proportion(self) -> bool:
        return INDICATOR_UNITS[self.unit][0] == "share"


@dataclass(frozen=True)
class Rule:
    """A dated target or directive: national (the rulebook) or local (a deal's own)."""

    id: str
    measure: str | None     # the indicator (or quantity, e.g. pooled_budget) the rule is about
    kind: str               # target | directive
    text: str
    value: float
    unit: str
    direction: str
    scope: str              # national | local
    source: str
    exempt: bool = False
    start: date | None = None
    end: date | None = None   # first day the rule no longer applies
    scale: str | None = None  # per_head_of_england: value is an England total shared per resident
    origin: str = ""          # where a local rule came from (the pack's targets.yaml, a decision)

    def in_force(self, when: date) -> bool:
        return (self.start is None or self.start <= when) and (self.end is None or when < self.end)

    def period(self) -> str:
        if self.start is None and self.end is None:
            return "with no start or end date"
        start = f"from {self.start.isoformat()}" if self.start else "from the start of the rulebook"
        end = f" to {(self.end - timedelta(days=1)).isoformat()}" if self.end else ""
        return f"{start}{end}"


@dataclass(frozen=True)
class Catalogue:
    """Everything the engine needs besides the deal: indicators, standards, the rulebook, and the
    citations behind them (id → text)."""

    indicators: tuple[Indicator, ...]
    standards: Mapping[str, StandardPopulation]
    national_rules: tuple[Rule, ...]
    local_rules: tuple[Rule, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "standards", MappingProxyType(dict(self.standards)))
        object.__setattr__(self, "sources", MappingProxyType(dict(self.sources)))
        seen: set[str] = set()
        for indicator in self.indicators:
            if indicator.id in seen:
                raise IndicatorError(f"indicator '{indicator.id}' is defined twice")
            seen.add(indicator.id)
            if indicator.standardisation == "direct" and indicator.standard not in self.standards:
                raise IndicatorError(
                    f"indicator '{indicator.id}' is standardised to '{indicator.standard}', which is not a "
                    f"standard population of the pack ({', '.join(sorted(self.standards)) or 'none'})")

    def indicator(self, indicator_id: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.id == indicator_id:
                return indicator
        raise IndicatorError(f"there is no indicator '{indicator_id}'")

    def with_local_rules(self, rules: Sequence[Rule]) -> Catalogue:
        """This catalogue with ``rules`` added after the deal's own (e.g. adopted by a board decision)."""
        return Catalogue(self.indicators, self.standards, self.national_rules, (*self.local_rules, *rules),
                         self.sources)
