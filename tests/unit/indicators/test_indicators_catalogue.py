"""Reading indicators.yaml and the rulebook: the national catalogue, a deal's overrides, and clear
errors for bad definitions."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from devolve.domain.errors import PackError
from devolve.engines.indicators import AgeRange, Catalogue, Indicator, IndicatorError, Measure
from devolve.packs.indicators import read_catalogue
from devolve.packs.loader import BUILTIN_DIR

NATIONAL = BUILTIN_DIR / "national"


def _pack(tmp_path: Path, files: dict[str, str]) -> Path:
    pack = tmp_path / "gm"
    shutil.copytree(BUILTIN_DIR / "greater-manchester-2016", pack)
    for name, text in files.items():
        (pack / name).write_text(text, encoding="utf-8")
    return pack


def test_the_national_catalogue_has_the_indicators_the_issue_names():
    catalogue = read_catalogue()
    ids = {i.id for i in catalogue.indicators}
    assert {"emergency_admissions", "delayed_transfer_days", "reablement_at_home_91_days",
            "care_home_admissions_65", "supported_at_home_65", "preventable_mortality"} <= ids
    assert all(i.source and i.source in catalogue.sources for i in catalogue.indicators)
    emergency = catalogue.indicator("emergency_admissions")
    assert (emergency.standardisation, emergency.standard, emergency.per) == ("direct", "esp2013", 1000)
    assert catalogue.indicator("care_home_admissions_65").denominator.ages == AgeRange(65, None)


def test_the_rulebook_carries_dated_targets_and_directives():
    rules = {r.id: r for r in read_catalogue().national_rules}
    assert rules["dtoc_three_and_a_half_percent"].start == date(2017, 9, 1)
    assert rules["dtoc_three_and_a_half_percent"].measure == "delayed_transfer_share"
    bcf = rules["bcf_minimum_2016_17"]
    assert (bcf.kind, bcf.value, bcf.scale, bcf.end) == ("directive", 3_900_000_000, "per_head_of_england",
                                                         date(2017, 4, 1))
    assert rules["ae_four_hour"].measure == "ae_four_hour" and rules["ae_four_hour"].value == 0.95


def test_a_deal_can_replace_a_national_target_or_be_exempt(tmp_path):
    pack = _pack(tmp_path, {"targets.yaml": """
targets:
  - id: dtoc_three_and_a_half_percent
    indicator: Delayed transfers of care - exempt by agreement with government
    value: 0.035
    unit: fraction
    direction: lower_is_better
    exempt: true
    source: "synthetic: a test exemption"
  - id: gm_emergency_admissions
    indicator: Emergency admissions, local ambition
    measure: emergency_admissions
    value: 110
    unit: per_1000_per_year
    direction: lower_is_better
    source: "synthetic: a test local target"
"""})
    catalogue = read_catalogue(pack)
    local = {r.id: r for r in catalogue.local_rules}
    assert local["dtoc_three_and_a_half_percent"].exempt
    assert local["dtoc_three_and_a_half_percent"].measure == "delayed_transfer_share"  # inherited
    assert local["dtoc_three_and_a_half_percent"].start == date(2017, 9, 1)            # inherited
    assert local["gm_emergency_admissions"].scope == "local"
    assert local["gm_emergency_admissions"].measure == "emergency_admissions"


def test_a_deal_can_redefine_an_indicator(tmp_path):
    pack = _pack(tmp_path, {"indicators.yaml": """
indicators:
  - id: emergency_admissions
    name: Emergency admissions of people aged 65 or over per 1,000
    definition: A local variant.
    numerator: {activity: emergency_admission, min_age: 65}
    denominator: {population: true, min_age: 65}
    per: 1000
    standardisation: {method: none}
    direction: lower_is_better
    unit: per_1000_per_year
    source: "synthetic: a test definition"
"""})
    catalogue = read_catalogue(pack)
    assert catalogue.indicator("emergency_admissions").numerator.ages == AgeRange(65, None)
    assert len(catalogue.indicators) == len(read_catalogue().indicators)


@pytest.mark.parametrize(("body", "field", "expected"), [
    ("""    source: ""\n""", "indicators.0.source", "a non-empty text"),
    ("""    source: x\n    colour: red\n""", "indicators.0.colour", "one of"),
], ids=["no source", "unknown key"])
def test_a_bad_indicator_is_refused_with_file_line_and_field(tmp_path, body, field, expected):
    text = """indicators:
  - id: broken
    name: Broken
    definition: A broken indicator.
    numerator: {activity: emergency_admission}
    denominator: {population: true}
    per: 1000
    direction: lower_is_better
    unit: per_1000_per_year
""" + body
    pack = _pack(tmp_path, {"indicators.yaml": text})
    with pytest.raises(PackError) as caught:
        read_catalogue(pack)
    problem = caught.value.problem
    assert (problem.file, problem.field) == ("indicators.yaml", field)
    assert expected in problem.expected and problem.line is not None


def test_an_unknown_service_line_or_quantity_is_refused(tmp_path):
    text = """indicators:
  - id: broken
    name: Broken
    definition: d
    numerator: {quantity: happiness}
    denominator: {population: true}
    per: 1000
    direction: lower_is_better
    unit: per_1000_per_year
    source: s
"""
    with pytest.raises(PackError, match="numerator.quantity"):
        read_catalogue(_pack(tmp_path, {"indicators.yaml": text}))


def test_a_missing_standard_population_is_a_clear_error(tmp_path):
    text = """indicators:
  - id: standardised
    name: Standardised to a standard the pack lacks
    definition: d
    numerator: {activity: emergency_admission}
    denominator: {population: true}
    per: 1000
    standardisation: {method: direct, standard: who2000}
    direction: lower_is_better
    unit: per_1000_per_year
    source: s
"""
    with pytest.raises(IndicatorError, match="'who2000', which is not a standard population"):
        read_catalogue(_pack(tmp_path, {"indicators.yaml": text}))


def test_records_refuse_an_indicator_without_a_source():
    with pytest.raises(IndicatorError, match="has no source"):
        Indicator("x", "X", "d", Measure("population", "population"), Measure("population", "population"), 1000,
                  "none", None, "lower_is_better", "per_1000_per_year", " ")
    with pytest.raises(IndicatorError, match="names no standard population"):
        Indicator("x", "X", "d", Measure("population", "population"), Measure("population", "population"), 1000,
                  "direct", None, "lower_is_better", "per_1000_per_year", "s")
    with pytest.raises(IndicatorError, match="defined twice"):
        indicator = Indicator("x", "X", "d", Measure("population", "population"), Measure("population", "population"),
                              1, "none", None, "lower_is_better", "fraction", "s")
        Catalogue((indicator, indicator), {}, ())


def test_a_local_target_for_an_unknown_measure_is_refused(tmp_path):
    pack = _pack(tmp_path, {"targets.yaml": """
targets:
  - id: typo
    indicator: A target on a measure that does not exist
    measure: emergency_admission_rate
    value: 100
    unit: per_1000_per_year
    direction: lower_is_better
    source: "synthetic: a test"
"""})
    with pytest.raises(PackError) as caught:
        read_catalogue(pack)
    assert caught.value.problem.field == "targets.0.measure"
    assert "emergency_admissions" in caught.value.problem.expected
