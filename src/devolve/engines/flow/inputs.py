"""Build a :class:`DischargeModel` from a deal: its residents, admission rates and flow parameters.

Pure: reads only the (immutable, validated) deal. Emergency admissions a year for a district —
or the whole deal — are Σ population(age band, sex) × rate per 1,000 of the service line
``emergency_admission`` / 1,000, unless the caller gives ``admissions_per_year`` (for example a
forecast), which keeps the age mix and replaces the total. Parameters (``flow.*`` and the unit
costs reused) are read as they stand on the deal's start date.

>>> import tempfile
>>> from devolve.packs.loader import load_deal
>>> deal = load_deal("greater-manchester-2016", data_dir=tempfile.mkdtemp())
>>> model = model_from_deal(deal, district="E08000002", days=30)
>>> model.label, model.full_bed_base, round(model.bed_day_cost)
('Bury (E08000002)', 'wait', 313)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import polars as pl

from devolve.domain.errors import InputError, PackError, ParameterError, Problem
from devolve.domain.records import Deal
from devolve.engines.flow.model import (
    CAPACITY_KEYS,
    PATHWAYS,
    AgeGroup,
    DischargeModel,
    Pathway,
    capacities_from_mapping,
)

SERVICE_LINE = "emergency_admission"
AGE_GROUPS = ("under_65", "65_to_84", "85_plus")   # youngest first; see flow.age_group.*.min_age
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
#: The unit costs each part of the flow is costed with (parameter paths, reused not copied).
BED_DAY_COST = "unit_costs.excess_bed_day"
REABLEMENT_EPISODE = "unit_costs.reablement_episode"
RESIDENTIAL_WEEK = "unit_costs.residential_care_week"
NURSING_WEEK = "unit_costs.nursing_care_week"


def band_low(label: str) -> int:
    """The youngest age of an age band label ('65-74' → 65, '85+' → 85)."""
    head = label.split("-")[0].rstrip("+").strip()
    if not head.isdigit():
        raise InputError(f"age band '{label}' does not start with an age")
    return int(head)


class _Reader:
    """Parameters as they stand on one date, remembering which synthetic ones were read."""

    def __init__(self, deal: Deal, when: date):
        self.deal, self.when, self.synthetic = deal, when, set()

    def number(self, path: str) -> float:
        parameter = self.deal.parameters[path]
        if parameter.synthetic:
            self.synthetic.add(path)
        value = parameter.at(self.when)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParameterError(f"parameter '{path}' must be a number on {self.when.isoformat()}; found {value!r}")
        return float(value)

    def text(self, path: str) -> str:
        parameter = self.deal.parameters[path]
        if parameter.synthetic:
            self.synthetic.add(path)
        return str(parameter.at(self.when))


def _group_of(low: int, minimum_ages: Mapping[str, float]) -> str:
    group = AGE_GROUPS[0]
    for name in AGE_GROUPS[1:]:
        if low >= minimum_ages[name]:
            group = name
    return group


def _admissions_by_group(deal: Deal, district: str | None, reader: _Reader) -> tuple[dict[str, float], float]:
    """Emergency admissions a year by age group, and the residents, of a district or the deal."""
    minimum_ages = {name: reader.number(f"flow.age_group.{name}.min_age") for name in AGE_GROUPS[1:]}
    rates = deal.activity_rates.filter(pl.col("service_line") == SERVICE_LINE)
    if rates.height == 0:
        raise InputError(f"deal '{deal.id}' has no activity rates for '{SERVICE_LINE}', which the flow model needs")
    if any(deal.activity_rates.filter(pl.col("service_line") == SERVICE_LINE)["synthetic"]):
        reader.synthetic.add(f"activity_rates.{SERVICE_LINE}")
    population = deal.population if district is None else deal.population.filter(pl.col("district") == district)
    residents = float(population["population"].sum())
    by_band = (population.group_by("age_band", "sex").agg(pl.col("population").sum())
               .join(rates.select("age_band", "sex", "rate_per_1000"), on=["age_band", "sex"], how="left"))
    missing = by_band.filter(pl.col("rate_per_1000").is_null())
    if missing.height:
        row = missing.row(0, named=True)
        raise InputError(f"no '{SERVICE_LINE}' rate for age band {row['age_band']}, sex {row['sex']}")
    admissions = {name: 0.0 for name in AGE_GROUPS}
    for row in by_band.iter_rows(named=True):
        group = _group_of(band_low(row["age_band"]), minimum_ages)
        admissions[group] += row["population"] * row["rate_per_1000"] / 1000.0
    return admissions, residents


def model_from_deal(deal: Deal, *, district: str | None = None, days: int = 365,
                    capacity: Mapping[str, int] | None = None, admissions_per_year: float | None = None,
                    warm_up_days: int | None = None, full_bed_base: str | None = None) -> DischargeModel:
    """The discharge model of ``district`` (a district code of the deal), or of the whole deal.

    ``capacity`` replaces any of the default capacities (``acute_beds``, ``home_support``,
    ``bedded_reablement``, ``care_home``: whole numbers), which are otherwise the
    ``flow.capacity_per_100k`` parameters × residents / 100,000, rounded. Raises
    :class:`InputError` for an unknown district or capacity, :class:`PackError` when a pack's
    pathway shares do not add up to one.
    """
    if district is not None and district not in {d.code for d in deal.districts}:
        known = ", ".join(f"{d.code} ({d.name})" for d in deal.districts)
        raise InputError(f"'{district}' is not a district of deal '{deal.id}': expected one of {known}")
    reader = _Reader(deal, deal.start)
    by_group, residents = _admissions_by_group(deal, district, reader)
    derived = sum(by_group.values())
    if derived <= 0:
        where = f"district {district}" if district else "the deal"
        raise InputError(f"no emergency admissions: {where} has no residents")
    if admissions_per_year is not None:
        if isinstance(admissions_per_year, bool) or not isinstance(admissions_per_year, (int, float)) \
                or not admissions_per_year > 0:
            raise InputError(f"admissions a year must be a number above 0; found {admissions_per_year!r}")
    groups = []
    for name in AGE_GROUPS:
        shares = tuple(reader.number(f"flow.pathway_share.{name}.{p}") for p in PATHWAYS)
        if abs(sum(shares) - 1.0) > 1e-6:
            raise PackError(Problem("parameters/flow.yaml", f"flow.pathway_share.{name}",
                                    "the four pathway shares of an age group adding up to 1",
                                    f"{' + '.join(f'{s:g}' for s in shares)} = {sum(shares):.6g}"))
        groups.append(AgeGroup(name, by_group[name] / derived, reader.number(f"flow.acute_los.{name}.mean_days"),
                               reader.number(f"flow.acute_los.{name}.cv"), shares))
    defaults = {key: max(0, int(round(reader.number(f"flow.capacity_per_100k.{key}") * residents / 100_000)))
                for key in CAPACITY_KEYS}
    defaults["acute_beds"] = max(1, defaults["acute_beds"])
    chosen = {**defaults, **capacities_from_mapping(capacity or {})}
    nursing = reader.number("flow.cost.care_home_nursing_share")
    if not 0.0 <= nursing <= 1.0:
        raise PackError(Problem("parameters/flow.yaml", "flow.cost.care_home_nursing_share",
                                "a share between 0 and 1", f"{nursing:g}"))
    home_mean = reader.number("flow.duration.home_support.mean_days")
    place_day_cost = {
        "home_support": reader.number(REABLEMENT_EPISODE) / home_mean,
        "bedded_reablement": reader.number(NURSING_WEEK) / 7.0,
        "care_home": ((1.0 - nursing) * reader.number(RESIDENTIAL_WEEK) + nursing * reader.number(NURSING_WEEK)) / 7.0,
    }
    pathways = tuple(Pathway(name, chosen[name], home_mean if name == "home_support"
                             else reader.number(f"flow.duration.{name}.mean_days"),
                             reader.number(f"flow.duration.{name}.cv"), place_day_cost[name])
                     for name in PATHWAYS[1:])
    label = deal.name if district is None else f"{deal.district(district).name} ({district})"
    model = DischargeModel(
        admissions_per_year=float(admissions_per_year if admissions_per_year is not None else derived),
        age_groups=tuple(groups), pathways=pathways, acute_beds=chosen["acute_beds"],
        full_bed_base=full_bed_base or reader.text("flow.full_bed_base"),
        bed_day_cost=reader.number(BED_DAY_COST), start=deal.start, days=days,
        warm_up_days=int(reader.number("flow.warm_up_days")) if warm_up_days is None else warm_up_days,
        day_of_week=tuple(reader.number(f"flow.admissions.day_of_week.{d}") for d in WEEKDAYS),
        month=tuple(reader.number(f"flow.admissions.month.{m}") for m in MONTHS),
        label=label, synthetic=(),
    )
    synthetic = set(reader.synthetic)
    population_sources = [key for key in deal.data if "population" in key or "mye" in key]
    if any(deal.data[key] == "synthetic" for key in population_sources):
        synthetic.add("population (synthetic small areas)")
    for key in capacity or {}:
        synthetic.discard(f"flow.capacity_per_100k.{key}")
    return model.with_options(synthetic=tuple(sorted(synthetic)))


def residents(deal: Deal, district: str | None = None) -> float:
    """Residents of a district, or of the whole deal (from the deal's population table)."""
    population = deal.population if district is None else deal.population.filter(pl.col("district") == district)
    return float(population["population"].sum())
