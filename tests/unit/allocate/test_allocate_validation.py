"""devolve's targets against NHS England's own: the pure comparison, and (with the real files) the
numbers docs/method/allocation.md reports."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from devolve.engines.allocate.validation import compare_targets, market_forces_by_district, practice_totals_by_ccg
from devolve.packs.loader import read_national


def test_practices_add_up_to_ccgs_after_the_2019_mergers():
    practices = pl.DataFrame({"ccg": ["99P", "99Q", "00T", "00T"], "gp_population": [100.0, 300.0, 50.0, 150.0],
                              "target_gbp": [10.0, 30.0, 5.0, 20.0], "mff_index": [1.0, 0.9, 1.1, 1.1]})
    totals = practice_totals_by_ccg(practices)
    rows = {r["ccg"]: r for r in totals.iter_rows(named=True)}
    assert set(rows) == {"15N", "00T"}
    assert rows["15N"]["gp_population"] == 400 and rows["15N"]["target_gbp"] == 40
    assert rows["15N"]["mff_index"] == pytest.approx((100 * 1.0 + 300 * 0.9) / 400)


def test_district_market_forces_are_population_weighted():
    ccg = pl.DataFrame({"ccg": ["A", "B"], "mff_index": [1.0, 1.2]})
    areas = pl.DataFrame({"code": ["1", "2", "3"], "district": ["D", "D", "E"], "ccg": ["A", "B", "C"],
                          "population": [100, 300, 50]})
    out = {r["district"]: r for r in market_forces_by_district(ccg, areas).iter_rows(named=True)}
    assert out["D"]["mff_index"] == pytest.approx(1.15) and out["D"]["coverage"] == 1.0
    assert out["E"]["mff_index"] is None and out["E"]["coverage"] == 0.0


def test_the_comparison_of_shares_and_per_head_indices():
    ours = pl.DataFrame({"ccg": ["A", "B", "C"], "target": [100.0, 200.0, 300.0], "population": [10, 20, 40]})
    theirs = pl.DataFrame({"ccg": ["A", "B", "C", "Z"], "target_gbp": [1.0, 2.0, 3.0, 9.0],
                           "gp_population": [10.0, 20.0, 30.0, 1.0]})
    result = compare_targets(ours, theirs)
    assert result.ccgs == 3
    assert result.correlation_share == pytest.approx(1.0)
    table = result.table
    assert np.allclose(table["share_difference"].to_numpy(), 0.0)
    # C has more residents than registered patients: devolve gives it less per resident
    assert table.filter(pl.col("ccg") == "C")["devolve_per_head_index"][0] < 1
    assert table.filter(pl.col("ccg") == "C")["nhs_per_head_index"][0] == pytest.approx(1.0)
    assert result.largest(2).height == 2


@pytest.mark.realdata
def test_the_committed_market_forces_factors_match_their_derivation(real_data):
    from devolve.services.allocation import market_forces_table
    derived = market_forces_table(real_data)
    national = read_national().parameters
    assert derived.height == 317 and derived["coverage"].min() == 1.0
    for district, mff, _ in derived.iter_rows():
        committed = national[f"allocation.cost_adjustment.{district}"].values[0][1]
        assert committed == pytest.approx(mff, abs=5e-7), district


@pytest.mark.realdata
@pytest.mark.slow
def test_greater_manchester_targets_track_nhs_englands(real_data):
    from devolve.services.allocation import nhs_england_comparison
    result = nhs_england_comparison("greater-manchester", data_dir=real_data)
    assert result.comparison.ccgs == 10
    assert result.comparison.correlation_share > 0.99
    assert result.comparison.correlation_per_head > 0.8
    largest = result.comparison.largest(1).row(0, named=True)
    assert largest["ccg"] == "14L"  # Manchester: many more registered patients than mid-2015 residents


@pytest.mark.realdata
@pytest.mark.slow
def test_england_targets_track_nhs_englands_and_the_gaps_follow_registration(real_data):
    from devolve.services.allocation import nhs_england_comparison
    result = nhs_england_comparison("england", data_dir=real_data)
    comparison = result.comparison
    assert comparison.ccgs == 191
    assert comparison.correlation_share > 0.99
    assert comparison.correlation_per_head > 0.9
    table = comparison.table
    gap_vs_registration = np.corrcoef(table["share_difference"].to_numpy(),
                                      table["registered_per_resident"].to_numpy())[0, 1]
    assert gap_vs_registration < -0.7
