"""The allocate engine on whole deals: levels, years, the JSON contract, bad input."""

from __future__ import annotations

from dataclasses import replace
import numpy as np
import polars as pl
import pytest

from devolve.domain.errors import InputError, ParameterError
from devolve.engines.allocate import allocate
from devolve.packs.loader import load_deal


@pytest.fixture(scope="module")
def deal(tmp_path_factory):
    """Greater Manchester with synthetic small areas (an empty data folder): fast and the same everywhere."""
    return load_deal("greater-manchester-2016", data_dir=tmp_path_factory.mktemp("no-data"))


def test_greater_manchester_districts_share_exactly_six_billion_a_year(deal):
    result = allocate(deal, level="district")
    assert result.pool_pence == 600_000_000_000
    assert result.table.height == 10
    for column in ("target_pence", "current_pence", "allocation_pence"):
        assert int(result.table[column].sum()) == 600_000_000_000
    path = result.path
    assert sorted(path["year"].unique()) == ["2016/17", "2017/18", "2018/19", "2019/20", "2020/21"]
    assert (path.group_by("year").agg(pl.col("allocation_pence").sum())["allocation_pence"] == 600_000_000_000).all()
    assert (path.group_by("year").agg(pl.col("target_pence").sum())["target_pence"] == 600_000_000_000).all()
    table = result.table
    expected = (table["current_pence"] - table["target_pence"]) / table["target_pence"]
    assert np.allclose(table["distance_from_target"].to_numpy(), expected.to_numpy())
    # the need index is the target per resident against the deal's average
    per_head = table["target_pence"] / table["population"]
    average = table["target_pence"].sum() / table["population"].sum()
    assert np.allclose(table["need_index"].to_numpy(), (per_head / average).to_numpy(), rtol=1e-6)


def test_the_json_contract(deal):
    payload = allocate(deal, level="ccg", year="2018/19").to_json()
    assert payload["year"] == "2018/19" and payload["level"] == "ccg"
    assert payload["pool_gbp"] == payload["total_allocated_gbp"] == 6_000_000_000
    assert payload["total_allocated_pence"] == payload["pool_pence"]
    keys = {"id", "name", "population", "target_gbp", "current_gbp", "distance_from_target", "allocation_gbp",
            "per_head_gbp", "need_index"}
    for item in payload["items"]:
        assert keys <= set(item)
        assert len(item["path_gbp"]) == 5
    assert sum(item["allocation_pence"] for item in payload["items"]) == payload["pool_pence"]
    assert any("synthetic" in note for note in payload["notes"])


def test_every_level_adds_up_and_areas_add_up_to_districts(deal):
    areas = allocate(deal, level="area")
    districts = allocate(deal, level="district")
    by_district = (areas.areas.select("district", "target_share").group_by("district").agg(pl.col("target_share").sum())
                   .sort("district"))
    joined = districts.table.select(pl.col("id").alias("district"), "target_share").sort("district")
    assert np.allclose(by_district["target_share"].to_numpy(), joined["target_share"].to_numpy())
    partners = allocate(deal, level="partner")
    assert int(partners.table["target_pence"].sum()) == partners.pool_pence
    contributions = {p.id: p.contributions[deal.financial_years[0]] for p in deal.partners
                     if p.contributions.get(deal.financial_years[0], 0) > 0}
    assert dict(zip(partners.table["id"], partners.table["current_pence"])) == contributions


def test_a_neighbourhood_assignment_gives_the_neighbourhood_level(deal):
    codes = deal.small_areas["code"]
    assignment = pl.DataFrame({"area": codes, "neighbourhood": [f"N{i % 7}" for i in range(codes.len())]})
    result = allocate(deal, level="neighbourhood", assignment=assignment)
    assert result.table.height == 7
    assert int(result.table["allocation_pence"].sum()) == result.pool_pence
    with pytest.raises(InputError, match="neighbourhood"):
        allocate(deal, level="neighbourhood")
    with pytest.raises(InputError, match="no neighbourhood"):
        allocate(deal, level="neighbourhood", assignment=assignment.head(10))
    with pytest.raises(InputError, match="more than one"):
        allocate(deal, level="neighbourhood", assignment=pl.concat([assignment, assignment.head(1)]))


def test_unknown_level_and_year_are_refused(deal):
    with pytest.raises(InputError, match="unknown level 'region'"):
        allocate(deal, level="region")
    with pytest.raises(InputError, match="2030/31 is not a year"):
        allocate(deal, year="2030/31")
    with pytest.raises(InputError, match="not a financial year"):
        allocate(deal, year="twenty")


def test_a_negative_population_is_refused(deal):
    bad = replace(deal, population=deal.population.with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(-5.0).otherwise(pl.col("population")).alias("population")))
    with pytest.raises(InputError, match="must not be negative"):
        allocate(bad)
    bad = replace(deal, small_areas=deal.small_areas.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(-1).otherwise(pl.col("population")).alias("population")))
    with pytest.raises(InputError, match="must not be negative"):
        allocate(bad)


def test_weights_not_adding_up_to_one_are_refused(deal):
    parameter = deal.parameters["allocation.components.general_acute.weight"]
    bad = replace(deal, parameters=deal.parameters.replaced(parameter.path, parameter.with_value(deal.start, 0.2)))
    with pytest.raises(ParameterError, match="add up to 1"):
        allocate(bad)


def test_a_dated_change_takes_effect_in_its_year_only(deal):
    parameter = deal.parameters["allocation.health_inequalities.weight"]
    later = deal.financial_years[2]
    changed = replace(deal, parameters=deal.parameters.replaced(parameter.path,
                                                                parameter.with_value(later.start, 0.5)))
    base = allocate(deal, level="district")
    result = allocate(changed, level="district")
    def targets(res, year):
        return res.path.filter(pl.col("year") == year.label)["target_pence"].to_list()

    assert targets(result, deal.financial_years[0]) == targets(base, deal.financial_years[0])
    assert targets(result, later) != targets(base, later)


def test_the_same_deal_gives_the_same_allocation(deal):
    a, b = allocate(deal, level="area"), allocate(deal, level="area")
    assert a.table.equals(b.table) and a.path.equals(b.path)
