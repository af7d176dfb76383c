"""The estate register: the shipped Greater Manchester register, and clear errors for bad rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import shapely

from devolve.domain.errors import PackError
from devolve.domain.records import BUILDING_TYPES
from devolve.packs.estate import read_estate, register_csv, synthetic_register
from devolve.packs.loader import BUILTIN_DIR, load_deal

HEADER = "id,name,type,owner,lon,lat,easting,northing,floor_area_m2,running_cost_gbp,condition,utilisation,current_use,source"
GOOD = "b1,Town library,library,la-x,-2.24,53.48,,,1200,90000,B,0.6,library,test register"


def _write(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    (tmp_path / "estate.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return tmp_path


def _problem(tmp_path: Path, *rows: str, header: str = HEADER):
    with pytest.raises(PackError) as caught:
        read_estate(_write(tmp_path, *rows, header=header), "estate.csv", ["la-x", "nhs-y"])
    return caught.value.problem


def test_a_good_register_reads_with_both_coordinate_pairs(tmp_path):
    frame = read_estate(_write(tmp_path, GOOD, "b2,Clinic,clinic,nhs-y,,,383000,398000,500,£40000.50,a,0,vacant,x"),
                        "estate.csv", ["la-x", "nhs-y"])
    first, second = frame.row(0, named=True), frame.row(1, named=True)
    assert 380_000 < first["easting"] < 390_000 and 395_000 < first["northing"] < 402_000   # central Manchester
    assert -2.3 < second["lon"] < -2.2 and 53.4 < second["lat"] < 53.5
    assert second["running_cost_pence"] == 4_000_050 and second["condition"] == "A"
    assert frame["synthetic"].to_list() == [False, False]


@pytest.mark.parametrize("row, field, line", [
    (GOOD.replace("la-x", "la-unknown"), "owner", 2),
    (GOOD.replace("-2.24", "12.5"), "lon", 2),
    (GOOD.replace("53.48", "-53.48"), "lat", 2),
    (GOOD.replace("90000", "-90000"), "running_cost_gbp", 2),
    (GOOD.replace(",library,la-x", ",castle,la-x"), "type", 2),
    (GOOD.replace(",B,", ",E,"), "condition", 2),
    (GOOD.replace(",0.6,", ",1.4,"), "utilisation", 2),
    (GOOD.replace(",1200,", ",0,"), "floor_area_m2", 2),
    (GOOD.replace("-2.24,53.48", ","), "lon", 2),
])
def test_a_bad_row_names_its_line_and_field(tmp_path, row, field, line):
    problem = _problem(tmp_path, row)
    assert (problem.file, problem.field, problem.line) == ("estate.csv", field, line)


def test_a_repeated_id_and_disagreeing_coordinates_are_refused(tmp_path):
    problem = _problem(tmp_path, GOOD, GOOD)
    assert (problem.field, problem.line) == ("id", 3)
    problem = _problem(tmp_path, GOOD.replace(",,,1200", ",500000,500000,1200"))
    assert (problem.field, problem.line) == ("easting", 2)


def test_a_pack_with_a_bad_register_does_not_load(tmp_path, empty_data):
    pack = tmp_path / "gm"
    shutil.copytree(BUILTIN_DIR / "greater-manchester-2016", pack)
    lines = (pack / "estate.csv").read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace("gm-primary-care", "no-such-partner", 1)
    (pack / "estate.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(PackError, match=r"estate.csv, line 6, field 'owner'"):
        load_deal(pack, data_dir=empty_data)


def test_the_greater_manchester_register_is_synthetic_labelled_and_owned_by_partners(empty_data):
    deal = load_deal("greater-manchester-2016", data_dir=empty_data)
    estate = deal.estate
    partners = {p.id for p in deal.partners}
    assert estate.height > 500
    assert estate["synthetic"].all()
    assert all(source.startswith("synthetic") for source in estate["source"])
    assert all("(synthetic)" in name for name in estate["name"])
    assert set(estate["owner"]) <= partners
    assert set(estate["type"]) <= set(BUILDING_TYPES)
    assert any("estate register" in item for item in deal.synthetic_items)
    # inside Greater Manchester's bounding box (British National Grid)
    assert estate["easting"].is_between(351_000, 407_000).all()
    assert estate["northing"].is_between(381_000, 421_000).all()


def test_other_deals_may_have_no_register(empty_data):
    assert load_deal("london-pilots-2017", data_dir=empty_data).estate.height == 0


@pytest.mark.realdata
@pytest.mark.slow
def test_the_shipped_register_is_the_documented_generator_output_inside_real_boundaries(real_data):
    from devolve.services.places import small_area_geometry

    deal = load_deal("greater-manchester-2016", data_dir=real_data)
    polygons, origin = small_area_geometry(deal, real_data)
    assert origin.startswith("real")
    frame = synthetic_register(deal.partners, {d.code: d.name for d in deal.districts},
                               deal.small_areas["code"].to_list(), deal.small_areas["district"].to_list(),
                               deal.small_areas["population"].to_list(), polygons.geometry.values, seed=2016)
    shipped = (BUILTIN_DIR / "greater-manchester-2016" / "estate.csv").read_text(encoding="utf-8")
    assert register_csv(frame) == shipped
    points = shapely.points(deal.estate["easting"].to_numpy(), deal.estate["northing"].to_numpy())
    inside = shapely.STRtree(polygons.geometry.values).query(points, predicate="within")[0]
    assert np.unique(inside).size == deal.estate.height
