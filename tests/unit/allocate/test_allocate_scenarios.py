"""Scenario files: read, checked against the deal, applied; and their effect on fair shares."""

from __future__ import annotations

from datetime import date

import pytest

from devolve.domain.errors import ScenarioError
from devolve.engines.allocate import allocate
from devolve.packs.loader import load_deal
from devolve.packs.scenarios import apply_scenario, read_scenario


@pytest.fixture(scope="module")
def deal(tmp_path_factory):
    return load_deal("greater-manchester-2016", data_dir=tmp_path_factory.mktemp("no-data"))


def _write(tmp_path, text: str):
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_mapping_with_changes_is_read(tmp_path, deal):
    path = _write(tmp_path, """
name: faster-pace
description: nobody more than 2% under target
changes:
  - path: allocation.pace_of_change.max_under_target
    value: 0.02
  - path: allocation.pace_of_change.min_growth
    from: 2018/19
    value: -0.02
    note: agreed in March 2018
""")
    scenario = read_scenario(path, default_start=deal.start)
    assert scenario.name == "faster-pace"
    assert [c.start for c in scenario.changes] == [date(2016, 4, 1), date(2018, 4, 1)]
    applied = apply_scenario(deal, scenario)
    assert applied.parameters.at("allocation.pace_of_change.max_under_target", date(2016, 4, 1)) == 0.02
    assert applied.parameters.at("allocation.pace_of_change.min_growth", date(2017, 4, 1)) == -0.01
    assert applied.parameters.at("allocation.pace_of_change.min_growth", date(2018, 4, 1)) == -0.02
    assert "scenario faster-pace" in applied.parameters["allocation.pace_of_change.min_growth"].source
    assert deal.parameters.at("allocation.pace_of_change.max_under_target", date(2016, 4, 1)) == 0.05


def test_a_bare_list_is_a_scenario_named_after_its_file(tmp_path, deal):
    path = _write(tmp_path, "- {path: allocation.health_inequalities.weight, from: 2016-04-01, value: 0.2}\n")
    scenario = read_scenario(path)
    assert scenario.name == "scenario" and scenario.changes[0].value == 0.2


def test_a_scenario_changes_the_allocation(tmp_path, deal):
    path = _write(tmp_path, "- {path: allocation.health_inequalities.weight, value: 0.5}\n")
    applied = apply_scenario(deal, read_scenario(path, default_start=deal.start))
    base, changed = allocate(deal, level="district"), allocate(applied, level="district")
    assert base.table["target_pence"].to_list() != changed.table["target_pence"].to_list()
    assert int(changed.table["target_pence"].sum()) == changed.pool_pence


@pytest.mark.parametrize("text, message", [
    ("- {path: allocation.nothing.here, value: 1}\n", "not a parameter of greater-manchester-2016"),
    ("- {path: allocation.health_inequalities.weight, from: 2030-04-01, value: 0.2}\n", "outside the deal's years"),
    ("- {path: allocation.health_inequalities.weight, value: lots}\n", "takes a number"),
    ("- {path: allocation.components.general_acute.cost_adjusted, value: 3}\n", "takes true or false"),
    ("- {path: allocation.health_inequalities.weight}\n", "field '0.value'"),
    ("- {path: allocation.health_inequalities.weight, value: 0.2, when: 2017}\n", "field '0.when'"),
    ("- {path: allocation.health_inequalities.weight, from: 2016-13-01, value: 0.2}\n", "field '0.from'"),
    ("changes: []\n", "at least one parameter change"),
    ("name: x\nchanges: {a: 1}\n", "expected a list"),
    ("- [unclosed\n", "valid YAML"),
])
def test_bad_scenarios_say_what_and_where(tmp_path, deal, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace(")", r"\)")):
        apply_scenario(deal, read_scenario(path, default_start=deal.start))


def test_a_missing_scenario_file(tmp_path):
    with pytest.raises(ScenarioError, match="does not exist"):
        read_scenario(tmp_path / "nowhere.yaml")
