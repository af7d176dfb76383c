"""Runs the readable dated-parameter cases in tests/cases/parameters.yaml."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from devolve.domain import errors
from devolve.domain.parameters import Parameter, ParameterSet
from devolve.domain.scenario import ParameterChange, Scenario

CASES_FILE = Path(__file__).resolve().parents[2] / "cases" / "parameters.yaml"
DOC = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
CASES = DOC["cases"]
KEYS = {"name", "values", "date", "expected", "error", "tolerance", "scenario", "span"}


def _read(case: dict):
    """The parameter set with the case's scenario applied, and the date to read it at."""
    meta = DOC["parameter"]
    parameter = Parameter(meta["path"], meta["description"], meta["unit"], meta["source"],
                          values=tuple(sorted(case["values"].items())))
    parameters = ParameterSet({parameter.path: parameter})
    changes = tuple(ParameterChange(parameter.path, c["start"], c["value"]) for c in case.get("scenario", ()))
    first, last = case.get("span", (None, None))
    applied = Scenario("case", changes).apply(parameters, first=first, last=last)
    return applied, parameter.path, case["date"]


def test_the_case_file_is_well_formed():
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    for case in CASES:
        assert set(case) <= KEYS, f"{case['name']}: unknown keys {set(case) - KEYS}"
        assert ("expected" in case) != ("error" in case), f"{case['name']}: give expected or error"
        assert isinstance(case["date"], date), f"{case['name']}: date must be YYYY-MM-DD"
        assert all(isinstance(d, date) for d in case["values"]), f"{case['name']}: value dates"
        if "error" in case:
            assert issubclass(getattr(errors, case["error"]), errors.DevolveError)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_parameter_case(case):
    if "error" in case:
        with pytest.raises(getattr(errors, case["error"])):
            applied, path, when = _read(case)
            applied.at(path, when)
        return
    applied, path, when = _read(case)
    value = applied.at(path, when)
    expected = case["expected"]
    if "tolerance" in case:
        assert value == pytest.approx(expected, abs=case["tolerance"])
    else:
        assert value == expected
        assert type(value) is type(expected)
