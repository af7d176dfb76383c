"""Frozen records of a deal, and the lookups on a loaded deal (Greater Manchester, synthetic areas)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from devolve.domain.parameters import ParameterSet
from devolve.domain.periods import FinancialYear
from devolve.domain.records import District, Partner, PartnerType, Scheme, SchemeEffect, SmallArea
from devolve.packs.loader import load_deal

FY = FinancialYear(2016)


@pytest.fixture(scope="module")
def deal(tmp_path_factory):
    empty = tmp_path_factory.mktemp("no-official-data")
    return load_deal("greater-manchester-2016", data_dir=empty)


def _partner(**contributions) -> Partner:
    return Partner("la-x", "X Council", PartnerType.LOCAL_AUTHORITY, "E0", ("E0",), "s",
                   contributions or {FY: 100})


# ---------------------------------------------------------------- records on their own


def test_partner_is_frozen_and_its_contributions_read_only():
    partner = _partner()
    with pytest.raises(dataclasses.FrozenInstanceError):
        partner.name = "Y Council"  # type: ignore[misc]
    with pytest.raises(TypeError):
        partner.contributions[FY] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        partner.contributions[FY + 1] = 1  # type: ignore[index]


def test_a_record_does_not_follow_the_dict_it_was_made_from():
    money = {FY: 100}
    partner = Partner("p", "P", PartnerType.OTHER, "", (), "s", money)
    money[FY] = 0
    assert partner.contributions[FY] == 100


def test_scheme_investment_is_read_only_and_totals():
    effect = SchemeEffect("ae", 65, -0.1, -0.02, 2, 1)
    scheme = Scheme("s1", "Scheme", "prevention", 1, {FY: 300, FY + 1: 200}, (effect,), "s", True)
    assert scheme.total_investment == 500
    with pytest.raises(TypeError):
        scheme.investment[FY] = 0  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        effect.low = 0.0  # type: ignore[misc]


def test_small_records_are_frozen():
    district = District("E08000003", "Manchester", 529282, 282, "s")
    with pytest.raises(dataclasses.FrozenInstanceError):
        district.population = 1  # type: ignore[misc]
    area = SmallArea("c", "n", "E08000003", None, 1500, 3, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        area.population = 1  # type: ignore[misc]


def test_partner_type_reads_from_its_value():
    assert PartnerType("local_authority") is PartnerType.LOCAL_AUTHORITY


# ---------------------------------------------------------------- a loaded deal


def test_deal_years_and_end(deal):
    assert deal.id == "greater-manchester-2016"
    assert deal.start == date(2016, 4, 1) and deal.years == 5
    assert [fy.label for fy in deal.financial_years] == ["2016/17", "2017/18", "2018/19", "2019/20", "2020/21"]
    assert deal.end == date(2021, 3, 31)


def test_deal_is_frozen_and_its_mappings_read_only(deal):
    with pytest.raises(dataclasses.FrozenInstanceError):
        deal.name = "elsewhere"  # type: ignore[misc]
    for mapping in (deal.pooled_budget, deal.transformation_fund, deal.data, deal.sources):
        key = next(iter(mapping))
        with pytest.raises(TypeError):
            mapping[key] = mapping[key]  # type: ignore[index]
    with pytest.raises(TypeError):
        deal.governance.weights["x"] = 1.0  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        deal.partners[0].name = "x"  # type: ignore[misc]
    assert isinstance(deal.parameters, ParameterSet)
    assert isinstance(deal.partners, tuple) and isinstance(deal.districts, tuple)


def test_deal_money_is_pence_by_financial_year(deal):
    assert set(deal.pooled_budget) == set(deal.financial_years)
    assert all(type(v) is int and v > 0 for v in deal.pooled_budget.values())


def test_partner_lookup(deal):
    bolton = deal.partner("la-bolton")
    assert bolton.name == "Bolton Metropolitan Borough Council"
    assert bolton.type is PartnerType.LOCAL_AUTHORITY
    assert bolton.districts == ("E08000001",)
    assert deal.partner("nhs-england").type is PartnerType.NATIONAL_BODY
    assert [p.id for p in deal.partners_of_type(PartnerType.NATIONAL_BODY)] == ["nhs-england"]
    with pytest.raises(KeyError):
        deal.partner("la-atlantis")


def test_district_lookup(deal):
    assert len(deal.districts) == 10
    manchester = deal.district("E08000003")
    assert manchester.name == "Manchester" and manchester.population == 529282
    with pytest.raises(KeyError):
        deal.district("E08999999")


def test_small_areas_are_synthetic_and_add_up_to_the_districts(deal):
    assert deal.small_areas.height == sum(d.small_areas for d in deal.districts)
    assert deal.total_population == sum(d.population for d in deal.districts)
    assert deal.is_synthetic


def test_small_area_lookup(deal):
    code = deal.small_areas["code"][0]
    area = deal.small_area(code)
    assert isinstance(area, SmallArea)
    assert area.code == code
    assert area.synthetic is True
    assert area.district in {d.code for d in deal.districts}
    assert area.population > 0
    with pytest.raises(KeyError):
        deal.small_area("E01999999")


def test_service_line_lookup(deal):
    line = deal.service_lines[0]
    assert deal.service_line(line.id) is line
    with pytest.raises(KeyError):
        deal.service_line("no-such-line")
