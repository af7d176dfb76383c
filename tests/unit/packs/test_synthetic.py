"""The synthetic pack generator: small packs load, are reproducible, labelled and add up."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devolve.domain.errors import InputError
from devolve.domain.records import PartnerType
from devolve.packs.loader import load_deal
from devolve.packs.synthetic import generate_deal, write_synthetic_pack

PACK_FILES = ("deal.yaml", "districts.csv", "district_ccgs.csv", "partners.csv", "contributions.csv",
              "budget.yaml", "governance.yaml", "small_areas.csv")


def _load(tmp_path: Path, **kwargs):
    pack = write_synthetic_pack(tmp_path / "pack", **kwargs)
    empty = tmp_path / "no-official-data"
    empty.mkdir(exist_ok=True)
    return pack, load_deal(pack, data_dir=empty)


def _files(pack: Path) -> dict[str, bytes]:
    return {name: (pack / name).read_bytes() for name in PACK_FILES}


def test_small_pack_loads_with_every_file(tmp_path):
    pack, deal = _load(tmp_path, districts=3, areas_per_district=40, seed=7)
    assert sorted(p.name for p in pack.iterdir()) == sorted(PACK_FILES)
    assert len(deal.districts) == 3
    assert deal.small_areas.height == 120
    assert deal.years == 5 and deal.start == date(2016, 4, 1)
    assert deal.data["small-areas"] == "synthetic"


def test_partners_cover_every_kind(tmp_path):
    _, deal = _load(tmp_path, districts=7, areas_per_district=5, seed=1)
    councils = deal.partners_of_type(PartnerType.LOCAL_AUTHORITY)
    ccgs = deal.partners_of_type(PartnerType.COMMISSIONER)
    providers = deal.partners_of_type(PartnerType.NHS_PROVIDER)
    assert [p.id for p in deal.partners_of_type(PartnerType.NATIONAL_BODY)] == ["nhs-england"]
    assert len(councils) == 7
    assert all(1 <= len(c.districts) <= 3 and c.code.startswith("S38") for c in ccgs)
    assert sorted(d for c in ccgs for d in c.districts) == sorted(d.code for d in deal.districts)
    assert providers and all(p.code.startswith("S9R") for p in providers)
    assert all(p.source.startswith("synthetic:") for p in deal.partners)


def test_codes_look_synthetic_and_are_unique(tmp_path):
    _, deal = _load(tmp_path, districts=4, areas_per_district=12)
    assert [d.code for d in deal.districts] == ["S90000001", "S90000002", "S90000003", "S90000004"]
    codes = deal.small_areas["code"]
    assert codes.n_unique() == codes.len()
    assert codes.str.contains(r"^S9\d{7}A\d{5}$").all()


def test_same_seed_writes_identical_files(tmp_path):
    first = write_synthetic_pack(tmp_path / "a", districts=3, areas_per_district=40, seed=11)
    second = write_synthetic_pack(tmp_path / "b", districts=3, areas_per_district=40, seed=11)
    assert _files(first) == _files(second)


def test_different_seed_writes_different_small_areas(tmp_path):
    first = write_synthetic_pack(tmp_path / "a", districts=3, areas_per_district=40, seed=1)
    second = write_synthetic_pack(tmp_path / "b", districts=3, areas_per_district=40, seed=2)
    assert (first / "small_areas.csv").read_bytes() != (second / "small_areas.csv").read_bytes()


def test_contributions_add_up_to_the_pool_every_year(tmp_path):
    _, deal = _load(tmp_path, districts=5, areas_per_district=30, seed=3)
    assert len(deal.pooled_budget) == 5
    for year, pooled in deal.pooled_budget.items():
        assert sum(p.contributions.get(year, 0) for p in deal.partners) == pooled
    per_head = deal.pooled_budget[deal.financial_years[0]] / 100 / deal.total_population
    assert 2_150 < per_head < 2_210


def test_transformation_fund_is_a_share_of_one_years_pool(tmp_path):
    _, deal = _load(tmp_path, districts=2, areas_per_district=50, seed=4)
    one_year = deal.pooled_budget[deal.financial_years[0]]
    assert sum(deal.transformation_fund.values()) == pytest.approx(0.075 * one_year, abs=100)
    assert len(deal.transformation_fund) == 5


def test_every_small_area_is_synthetic_and_adds_up(tmp_path):
    _, deal = _load(tmp_path, districts=3, areas_per_district=40, seed=5)
    areas = deal.small_areas
    assert areas["synthetic"].all()
    assert (areas["pop_0_15"] + areas["pop_16_59"] + areas["pop_60_plus"] == areas["population"]).all()
    assert areas["population"].min() >= 1_000 and areas["population"].max() <= 2_500
    assert areas["imd_decile"].is_between(1, 10).all()
    shares = areas.select(pl.col("pop_0_15", "pop_16_59", "pop_60_plus").sum() / pl.col("population").sum())
    assert shares.row(0) == pytest.approx((0.19, 0.58, 0.23), abs=0.02)
    assert deal.synthetic_items and any("small areas" in item for item in deal.synthetic_items)


def test_district_totals_match_their_small_areas(tmp_path):
    _, deal = _load(tmp_path, districts=6, total_areas=100, seed=6)
    sums = dict(deal.small_areas.group_by("district").agg(pl.col("population").sum()).iter_rows())
    counts = dict(deal.small_areas.group_by("district").len().iter_rows())
    assert sum(d.small_areas for d in deal.districts) == 100
    for d in deal.districts:
        assert sums[d.code] == d.population and counts[d.code] == d.small_areas >= 1


def test_generate_deal_returns_a_loaded_deal():
    deal = generate_deal(districts=2, areas_per_district=10, seed=9, deal_id="tiny-synthetic")
    assert deal.id == "tiny-synthetic"
    assert deal.small_areas.height == 20
    assert deal.population["population"].sum() == pytest.approx(deal.total_population)


@pytest.mark.parametrize("kwargs", [
    {"districts": 0, "areas_per_district": 5},
    {"districts": 2},
    {"districts": 2, "areas_per_district": 5, "total_areas": 10},
    {"districts": 3, "total_areas": 2},
    {"districts": 2, "areas_per_district": 5, "start": date(2016, 1, 1)},
])
def test_bad_arguments_are_refused(tmp_path, kwargs):
    with pytest.raises(InputError):
        write_synthetic_pack(tmp_path / "pack", **kwargs)


def test_refuses_to_overwrite_a_folder(tmp_path):
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "keep.txt").write_text("mine")
    with pytest.raises(InputError):
        write_synthetic_pack(tmp_path / "pack", districts=1, areas_per_district=1)


@settings(max_examples=12, deadline=None)
@given(districts=st.integers(1, 6), areas=st.integers(1, 60), seed=st.integers(0, 2**32 - 1),
       spread=st.booleans())
def test_any_small_pack_loads_and_adds_up(districts, areas, seed, spread):
    sizes = {"total_areas": districts + areas} if spread else {"areas_per_district": areas}
    with tempfile.TemporaryDirectory() as tmp:
        _, deal = _load(Path(tmp), districts=districts, seed=seed, **sizes)
    assert len(deal.districts) == districts
    assert deal.total_population == sum(d.population for d in deal.districts)
    assert deal.small_areas.height == sum(d.small_areas for d in deal.districts)
    for year, pooled in deal.pooled_budget.items():
        assert sum(p.contributions.get(year, 0) for p in deal.partners) == pooled
