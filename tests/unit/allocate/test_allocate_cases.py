"""Runs the hand-worked formula cases in tests/cases/allocation_components.yaml and allocation_pace.yaml."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from devolve.domain import errors
from devolve.domain.parameters import Parameter, ParameterSet
from devolve.engines.allocate import need, pace
from devolve.engines.allocate.policy import PaceOfChange, band_key, policy_from_parameters

CASES = Path(__file__).resolve().parents[2] / "cases"
COMPONENTS = yaml.safe_load((CASES / "allocation_components.yaml").read_text(encoding="utf-8"))
PACE = yaml.safe_load((CASES / "allocation_pace.yaml").read_text(encoding="utf-8"))
WHEN = date(2016, 4, 1)


def _parameter(path: str, value, unit: str = "index") -> Parameter:
    return Parameter(path, path, unit, "test case", ((WHEN, value),))


def _parameters(case: dict) -> ParameterSet:
    doc = COMPONENTS
    out = []
    for cid, spec in case["components"].items():
        out.append(_parameter(f"allocation.components.{cid}.weight", spec["weight"], "fraction"))
        out.append(_parameter(f"allocation.components.{cid}.cost_adjusted", spec["cost_adjusted"], "bool"))
        for leaf, value in spec["cost_curve"].items():
            out.append(_parameter(f"allocation.cost_curve.{cid}.{leaf}", value))
        for indicator, beta in spec["need"].items():
            out.append(_parameter(f"allocation.need.{cid}.{indicator}", beta, "weight"))
    for indicator, (mean, sd) in doc["references"].items():
        out.append(_parameter(f"allocation.indicator_reference.{indicator}.mean", mean))
        out.append(_parameter(f"allocation.indicator_reference.{indicator}.sd", sd))
    hi = case.get("health_inequalities", {"weight": 0.0, "gradient": 0.0, "indicator": "premature_mortality"})
    out += [_parameter("allocation.health_inequalities.weight", hi["weight"], "fraction"),
            _parameter("allocation.health_inequalities.gradient", hi["gradient"], "weight"),
            _parameter("allocation.health_inequalities.indicator", hi["indicator"], "text"),
            _parameter("allocation.cost_adjustment.default", 1.0)]
    out += [_parameter(f"allocation.cost_adjustment.{d}", v) for d, v in doc["market_forces"].items()]
    out += [_parameter("allocation.pace_of_change.min_growth", 0.0, "fraction_per_year"),
            _parameter("allocation.pace_of_change.max_under_target", 0.05, "fraction"),
            _parameter("allocation.pace_of_change.over_target_growth_cap", 0.0, "fraction_per_year"),
            _parameter("allocation.pace_of_change.convergence", 1.0, "fraction")]
    return ParameterSet({p.path: p for p in out})


def _inputs():
    doc = COMPONENTS
    bands = tuple(doc["age_bands"])
    names = list(doc["areas"])
    pop = np.array([[doc["areas"][a]["population"][f"{sex}_{band_key(b)}"] for b in bands for sex in ("f", "m")]
                    for a in names], dtype=float)
    values = pl.DataFrame({k: [float(doc["areas"][a]["indicators"][k]) for a in names]
                           for k in doc["areas"][names[0]]["indicators"]})
    districts = [doc["areas"][a]["district"] for a in names]
    return bands, names, pop, values, districts


@pytest.mark.parametrize("case", COMPONENTS["cases"], ids=[c["name"] for c in COMPONENTS["cases"]])
def test_component_case(case):
    bands, names, pop, values, districts = _inputs()
    parameters = _parameters(case)
    if "error" in case:
        with pytest.raises(getattr(errors, case["error"])):
            policy = policy_from_parameters(parameters, WHEN, bands, need.INDICATOR_NAMES)
            factor = np.array([policy.cost_adjustment.get(d, policy.default_cost_adjustment) for d in districts])
            need.fair_shares(pop, need.standardised(values, policy), factor, policy)
        return
    policy = policy_from_parameters(parameters, WHEN, bands, need.INDICATOR_NAMES)
    factor = np.array([policy.cost_adjustment.get(d, policy.default_cost_adjustment) for d in districts])
    z = need.standardised(values, policy)
    wp = need.weighted_populations(pop, z, factor, policy)
    for j, component in enumerate(policy.components):
        expected = case.get("expected_weighted_population", {}).get(component.id)
        if expected is not None:
            got = dict(zip(names, wp[:, j]))
            for area, value in expected.items():
                assert got[area] == pytest.approx(value, abs=case.get("tolerance", 1e-4)), (component.id, area)
    share, _ = need.fair_shares(pop, z, factor, policy)
    assert share.sum() == pytest.approx(1.0, abs=1e-12)
    for area, value in case["expected_share"].items():
        assert share[names.index(area)] == pytest.approx(value, abs=case.get("tolerance", 1e-6)), area


@pytest.mark.parametrize("case", PACE["cases"], ids=[c["name"] for c in PACE["cases"]])
def test_pace_case(case):
    policy = PaceOfChange(**case["policy"])
    prev, target = np.array(case["prev"], float), np.array(case["target"], float)
    if "error" in case:
        with pytest.raises(getattr(errors, case["error"])):
            pace.step(prev, target, float(case["pool"]), policy)
        return
    got = pace.step(prev, target, float(case["pool"]), policy)
    assert got.sum() == pytest.approx(case["pool"], abs=1e-9)
    assert got == pytest.approx(np.array(case["expected"], float), abs=case.get("tolerance", 1e-6))


def test_the_case_files_cover_every_national_component(tmp_path):
    """Each component of the national formula has at least one hand-worked case."""
    from devolve.packs.loader import read_national
    national = read_national()
    components = {p.split(".")[2] for p in national.parameters if p.startswith("allocation.components.")}
    covered = {cid for case in COMPONENTS["cases"] if "error" not in case for cid in case["components"]}
    assert components <= covered, components - covered
