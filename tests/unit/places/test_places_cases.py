"""Runs the readable cases in tests/cases/places_compactness.yaml and places_estate.yaml."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from devolve.domain.records import ESTATE_SCHEMA
from devolve.engines.places import EstateAssumptions, HighsSolver, plan_estate, region_measures

from places_grid import grid

CASES = Path(__file__).resolve().parents[2] / "cases"
COMPACTNESS = yaml.safe_load((CASES / "places_compactness.yaml").read_text(encoding="utf-8"))["cases"]
ESTATE = yaml.safe_load((CASES / "places_estate.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", COMPACTNESS, ids=[c["name"] for c in COMPACTNESS])
def test_compactness_case(case):
    size = max(max(r, c) for r, c in case["cells"]) + 2
    graph = grid(np.full((size, size), 100))
    labels = np.ones(size * size, dtype=np.int64)
    for r, c in case["cells"]:
        labels[r * size + c] = 0
    m = region_measures(graph, labels)
    assert m.area[0] / 1e6 == pytest.approx(case["area_km2"])
    assert m.perimeter[0] / 1e3 == pytest.approx(case["perimeter_km"])
    assert m.compactness[0] == pytest.approx(case["compactness"], abs=1e-6)
    assert bool(m.contiguous[0]) == case.get("contiguous", True)
    assert m.population[0] == 100 * len(case["cells"])


def _register(rows: list[dict]) -> pl.DataFrame:
    full = []
    for i, row in enumerate(rows):
        full.append({"id": row["id"], "name": row["id"], "type": row["type"], "owner": row["owner"], "lon": None,
                     "lat": None, "easting": 0.0, "northing": 0.0, "floor_area_m2": float(row["floor_area_m2"]),
                     "running_cost_pence": int(row["running_cost_gbp"] * 100), "condition": row["condition"],
                     "utilisation": float(row["utilisation"]), "current_use": row.get("current_use", "in use"),
                     "source": "test", "synthetic": True})
    frame = pl.DataFrame(full, schema=dict(ESTATE_SCHEMA))
    return frame.with_columns(pl.lit("N1").alias("neighbourhood"), pl.lit("D1").alias("district"))


@pytest.mark.parametrize("case", ESTATE["cases"], ids=[c["name"] for c in ESTATE["cases"]])
def test_estate_case(case):
    a = ESTATE["assumptions"]
    assumptions = EstateAssumptions(a["target_utilisation"], a["marginal_cost_share"], a["receipt_per_m2_gbp"],
                                    a["disposal_cost_fraction"], a["condition_factor"], a["discount_rate"])
    hub = {"id": "hub", "type": "health_centre", "owner": "p1", **case["hub"]}
    building = {"id": "b", "owner": "p2", **case["building"]}
    buildings = _register([hub, building])
    hubs = pl.DataFrame({"neighbourhood": ["N1"], "hub": ["hub"]})
    plan = plan_estate(buildings, hubs, assumptions, HighsSolver())
    assert (plan.moves["building"].to_list() == ["b"]) == case["moves"]
    released = plan.released.filter(pl.col("building") == "b")
    if case["moves"] or case.get("released"):
        row = released.row(0, named=True)
        assert row["added_cost_pence"] == round(case["added_cost_gbp"] * 100)
        assert row["net_saving_pence"] == round(case["net_saving_gbp"] * 100)
        assert row["capital_receipt_pence"] == round(case["capital_receipt_gbp"] * 100)
        assert row["reason"] == ("vacant" if case.get("released") == "vacant" else "services move into hub hub")
        if case["moves"]:
            assert plan.shared["building"].to_list() == ["hub"]
            assert plan.shared["partners"].to_list() == ["p1;p2"]
    else:
        assert released.height == 0
        assert plan.shared.height == 0
    assert plan.hubs["building"].to_list() == ["hub"]
