"""Runs the SPC cases in tests/cases/indicators_spc.yaml: Making Data Count rules on known series."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from devolve.engines.indicators import IndicatorError, xmr_chart

CASES_FILE = Path(__file__).resolve().parents[2] / "cases" / "indicators_spc.yaml"
CASES = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))["cases"]


def _chart(case):
    return xmr_chart(case["values"], direction=case["direction"], target=case.get("target"),
                     baseline_points=case.get("baseline_points"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_spc_case(case):
    if "error" in case:
        with pytest.raises(IndicatorError, match=case["error"]):
            _chart(case)
        return
    chart = _chart(case)
    for key, expected in case["expected"].items():
        got = getattr(chart, key)
        if isinstance(expected, (int, float)) and not isinstance(expected, bool):
            assert got == pytest.approx(expected, abs=1e-6), key
        elif isinstance(expected, list):
            assert list(got) == expected, key
        else:
            assert got == expected, key


def test_the_chart_as_json_names_every_point_with_words():
    chart = xmr_chart([10, 10, 10, 10, 10, 10, 10, 10, 10, 30], direction="lower_is_better", target=15)
    data = chart.to_json()
    assert data["variation_text"].startswith("Special cause variation: concern")
    assert data["assurance_text"].startswith("Hit and miss")
    assert [p["rule"] for p in data["points"]][-1] == "beyond_upper_limit"
