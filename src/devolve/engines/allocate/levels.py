"""The units money is allocated to at each level, and how area figures add up to them.

Small areas (``area``), districts, CCGs and neighbourhoods partition the deal's small areas, so a
unit's figure is the sum over its areas. Partners do not: their footprints overlap (NHS England
covers everyone, a council its district, a CCG its areas). At the ``partner`` level each area's
money is attributed to the partners that fund it today, in proportion to what each puts into that
area (see :func:`area_funding`), so the partners' figures still add up to the pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import polars as pl

from devolve.domain.errors import InputError
from devolve.domain.periods import FinancialYear
from devolve.domain.records import Deal, PartnerType

LEVELS = ("area", "district", "ccg", "neighbourhood", "partner")
NO_CCG = "no-ccg"


class Footprint(NamedTuple):
    """A partner's contribution in a year and the small areas it is spread over (by population)."""

    partner: str
    amount: int                 # pence
    areas: np.ndarray           # indices into the deal's small areas


class Spread(NamedTuple):
    """Every (partner, area) pair of a list of footprints, with the area's share of the partner's
    money: by population, or by number of areas where a footprint has no residents."""

    unit: np.ndarray
    area: np.ndarray
    share: np.ndarray

    def money(self, prints: list[Footprint]) -> np.ndarray:
        amounts = np.array([fp.amount for fp in prints], dtype=np.float64)
        return amounts[self.unit] * self.share if self.unit.size else np.zeros(0)


@dataclass(frozen=True)
class Units:
    """Units of one level: ``unit_index[k]`` and ``area_index[k]`` pair a unit with an area it covers."""

    level: str
    ids: tuple[str, ...]
    names: tuple[str, ...]
    unit_index: np.ndarray
    area_index: np.ndarray
    member: np.ndarray | None   # area -> unit (levels that partition the areas); None for partners

    def total(self, values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Per unit, the sum over its areas of ``values`` (times ``weights`` per pair, if given)."""
        contributions = values[self.area_index] if weights is None else values[self.area_index] * weights
        return np.bincount(self.unit_index, weights=contributions, minlength=len(self.ids))


def _groups(values: pl.Series) -> dict[str, np.ndarray]:
    """Area indices for each distinct value (nulls left out)."""
    frame = pl.DataFrame({"key": values, "i": np.arange(values.len(), dtype=np.int64)}).drop_nulls("key")
    return {key: np.asarray(idx, dtype=np.int64) for key, idx in frame.group_by("key").agg(pl.col("i")).iter_rows()}


def footprints(deal: Deal, years: Sequence[FinancialYear]) -> dict[FinancialYear, list[Footprint]]:
    """Each year's contributing partners and their areas: a commissioner's own areas (the small
    areas' ``ccg``), else the districts it names, else the whole deal."""
    small = deal.small_areas
    by_ccg, by_district = _groups(small["ccg"]), _groups(small["district"])
    everyone = np.arange(small.height)
    areas_of: dict[str, np.ndarray] = {}
    for partner in deal.partners:
        areas = by_ccg.get(partner.id) if partner.type == PartnerType.COMMISSIONER else None
        if areas is None and partner.districts:
            found = [by_district[d] for d in partner.districts if d in by_district]
            areas = np.sort(np.concatenate(found)) if found else None
        areas_of[partner.id] = everyone if areas is None else areas
    return {year: [Footprint(p.id, int(p.contributions[year]), areas_of[p.id]) for p in deal.partners
                   if p.contributions.get(year, 0) > 0] for year in years}


def spread(prints: list[Footprint], population: np.ndarray) -> Spread:
    """How each footprint's money spreads over its areas (the same for any amounts)."""
    if not prints:
        empty = np.zeros(0, dtype=np.int64)
        return Spread(empty, empty, np.zeros(0))
    unit = np.repeat(np.arange(len(prints)), [fp.areas.size for fp in prints])
    area = np.concatenate([fp.areas for fp in prints]).astype(np.int64)
    weight = population[area].astype(np.float64)
    total = np.bincount(unit, weights=weight, minlength=len(prints))
    nobody = total <= 0
    if nobody.any():
        weight = np.where(nobody[unit], 1.0, weight)
        total = np.where(nobody, np.bincount(unit, minlength=len(prints)), total)
    return Spread(unit, area, weight / total[unit])


def area_funding(prints: list[Footprint], spreading: Spread, areas: int) -> np.ndarray:
    """What each area receives today from all its partners' contributions."""
    return np.bincount(spreading.area, weights=spreading.money(prints), minlength=areas)


def _partition(level: str, ids: list[str], names: list[str], member: np.ndarray) -> Units:
    return Units(level, tuple(ids), tuple(names), member.astype(np.int64), np.arange(member.size), member)


def _by_key(level: str, keys: np.ndarray, order: list[str], names: dict[str, str]) -> Units:
    index = {key: k for k, key in enumerate(order)}
    return _partition(level, order, [names.get(k, k) for k in order], np.array([index[k] for k in keys]))


def _neighbourhoods(deal: Deal, assignment: pl.DataFrame) -> Units:
    if not isinstance(assignment, pl.DataFrame) or not {"area", "neighbourhood"} <= set(assignment.columns):
        raise InputError("a neighbourhood assignment must be a table with columns 'area' and 'neighbourhood'")
    codes = deal.small_areas["code"]
    table = assignment.select(pl.col("area").cast(pl.Utf8), pl.col("neighbourhood").cast(pl.Utf8),
                              (pl.col("name").cast(pl.Utf8) if "name" in assignment.columns
                               else pl.col("neighbourhood").cast(pl.Utf8)).alias("name"))
    repeated = table.filter(pl.col("area").is_duplicated())
    if repeated.height:
        raise InputError(f"small area {repeated['area'][0]} is assigned to more than one neighbourhood")
    joined = pl.DataFrame({"area": codes}).join(table, on="area", how="left", maintain_order="left")
    missing = joined.filter(pl.col("neighbourhood").is_null())
    if missing.height:
        raise InputError(f"{missing.height} small area(s) of the deal have no neighbourhood "
                         f"(first: {missing['area'][0]}); every area must be assigned once")
    order = list(dict.fromkeys(joined["neighbourhood"].to_list()))
    names = dict(table.select("neighbourhood", "name").unique("neighbourhood", keep="first").iter_rows())
    return _by_key("neighbourhood", joined["neighbourhood"].to_numpy(), order, names)


def units_for(deal: Deal, level: str, prints: list[Footprint], assignment: pl.DataFrame | None = None) -> Units:
    """The units of ``level``. Raises :class:`InputError` for an unknown level or a bad assignment."""
    small = deal.small_areas
    if level == "area":
        return _partition("area", small["code"].to_list(), small["name"].to_list(), np.arange(small.height))
    if level == "district":
        order = [d.code for d in deal.districts]
        return _by_key("district", small["district"].to_numpy(), order, {d.code: d.name for d in deal.districts})
    if level == "ccg":
        keys = small["ccg"].fill_null(NO_CCG).to_numpy()
        present = set(keys.tolist())
        order = [p.id for p in deal.partners if p.id in present]
        order += sorted(present - set(order))
        names = {p.id: p.name for p in deal.partners} | {NO_CCG: "Areas with no CCG partner in this deal"}
        return _by_key("ccg", keys, order, names)
    if level == "neighbourhood":
        if assignment is None:
            raise InputError("the neighbourhood level needs neighbourhoods: build them with the places engine "
                             "(`devolve neighbourhoods`) or give an assignment of small areas to neighbourhoods")
        return _neighbourhoods(deal, assignment)
    if level == "partner":
        names = {p.id: p.name for p in deal.partners}
        ids = [fp.partner for fp in prints]
        unit_index = np.concatenate([np.full(fp.areas.size, k) for k, fp in enumerate(prints)]).astype(np.int64)
        area_index = np.concatenate([fp.areas for fp in prints]).astype(np.int64)
        return Units("partner", tuple(ids), tuple(names[i] for i in ids), unit_index, area_index, None)
    raise InputError(f"unknown level '{level}': choose one of {', '.join(LEVELS)}")


def partner_mix(prints: list[Footprint], spreading: Spread, funding: np.ndarray) -> np.ndarray:
    """Per (partner, area) pair, in the order of the partner level's units: the partner's share of
    the area's funding today."""
    money = spreading.money(prints)
    return np.divide(money, funding[spreading.area], out=np.zeros_like(money), where=funding[spreading.area] > 0)
