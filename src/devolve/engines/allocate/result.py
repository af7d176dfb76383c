"""What an allocation returns: tables (Polars) and a small summary, serialisable to the JSON contract."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from devolve.domain.money import PENCE_PER_POUND
from devolve.domain.periods import FinancialYear
from devolve.engines.allocate.policy import PaceOfChange


def _gbp(pence: int | None) -> float | None:
    return None if pence is None else pence / PENCE_PER_POUND


@dataclass(frozen=True)
class AllocationResult:
    """Fair shares of one deal's pool at one level, for one year, with the five-year path.

    ``table``: one row per unit — id, name, population, target_pence, current_pence,
    distance_from_target (current vs target, a fraction; negative = under target),
    allocation_pence (after pace of change), allocation_distance_from_target, per_head_gbp
    (allocation per resident), need_index (target per head against the deal's average), target_share.
    ``path``: id, year, target_pence, allocation_pence for every year of the deal.
    ``areas``: each small area's need index and target share, and the unit it belongs to.
    ``component_targets``: each unit's target split by component (pounds, unrounded).
    """

    deal_id: str
    deal_name: str
    year: FinancialYear
    years: tuple[FinancialYear, ...]
    level: str
    pool_pence: int
    table: pl.DataFrame
    path: pl.DataFrame
    areas: pl.DataFrame
    components: pl.DataFrame
    component_targets: pl.DataFrame
    parameters: pl.DataFrame
    pace: PaceOfChange
    scenario: str
    data: Mapping[str, str]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def total_allocated_pence(self) -> int:
        return int(self.table["allocation_pence"].sum())

    def to_json(self) -> dict[str, Any]:
        """The `devolve allocate --json` contract (money in pounds, and exactly in pence)."""
        path = {}
        for row in self.path.iter_rows(named=True):
            path.setdefault(row["id"], {})[row["year"]] = _gbp(row["allocation_pence"])
        items = []
        for row in self.table.iter_rows(named=True):
            items.append({
                "id": row["id"], "name": row["name"], "population": row["population"],
                "target_gbp": _gbp(row["target_pence"]), "current_gbp": _gbp(row["current_pence"]),
                "distance_from_target": row["distance_from_target"],
                "allocation_gbp": _gbp(row["allocation_pence"]),
                "allocation_distance_from_target": row["allocation_distance_from_target"],
                "per_head_gbp": row["per_head_gbp"], "need_index": row["need_index"],
                "target_share": row["target_share"],
                "target_pence": row["target_pence"], "current_pence": row["current_pence"],
                "allocation_pence": row["allocation_pence"],
                "path_gbp": path.get(row["id"], {}),
            })
        pools = (self.path.group_by("year").agg(pl.col("allocation_pence").sum()).sort("year"))
        return {
            "deal": self.deal_id,
            "deal_name": self.deal_name,
            "year": self.year.label,
            "years": [y.label for y in self.years],
            "level": self.level,
            "scenario": self.scenario,
            "pool_gbp": _gbp(self.pool_pence),
            "pool_pence": self.pool_pence,
            "total_allocated_gbp": _gbp(self.total_allocated_pence),
            "total_allocated_pence": self.total_allocated_pence,
            "pool_by_year_gbp": {y: _gbp(p) for y, p in pools.iter_rows()},
            "units": self.table.height,
            "items": items,
            "components": self.components.to_dicts(),
            "pace_of_change": {"min_growth": self.pace.min_growth,
                               "max_under_target": self.pace.max_under_target,
                               "over_target_growth_cap": self.pace.over_target_growth_cap},
            "notes": list(self.notes),
            "data": dict(self.data),
        }
