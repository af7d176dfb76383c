"""Reading optimise.yaml and a user's candidates file: clear errors with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from devolve.domain.errors import InputError, PackError
from devolve.packs.loader import load_deal
from devolve.packs.portfolio import read_candidates_file, read_pack_rules
from devolve.services.optimise import optimise_portfolio


@pytest.fixture(scope="module")
def gm(tmp_path_factory):
    return load_deal("greater-manchester-2016", data_dir=tmp_path_factory.mktemp("no-data"))


def test_the_pack_rules(gm):
    rules = read_pack_rules(gm)
    assert rules.scenario == "plan" and rules.synthetic
    assert ("neighbourhood-teams", "digital") in rules.dependencies
    assert rules.candidates["reablement"].scalable and rules.candidates["reablement"].max_scale == 2.0
    assert rules.floors == (("partner", "gm-vcse", 0.03),)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "candidates.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, message", [
    ("candidates:\n  - {scheme: nowhere}\n", "candidates.yaml, line 2, field 'candidates.0.scheme'"),
    ("dependencies:\n  - {scheme: falls, needs: falls}\n", "'dependencies.0.needs': expected another scheme"),
    ("fairness_floors:\n  - {partner: nobody, min_share: 0.1}\n", "field 'fairness_floors.0.partner'"),
    ("fairness_floors:\n  - {district: E08000001, min_share: 2}\n", "a number of at most 1"),
    ("candidates:\n  - {scheme: falls, max_scale: 2}\n", "scalable: true when min_scale or max_scale is given"),
    ("yearly_cash_limits_gbp: {2016/17: 10}\n", "an amount for every year of the deal"),
    ("schemes:\n  - {id: extra, name: X, source: s, investment_gbp: {2016/17: -5}}\n",
     "an amount of money that is not negative"),
    ("colour: blue\n", "an unknown key 'colour'"),
])
def test_bad_files_say_where(gm, tmp_path, text, message):
    with pytest.raises(PackError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_candidates_file(write(tmp_path, text), gm)


def test_a_cycle_in_the_file_is_refused(gm, tmp_path):
    path = write(tmp_path, "dependencies:\n  - {scheme: falls, needs: digital}\n  - {scheme: digital, needs: falls}\n")
    with pytest.raises(InputError, match="cycle: (falls needs digital needs falls|digital needs falls needs digital)"):
        optimise_portfolio(gm, runs=5, candidates_file=path, with_frontier=False)


def test_extra_schemes_join_the_candidates(gm, tmp_path):
    path = write(tmp_path, """
schemes:
  - id: care-navigators
    name: Care navigators in A&E
    source: "synthetic: test scheme"
    synthetic: true
    investment_gbp: {2016/17: 2000000, 2017/18: 2000000}
    effects:
      - {service_line: emergency_admission, min_age: 65, low: -0.02, high: -0.01, ramp_years: 1, lag_years: 0}
candidates:
  - {scheme: care-navigators, scalable: true, min_scale: 0.5, max_scale: 3}
""")
    result = optimise_portfolio(gm, runs=20, candidates_file=path, with_frontier=False)
    table = result.portfolio_table()
    assert "care-navigators" in table["scheme"].to_list()
    row = table.filter(table["scheme"] == "care-navigators").row(0, named=True)
    assert row["max_scale"] == 3.0 and row["expected_saving_gbp"] >= 0
    base = dict(zip(result.problem.ids, result.problem.baseline_scales))
    assert base["care-navigators"] == 0.0 and base["falls"] == 1.0
