"""Frozen records of a deal: partners, places, service lines, schemes, rules and targets.

Large per-area data (small areas, population by age band and sex, activity rates) are Polars
tables held by the :class:`Deal`; treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from types import MappingProxyType

import polars as pl

from devolve.domain.parameters import ParameterSet
from devolve.domain.periods import FinancialYear, financial_years


class PartnerType(str, Enum):
    NATIONAL_BODY = "national_body"
    COMMISSIONER = "commissioner"
    NHS_PROVIDER = "nhs_provider"
    LOCAL_AUTHORITY = "local_authority"
    COMBINED_AUTHORITY = "combined_authority"
    POLICE = "police"
    FIRE = "fire"
    HOUSING = "housing"
    VOLUNTARY_SECTOR = "voluntary_sector"
    PRIMARY_CARE = "primary_care"
    OTHER = "other"


def frozen_mapping(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    type: PartnerType
    code: str
    districts: tuple[str, ...]
    source: str
    contributions: Mapping[FinancialYear, int] = field(default_factory=dict)  # pence
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "contributions", frozen_mapping(self.contributions))


@dataclass(frozen=True)
class District:
    code: str
    name: str
    population: int
    small_areas: int
    source: str


@dataclass(frozen=True)
class SmallArea:
    code: str
    name: str
    district: str
    ccg: str | None
    population: int
    imd_decile: int | None
    synthetic: bool


@dataclass(frozen=True)
class ServiceLine:
    id: str
    name: str
    setting: str
    activity_unit: str
    source: str


@dataclass(frozen=True)
class SchemeEffect:
    service_line: str
    min_age: int
    low: float          # 80% interval of the proportional change in activity (negative = fewer)
    high: float
    ramp_years: int
    lag_years: int
    substitute: str | None = None   # where care moves to (care moved, not vanished)
    substitute_ratio: float = 0.0   # units of ``substitute`` per unit avoided


@dataclass(frozen=True)
class Scheme:
    id: str
    name: str
    category: str
    priority: int
    investment: Mapping[FinancialYear, int]  # pence
    effects: tuple[SchemeEffect, ...]
    source: str
    synthetic: bool
    accountable_partner: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "investment", frozen_mapping(self.investment))

    @property
    def total_investment(self) -> int:
        return sum(self.investment.values())


@dataclass(frozen=True)
class GovernanceRules:
    board: str
    chair: str
    members: tuple[str, ...]                 # partner ids with a seat
    voting_rule: str                         # consensus | simple_majority | weighted_majority | double_majority
    quorum: float                            # share of members present
    reserved_matters: tuple[str, ...]        # proposal kinds needing unanimity / national consent
    national_consent: str | None             # partner id whose consent reserved matters need
    delegation_limit: int                    # pence: officers may approve below this
    host_partner: str
    pool_manager: str
    risk_share: Mapping[str, object]         # {"method": ..., ...}
    carry_forward_limit: float               # share of the year's budget that may carry forward
    weights: Mapping[str, float]             # voting weights by partner id (weighted majority)
    double_majority_groups: tuple[tuple[str, ...], ...]  # partner types forming each group
    source: str
    representatives: Mapping[str, str] = field(default_factory=dict)       # partner type → who sits (a role)
    accountable_officers: Mapping[str, str] = field(default_factory=dict)  # partner type → accountable officer

    def __post_init__(self) -> None:
        for name in ("risk_share", "weights", "representatives", "accountable_officers"):
            object.__setattr__(self, name, frozen_mapping(getattr(self, name)))


@dataclass(frozen=True)
class Target:
    id: str
    indicator: str
    value: float
    unit: str
    direction: str          # higher_is_better | lower_is_better
    scope: str              # national | local
    source: str
    exempt: bool = False
    start: date | None = None


@dataclass(frozen=True)
class Fact:
    """A cited public fact the pack carries (e.g. the plan's £2bn do-nothing gap)."""

    id: str
    text: str
    value: float | None
    unit: str
    source: str
    year: FinancialYear | None = None


#: Kinds of public building an estate register may list: (can host a neighbourhood hub, services
#: can move out into a shared building). Hospitals, fire and police stations, depots and care homes
#: stay where they are; a vacant building of any kind may be released.
BUILDING_TYPES: Mapping[str, tuple[bool, bool]] = MappingProxyType({
    "health_centre": (True, True), "gp_surgery": (True, True), "clinic": (True, True),
    "community_centre": (True, True), "library": (True, True), "council_office": (True, True),
    "jobcentre": (True, True), "leisure_centre": (True, False), "day_centre": (False, True),
    "housing_office": (False, True), "office": (False, True), "hospital": (False, False),
    "ambulance_station": (False, False), "fire_station": (False, False), "police_station": (False, False),
    "depot": (False, False), "care_home": (False, False), "other": (False, False),
})
#: The estate register a deal may carry (estate.csv): one public building a row. Money in pence.
ESTATE_SCHEMA: Mapping[str, pl.DataType] = MappingProxyType({
    "id": pl.Utf8, "name": pl.Utf8, "type": pl.Utf8, "owner": pl.Utf8, "lon": pl.Float64, "lat": pl.Float64,
    "easting": pl.Float64, "northing": pl.Float64, "floor_area_m2": pl.Float64, "running_cost_pence": pl.Int64,
    "condition": pl.Utf8, "utilisation": pl.Float64, "current_use": pl.Utf8, "source": pl.Utf8,
    "synthetic": pl.Boolean,
})


def empty_estate() -> pl.DataFrame:
    return pl.DataFrame(schema=dict(ESTATE_SCHEMA))


@dataclass(frozen=True)
class Deal:
    id: str
    name: str
    description: str
    start: date
    years: int
    partners: tuple[Partner, ...]
    districts: tuple[District, ...]
    small_areas: pl.DataFrame
    population: pl.DataFrame             # area × age_band × sex → population (mid-2015 base)
    age_bands: tuple[str, ...]
    pooled_budget: Mapping[FinancialYear, int]        # pence
    transformation_fund: Mapping[FinancialYear, int]  # pence
    service_lines: tuple[ServiceLine, ...]
    activity_rates: pl.DataFrame         # service_line × age_band × sex → rate per 1,000
    schemes: tuple[Scheme, ...]
    governance: GovernanceRules
    targets: tuple[Target, ...]
    priorities: tuple[str, ...]
    facts: tuple[Fact, ...]
    parameters: ParameterSet
    neighbourhood_band: tuple[int, int]
    data: Mapping[str, str]               # source id → "real" | "synthetic"
    sources: Mapping[str, str]            # citation id → full citation
    synthetic_items: tuple[str, ...]      # what in the pack is synthetic, in words
    pack_path: str
    estate: pl.DataFrame = field(default_factory=empty_estate)  # public buildings (estate.csv); may be empty

    def __post_init__(self) -> None:
        for name in ("pooled_budget", "transformation_fund", "data", "sources"):
            object.__setattr__(self, name, frozen_mapping(getattr(self, name)))

    @property
    def financial_years(self) -> tuple[FinancialYear, ...]:
        return financial_years(FinancialYear.containing(self.start), self.years)

    @property
    def end(self) -> date:
        return self.financial_years[-1].end

    @property
    def total_population(self) -> int:
        return int(self.small_areas["population"].sum())

    @property
    def is_synthetic(self) -> bool:
        return any(v == "synthetic" for v in self.data.values())

    def partner(self, partner_id: str) -> Partner:
        for p in self.partners:
            if p.id == partner_id:
                return p
        raise KeyError(partner_id)

    def partners_of_type(self, kind: PartnerType) -> tuple[Partner, ...]:
        return tuple(p for p in self.partners if p.type == kind)

    def district(self, code: str) -> District:
        for d in self.districts:
            if d.code == code:
                return d
        raise KeyError(code)

    def small_area(self, code: str) -> SmallArea:
        row = self.small_areas.filter(pl.col("code") == code)
        if row.height == 0:
            raise KeyError(code)
        r = row.row(0, named=True)
        return SmallArea(r["code"], r["name"], r["district"], r.get("ccg"), int(r["population"]),
                         r.get("imd_decile"), bool(r["synthetic"]))

    def service_line(self, line_id: str) -> ServiceLine:
        for s in self.service_lines:
            if s.id == line_id:
                return s
        raise KeyError(line_id)
