"""The places service on whole deals: synthetic Greater Manchester (fast), real Greater Manchester (when present)."""

from __future__ import annotations


import numpy as np
import polars as pl
import pytest

from devolve.domain.errors import InputError
from devolve.packs.loader import load_deal
from devolve.services import places

CONTRACT = {"neighbourhoods", "within_band", "contiguous", "min_population", "max_population", "mean_compactness",
            "unsplittable_districts", "data", "items"}
ITEM = {"id", "district", "population", "small_areas", "compactness"}


@pytest.fixture(scope="module")
def synthetic_gm(tmp_path_factory):
    folder = tmp_path_factory.mktemp("no-data")
    deal = load_deal("greater-manchester-2016", data_dir=folder)
    return deal, places.build_neighbourhoods(deal, data_dir=folder)


def test_synthetic_areas_get_labelled_synthetic_geometry_and_a_full_contract(synthetic_gm):
    deal, result = synthetic_gm
    payload = result.to_json()
    assert CONTRACT <= set(payload)
    assert all(ITEM <= set(item) for item in payload["items"])
    assert payload["data"] == "synthetic" and result.geometry_origin.startswith("synthetic")
    assert payload["neighbourhoods"] == len(payload["items"]) == result.summary.height
    assert payload["within_band"] == payload["contiguous"] == payload["neighbourhoods"]
    assert 30000 <= payload["min_population"] <= payload["max_population"] <= 50000
    assert payload["unsplittable_districts"] == []
    assert sum(item["population"] for item in payload["items"]) == deal.total_population


def test_assignment_summary_and_geometry_agree(synthetic_gm):
    deal, result = synthetic_gm
    assignment = result.assignment
    assert sorted(assignment["area"].to_list()) == sorted(deal.small_areas["code"].to_list())
    assert set(assignment.columns) >= {"area", "neighbourhood", "district"}
    counted = dict(assignment.group_by("neighbourhood").len().iter_rows())
    assert counted == dict(zip(result.summary["neighbourhood"], result.summary["small_areas"]))
    assert result.geometry.crs.to_epsg() == 27700 and len(result.geometry) == result.summary.height
    ages = [c for c in result.summary.columns if c.startswith("age_")]
    assert len(ages) == len(deal.age_bands)
    totals = result.summary.select(pl.sum_horizontal(ages)).to_series()
    assert np.allclose(totals.to_numpy(), result.summary["population"].to_numpy(), atol=0.5)  # bands rounded to 0.1
    shares = result.summary.select(pl.sum_horizontal([f"imd_q{q}_share" for q in range(1, 6)])).to_series()
    assert np.allclose(shares.to_numpy(), 1.0, atol=1e-3)
    # the register's real locations do not fall in synthetic cells: every hub is a centre, said so
    assert set(result.summary["hub"]) == {"no building"}


def test_the_band_can_be_overridden_and_a_bad_band_is_refused(synthetic_gm):
    deal, _ = synthetic_gm
    assert places.resolve_band(deal) == (30000, 50000)
    assert places.resolve_band(deal, 20000, None) == (20000, 50000)
    with pytest.raises(InputError, match=r"minimum \(50,000\) is above its maximum \(30,000\)"):
        places.resolve_band(deal, 50000, 30000)
    with pytest.raises(InputError, match="--min must be at least 1"):
        places.resolve_band(deal, 0, None)


def test_a_narrower_band_and_a_start_from_msoas(synthetic_gm, tmp_path):
    deal, _ = synthetic_gm
    result = places.build_neighbourhoods(deal, data_dir=tmp_path, band=(20000, 25000), seed=4, start="msoa")
    payload = result.to_json()
    assert payload["within_band"] == payload["neighbourhoods"]
    assert 20000 <= payload["min_population"] and payload["max_population"] <= 25000
    assert payload["start"]["groups"] > payload["neighbourhoods"]
    assert 0 <= payload["start"]["moved_share"] < 0.5


def test_a_real_looking_area_without_boundaries_is_a_clear_error(tmp_path):
    from devolve.packs.synthetic import write_synthetic_pack

    pack = write_synthetic_pack(tmp_path / "pack", districts=2, areas_per_district=30, seed=3)
    text = (pack / "small_areas.csv").read_text(encoding="utf-8")
    (pack / "small_areas.csv").write_text(text.replace(",true\n", ",false\n"), encoding="utf-8")
    empty = tmp_path / "no-data"
    empty.mkdir()
    deal = load_deal(pack, data_dir=empty)
    with pytest.raises(InputError, match=r"district S9000000\d .*small areas have no boundaries"):
        places.build_neighbourhoods(deal, data_dir=empty)


@pytest.mark.realdata
@pytest.mark.slow
def test_greater_manchester_on_real_boundaries_meets_the_band_and_houses_every_hub(real_data):
    deal = load_deal("greater-manchester-2016", data_dir=real_data)
    result = places.build_neighbourhoods(deal, data_dir=real_data)
    payload = result.to_json()
    assert payload["data"] == "real" and result.geometry_origin.startswith("real")
    assert payload["neighbourhoods"] == payload["within_band"] == payload["contiguous"] >= 60
    assert payload["min_population"] >= 30000 and payload["max_population"] <= 50000
    assert payload["unsplittable_districts"] == []
    per_hood = result.assignment.group_by("neighbourhood").agg(pl.col("district").n_unique())
    assert per_hood["district"].max() == 1
    assert payload["hubs_in_buildings"] == payload["neighbourhoods"]
    assert payload["mean_compactness"] > 0.4
    estate = places.estate_plan(deal, result)
    summary = estate.to_json()
    assert summary["synthetic"] is True and summary["buildings_outside"] == 0
    assert summary["shared_buildings"] > 0 and summary["released_buildings"] > 0
    assert summary["running_cost_saving_gbp_per_year"] > 0 and summary["capital_receipts_gbp"] > 0
    released = estate.plan.released
    assert released["net_saving_pence"].sum() == round(summary["running_cost_saving_gbp_per_year"] * 100)
    hubs = set(estate.hubs["hub"])
    assert not hubs & set(released["building"])  # a hub is never released
    assert set(estate.plan.moves["hub"]) <= hubs
