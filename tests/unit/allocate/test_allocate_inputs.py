"""The need indicators a deal carries for the allocation: real from IoD2019 when present, else
seeded synthetic values correlated with deprivation, labelled as such."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from devolve.engines.allocate.need import INDICATORS, indicator_values
from devolve.packs.loader import load_deal
from devolve.packs.small_areas import NEED_SCHEMA, synthetic_need_indicators
from devolve.packs.synthetic import generate_deal


def test_synthetic_small_areas_carry_synthetic_indicators(empty_data):
    deal = load_deal("greater-manchester-2016", data_dir=empty_data)
    small = deal.small_areas
    assert set(NEED_SCHEMA) <= set(small.columns)
    assert deal.data["imd2019-indicators"] == "synthetic"
    assert any("imd2019-indicators" in item for item in deal.synthetic_items)
    assert small.select(NEED_SCHEMA.keys()).null_count().sum_horizontal().item() == 0
    # more deprived (lower IMD rank) areas have more illness and income deprivation, as in the real files
    ranks = small["imd_rank"].to_numpy()
    assert np.corrcoef(ranks, small["illness_ratio"].to_numpy())[0, 1] < -0.5
    assert np.corrcoef(ranks, small["income_rank"].to_numpy())[0, 1] > 0.8
    assert (small["income_numerator"] <= small["population"]).all()


def test_synthetic_indicators_are_the_same_every_time(empty_data):
    deal = generate_deal(districts=2, areas_per_district=15, seed=3)
    again = generate_deal(districts=2, areas_per_district=15, seed=3)
    assert deal.small_areas.equals(again.small_areas)
    other = synthetic_need_indicators(deal.small_areas, "another salt")
    assert not other["illness_ratio"].equals(deal.small_areas["illness_ratio"])


def test_indicator_values_are_rates_and_scores(empty_data):
    deal = generate_deal(districts=2, areas_per_district=15, seed=3)
    values = indicator_values(deal.small_areas)
    assert list(values.columns) == list(INDICATORS)
    small = deal.small_areas
    expected = small["income_numerator"] / small["population"]
    assert np.allclose(values["income"].to_numpy(), expected.to_numpy())
    assert np.allclose(values["illness"].to_numpy(), small["illness_ratio"].to_numpy())


def test_a_deal_without_the_columns_is_refused(empty_data):
    deal = generate_deal(districts=1, areas_per_district=3, seed=1)
    from devolve.domain.errors import InputError
    with pytest.raises(InputError, match="no column"):
        indicator_values(deal.small_areas.drop("ypll"))


@pytest.mark.realdata
def test_real_small_areas_carry_the_iod2019_indicators(real_data):
    deal = load_deal("greater-manchester-2016", data_dir=real_data)
    assert deal.data["imd2019-indicators"] == "real" and deal.data["imd2019-domains"] == "real"
    row = deal.small_areas.filter(pl.col("code") == "E01004766").row(0, named=True)
    # IoD2019 File 8 and File 2 for Bolton 005A
    assert row["income_numerator"] == 290 and row["illness_ratio"] == pytest.approx(148.985)
    assert row["income_rank"] == 8010 and row["health_rank"] == 8733
    # suppressed small counts stay missing (the engine counts them as zero)
    assert deal.small_areas["older_income_numerator"].null_count() > 0
