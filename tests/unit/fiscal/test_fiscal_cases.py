"""Runs the readable fiscal lever cases in tests/cases/forecast_levers.yaml."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
import yaml

from devolve.engines.fiscal.levers import DRAWS, FiscalLevers, health_tax_revenue, rates_discount

CASES_FILE = Path(__file__).resolve().parents[2] / "cases" / "forecast_levers.yaml"
CASES = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))["cases"]
SCALARS = {"ramp_years", "half_collection_rate", "half_uptake", "half_absence_reduction", "half_demand_effect"}


def _levers(case: dict) -> FiscalLevers:
    years = len(case["residents"])
    values = {}
    for f in fields(FiscalLevers):
        given = case["levers"].get(f.name)
        if f.name == "demand_lines":
            values[f.name] = ()
        elif f.name in SCALARS:
            values[f.name] = float(given or 0.0)
        else:
            values[f.name] = np.array(given if given is not None else [0.0] * years, dtype=float)
    return FiscalLevers(**values)


def _draw(case: dict, name: str) -> np.ndarray:
    return np.array([float(case.get("z", {}).get(name, 0.0))])


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_lever_case(case):
    levers = _levers(case)
    residents = np.array([case["residents"]], dtype=float)
    working = np.array([case["working_age"]], dtype=float)
    z = {name: _draw(case, name) for name in DRAWS}
    results = {"revenue": health_tax_revenue(levers, residents, working, z["collection_rate"])[0]}
    outcome = rates_discount(levers, float(case["residents"][0]), working, z["uptake"], z["absence_reduction"],
                             z["demand_effect"])
    results |= {f.name: getattr(outcome, f.name)[0] for f in fields(outcome)}
    for name, expected in case["expected"].items():
        np.testing.assert_allclose(results[name], expected, rtol=case.get("tolerance", 1e-9), atol=1e-9,
                                   err_msg=f"{case['name']}: {name}")


def test_the_case_file_is_well_formed():
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))
    for case in CASES:
        assert set(case) <= {"name", "levers", "residents", "working_age", "z", "expected", "tolerance"}
        assert len(case["residents"]) == len(case["working_age"])
        assert set(case.get("z", {})) <= set(DRAWS)
