"""Neighbourhood outputs: tables, GeoJSON, GeoPackage, an offline HTML map and a PNG, written whole."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pyogrio
import pytest

from devolve.interfaces.report.places import map_figure, map_figure_html, write_neighbourhoods
from devolve.packs.loader import load_deal
from devolve.packs.synthetic import write_synthetic_pack
from devolve.services import places


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    pack = write_synthetic_pack(root / "pack", districts=3, areas_per_district=70, seed=11)
    empty = root / "no-data"
    empty.mkdir()
    deal = load_deal(pack, data_dir=empty)
    return places.build_neighbourhoods(deal, data_dir=empty)


@pytest.fixture(scope="module")
def written(result, tmp_path_factory):
    return write_neighbourhoods(result, tmp_path_factory.mktemp("written") / "out")


def test_a_folder_gets_every_output(written):
    assert set(written) == {"assignment", "summary", "json", "geojson", "geopackage", "map", "png"}
    folder = written["json"].parent
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in written.values())
    header = written["assignment"].read_text(encoding="utf-8").splitlines()[0]
    assert header == "area,neighbourhood,district,population,data"
    assert json.loads(written["json"].read_text(encoding="utf-8"))["data"] == "synthetic"
    assert written["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_gis_files_open_with_gdal(result, written):
    layers = {name for name, _ in pyogrio.list_layers(written["geopackage"])}
    assert layers == {"neighbourhoods", "small_areas", "hubs"}
    hoods = pyogrio.read_dataframe(written["geopackage"], layer="neighbourhoods")
    assert len(hoods) == result.summary.height and hoods.crs.to_epsg() == 27700
    assert set(hoods["data"]) == {"synthetic"}
    geojson = pyogrio.read_dataframe(written["geojson"])
    assert geojson.crs.to_epsg() == 4326 and len(geojson) == result.summary.height
    assert {"neighbourhood", "population", "compactness", "hub"} <= set(geojson.columns)


def test_the_suffix_picks_one_format(result, tmp_path):
    assert set(write_neighbourhoods(result, tmp_path / "hoods.geojson")) == {"geojson"}
    assert set(write_neighbourhoods(result, tmp_path / "areas.csv")) == {"assignment"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["areas.csv", "hoods.geojson"]  # no temporary files left


def test_the_html_map_is_self_contained_and_needs_no_base_map(result, written):
    html = written["map"].read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", html), "the map must not load scripts from the network"
    assert "synthetic data" in html
    figure = map_figure(result)
    # plotly.js fetches its world base map from a CDN when the first trace of a map needs it; ours does not
    first = figure.data[0]
    assert first.type == "scattergeo" and first.locations is None and first.locationmode is None
    assert figure.layout.geo.visible is False and figure.layout.geo.fitbounds == "locations"
    div = map_figure_html(result)
    assert div.lstrip().startswith("<div") and len(div) < len(html) / 2


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="no chromium to open the map in")
def test_the_map_draws_in_a_browser_without_a_network(written, tmp_path):
    import numpy as np
    from PIL import Image

    page = written["map"]
    shot = tmp_path / "shot.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--window-size=800,800",
                    "--proxy-server=http://127.0.0.1:9", "--virtual-time-budget=8000", f"--screenshot={shot}",
                    page.as_uri()], capture_output=True, timeout=120, check=False)
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=int)
    coloured = (pixels.max(axis=2) - pixels.min(axis=2) > 60).mean()
    assert coloured > 0.05  # the neighbourhoods are drawn, not a blank page
