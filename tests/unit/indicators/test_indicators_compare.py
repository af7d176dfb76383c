"""Comparing deals and their readiness (no data files: synthetic small areas)."""

from __future__ import annotations

import pytest

from devolve.domain.errors import InputError
from devolve.engines.indicators import readiness
from devolve.packs.loader import load_deal
from devolve.services.compare import compare_deals


def test_readiness_of_greater_manchester(empty_data):
    deal = load_deal("greater-manchester-2016", data_dir=empty_data)
    summary = readiness(deal, deal.start, None, "not available: test").to_json()
    assert summary["spend"]["pooled_budget_gbp"] == 6_000_000_000
    assert summary["spend"]["spend_per_head_gbp"] == pytest.approx(6e9 / deal.total_population)
    assert summary["spend"]["synthetic"] is False                       # the £6bn is cited
    share = summary["pooled_share_of_spend"]
    assert share["value"] == pytest.approx(6e9 / (deal.total_population * 2200)) and share["synthetic"] is True
    assert summary["governance"]["members"] == len(deal.governance.members)
    assert summary["governance"]["rules_synthetic"] is True             # the pack says its voting terms are assumed
    completeness = summary["data_completeness"]
    assert completeness["real_sources"] == 0 and completeness["share_real"] == 0.0   # no data folder
    cited = {c["id"] for c in summary["financial_position"]["cited"]}
    assert cited == {"do_nothing_gap_2020_21", "modelled_deficit_2020_21"}
    assert summary["financial_position"]["forecast_gap"] is None


@pytest.mark.slow
def test_greater_manchester_and_the_london_pilots_side_by_side(empty_data):
    result = compare_deals(["greater-manchester-2016", "london-pilots-2017"], empty_data, runs=20)
    data = result.to_json()
    assert [d["id"] for d in data["deals"]] == ["greater-manchester-2016", "london-pilots-2017"]
    rows = {r["label"]: r for r in data["table"]}
    assert rows["Residents (mid-2015)"]["values"] == [d.deal.total_population for d in result.deals]
    assert rows["Pooled budget per resident"]["synthetic"] == [False, True]   # London's pool is scaled from GM's
    for deal in data["deals"]:
        gap = deal["forecast"]
        if gap["available"]:
            assert gap["runs"] == 20 and len(gap["years"]) == 5
            assert gap["final_year_gap_p50_gbp"] == gap["years"][-1]["gap_p50_gbp"]
        else:
            assert gap["note"].startswith("not available")
        assert {i["id"] for i in deal["indicators"]} == {i["id"] for i in data["deals"][0]["indicators"]}


def test_compare_needs_two_different_deals(empty_data):
    with pytest.raises(InputError, match="at least two deals"):
        compare_deals(["greater-manchester-2016"], empty_data)
    with pytest.raises(InputError, match="given twice"):
        compare_deals(["greater-manchester-2016", "greater-manchester-2016"], empty_data)


def test_indicators_from_a_forecast_population_projection(empty_data):
    import polars as pl

    from devolve.services.indicators import projected_deal, projected_indicators

    deal = load_deal("london-pilots-2017", data_dir=empty_data)   # no schemes: only the population changes
    keys = ["district", "age_band", "sex"]
    base = deal.population.group_by(keys).agg(pl.col("population").sum())
    doubled_oldest = base.with_columns(
        pl.lit("2021/22").alias("year"),
        pl.when(pl.col("age_band") == "85+").then(pl.col("population") * 2).otherwise(pl.col("population"))
        .alias("population"))
    grown = projected_deal(deal, doubled_oldest, "2021/22")
    before = deal.population.group_by("age_band").agg(pl.col("population").sum()).sort("age_band")
    after = grown.population.group_by("age_band").agg(pl.col("population").sum()).sort("age_band")
    ratio = dict(zip(before["age_band"], (after["population"] / before["population"]).to_list()))
    assert ratio["85+"] == pytest.approx(2.0) and ratio["16-44"] == pytest.approx(1.0)
    projected = {i["id"]: i for i in projected_indicators(deal, doubled_oldest, "2021/22")["indicators"]}
    from devolve.services.indicators import compute_indicators
    baseline = {i["id"]: i for i in compute_indicators(deal).to_json()["indicators"]}
    # more of the over-65s are over 85: more care-home admissions per 100,000 aged 65+; the age-standardised
    # emergency admission rate is unchanged by age mix (up to the sex mix within bands)
    assert projected["care_home_admissions_65"]["value"] > baseline["care_home_admissions_65"]["value"]
    assert projected["emergency_admissions"]["value"] == pytest.approx(baseline["emergency_admissions"]["value"],
                                                                       rel=1e-9)
    with pytest.raises(InputError, match="no year 2030/31"):
        projected_deal(deal, doubled_oldest, "2030/31")
