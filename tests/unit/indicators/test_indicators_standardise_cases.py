"""Runs the rate cases in tests/cases/indicators_standardisation.yaml (hand-computed and PHE's
published worked example), and checks the ESP2013 aggregation to devolve's age bands."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from devolve.engines.indicators import IndicatorError
from devolve.engines.indicators.standardise import crude_rate, directly_standardised_rate, proportion
from devolve.packs.indicators import read_catalogue

CASES_FILE = Path(__file__).resolve().parents[2] / "cases" / "indicators_standardisation.yaml"
DOC = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))


def _run(case: dict):
    confidence = case.get("confidence", 0.95)
    if case["method"] == "direct":
        return directly_standardised_rate([case["counts"]], [case["denominators"]], np.array(case["weights"]),
                                          case["per"], confidence)
    if case["method"] == "crude":
        return crude_rate(np.array([case["counts"]]), np.array([case["denominators"]]), case["per"], confidence)
    return proportion(np.array([case["counts"]]), np.array([case["denominators"]]), confidence)


@pytest.mark.parametrize("case", DOC["cases"], ids=[c["name"] for c in DOC["cases"]])
def test_rate_case(case):
    if "error" in case:
        with pytest.raises(IndicatorError, match=case["error"]):
            _run(case)
        return
    estimate = _run(case)
    tolerance = case.get("tolerance", 1e-6)
    for key, expected in case["expected"].items():
        assert getattr(estimate, key)[0] == pytest.approx(expected, abs=tolerance), key


def test_esp2013_aggregates_to_devolve_bands_as_worked_by_hand():
    spec = DOC["band_weights"]
    standard = read_catalogue().standards[spec["standard"]]
    weights = standard.band_weights(spec["bands"])
    assert weights == pytest.approx(spec["expected"])
    assert sum(weights.values()) == pytest.approx(100_000)


def test_an_open_group_cannot_be_split_across_bands():
    standard = read_catalogue().standards["esp2013"]
    with pytest.raises(IndicatorError, match="cannot be split"):
        standard.band_weights(["0-89", "90-99", "100+"])
