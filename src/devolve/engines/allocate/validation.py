"""Checking devolve's fair shares against NHS England's own target allocations (pure functions).

NHS England publishes weighted populations and target allocations by GP practice (the ICS place
based allocation tool's practice file, 2018/19). Here they are added up to CCGs and compared with
devolve's targets for the same CCGs, built up from small areas: shares of the total within the
CCGs compared, targets per head against the set's average, their correlations and the largest
differences. The same practice file gives each CCG's market forces factor, from which
:func:`market_forces_by_district` derives the district cost adjustment the national pack carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

#: CCGs the practice file still lists separately that had merged by the April 2019 lookup: NHS Devon
#: CCG (15N) was formed on 1 April 2019 from NHS Northern, Eastern and Western Devon (99P) and NHS
#: South Devon and Torbay (99Q) CCGs (ONS CCG (April 2019) names and codes).
CCG_MERGERS_2019: Mapping[str, str] = {"99P": "15N", "99Q": "15N"}


def practice_totals_by_ccg(practices: pl.DataFrame, mergers: Mapping[str, str] = CCG_MERGERS_2019) -> pl.DataFrame:
    """Practices (ccg, gp_population, target_gbp, mff_index) added up to CCGs (after ``mergers``):
    registered population, target, and the market forces factor weighted by registered population."""
    merged = practices.with_columns(pl.col("ccg").replace(dict(mergers)))
    return (merged.group_by("ccg")
            .agg(pl.col("gp_population").sum(), pl.col("target_gbp").sum(),
                 ((pl.col("mff_index") * pl.col("gp_population")).sum() / pl.col("gp_population").sum())
                 .alias("mff_index"))
            .sort("ccg"))


def market_forces_by_district(ccg_mff: pl.DataFrame, areas: pl.DataFrame) -> pl.DataFrame:
    """Each district's market forces factor: its small areas' CCG factors, weighted by population.

    ``ccg_mff``: ccg, mff_index. ``areas``: code, district, ccg, population. Areas whose CCG has no
    factor are left out; ``coverage`` is the share of the district's residents that had one.
    """
    joined = areas.join(ccg_mff.select("ccg", "mff_index"), on="ccg", how="left")
    return (joined.group_by("district")
            .agg(((pl.col("mff_index") * pl.col("population")).sum()
                  / pl.col("population").filter(pl.col("mff_index").is_not_null()).sum()).alias("mff_index"),
                 (pl.col("population").filter(pl.col("mff_index").is_not_null()).sum()
                  / pl.col("population").sum()).alias("coverage"))
            .with_columns(pl.col("mff_index").fill_nan(None))
            .sort("district"))


@dataclass(frozen=True)
class Comparison:
    """devolve's targets against NHS England's for one set of CCGs."""

    table: pl.DataFrame            # per CCG: shares, per-head indices and their differences
    ccgs: int
    correlation_share: float       # Pearson, shares of the set's total target
    correlation_per_head: float    # Pearson, target per head as an index of the set's average
    mean_abs_share_difference: float   # mean |devolve share / NHS share - 1|

    def largest(self, count: int = 5) -> pl.DataFrame:
        return self.table.sort(pl.col("share_difference").abs(), descending=True).head(count)

    def summary(self) -> dict:
        return {"ccgs": self.ccgs, "correlation_share": self.correlation_share,
                "correlation_per_head": self.correlation_per_head,
                "mean_abs_share_difference": self.mean_abs_share_difference,
                "largest_differences": self.largest().to_dicts()}


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if x.size < 2 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def compare_targets(devolve: pl.DataFrame, nhs: pl.DataFrame) -> Comparison:
    """Compare ``devolve`` (ccg, target, population) with ``nhs`` (ccg, target_gbp, gp_population,
    optionally name) on the CCGs both have."""
    joined = devolve.join(nhs, on="ccg", how="inner")
    joined = joined.with_columns(
        (pl.col("target") / pl.col("target").sum()).alias("devolve_share"),
        (pl.col("target_gbp") / pl.col("target_gbp").sum()).alias("nhs_share"),
        ((pl.col("target") / pl.col("population")) / (pl.col("target").sum() / pl.col("population").sum()))
        .alias("devolve_per_head_index"),
        ((pl.col("target_gbp") / pl.col("gp_population"))
         / (pl.col("target_gbp").sum() / pl.col("gp_population").sum())).alias("nhs_per_head_index"),
        (pl.col("gp_population") / pl.col("population")).alias("registered_per_resident"),
    ).with_columns(
        (pl.col("devolve_share") / pl.col("nhs_share") - 1).alias("share_difference"),
        (pl.col("devolve_per_head_index") - pl.col("nhs_per_head_index")).alias("per_head_index_difference"),
    ).sort("ccg")
    return Comparison(
        table=joined, ccgs=joined.height,
        correlation_share=_pearson(joined["devolve_share"].to_numpy(), joined["nhs_share"].to_numpy()),
        correlation_per_head=_pearson(joined["devolve_per_head_index"].to_numpy(),
                                      joined["nhs_per_head_index"].to_numpy()),
        mean_abs_share_difference=float(joined["share_difference"].abs().mean()) if joined.height else float("nan"),
    )
