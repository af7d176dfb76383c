"""Financial years (1 April to 31 March) and months: parsing, boundaries, order and arithmetic."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devolve.domain.errors import InputError
from devolve.domain.periods import FinancialYear, Month, financial_years

FY_2016 = FinancialYear(2016)
years = st.integers(min_value=1900, max_value=2200).map(FinancialYear)


@pytest.mark.parametrize("text", ["2016/17", "2016-17", "2016/2017", "2016-2017", " 2016 / 17 "])
def test_parse_reads_the_usual_spellings(text):
    assert FinancialYear.parse(text) == FY_2016


def test_parse_across_a_century():
    assert FinancialYear.parse("1999/00") == FinancialYear(1999)
    assert FinancialYear.parse("2099/2100") == FinancialYear(2099)
    assert FinancialYear(1999).label == "1999/00"


def test_parse_passes_a_financial_year_through():
    assert FinancialYear.parse(FY_2016) is FY_2016


@pytest.mark.parametrize("text", ["2016/18", "2016/2018", "2016/16", "x", "", "2016", "16/17",
                                  "2016/1", "2016/017", "2016\\17", "2016 17", 2016])
def test_parse_rejects_what_is_not_a_financial_year(text):
    with pytest.raises(InputError, match="is not a financial year"):
        FinancialYear.parse(text)


def test_parse_says_what_the_second_year_should_be():
    with pytest.raises(InputError, match="2016/17"):
        FinancialYear.parse("2016/18")


@pytest.mark.parametrize(("day", "expected"), [
    (date(2016, 4, 1), 2016),
    (date(2017, 3, 31), 2016),
    (date(2017, 4, 1), 2017),
    (date(2016, 3, 31), 2015),
    (date(2016, 12, 31), 2016),
    (date(2017, 1, 1), 2016),
])
def test_containing_turns_on_1_april(day, expected):
    assert FinancialYear.containing(day) == FinancialYear(expected)


def test_start_end_label_and_membership():
    assert FY_2016.start == date(2016, 4, 1)
    assert FY_2016.end == date(2017, 3, 31)
    assert FY_2016.label == str(FY_2016) == "2016/17"
    assert date(2016, 4, 1) in FY_2016 and date(2017, 3, 31) in FY_2016
    assert date(2016, 3, 31) not in FY_2016 and date(2017, 4, 1) not in FY_2016


def test_months_run_april_to_march_numbered_1_to_12():
    months = FY_2016.months()
    assert [m.label for m in months] == [
        "2016-04", "2016-05", "2016-06", "2016-07", "2016-08", "2016-09",
        "2016-10", "2016-11", "2016-12", "2017-01", "2017-02", "2017-03",
    ]
    assert [m.period for m in months] == list(range(1, 13))
    assert list(months) == sorted(months)
    assert all(m.financial_year == FY_2016 for m in months)


@pytest.mark.parametrize(("month", "period", "year"), [
    (Month(2016, 4), 1, 2016), (Month(2016, 12), 9, 2016), (Month(2017, 1), 10, 2016),
    (Month(2017, 3), 12, 2016), (Month(2017, 4), 1, 2017),
])
def test_month_period_and_financial_year(month, period, year):
    assert month.period == period
    assert month.financial_year == FinancialYear(year)
    assert Month.in_financial_year(FinancialYear(year), period) == month


def test_month_parse_and_label():
    assert Month.parse("2016-04") == Month(2016, 4)
    assert Month.parse("2017-1") == Month(2017, 1)
    assert Month(2016, 4).label == str(Month(2016, 4)) == "2016-04"
    assert Month(2016, 4).start == date(2016, 4, 1)


@pytest.mark.parametrize("text", ["2016/04", "2016-13", "2016-00", "April 2016", "16-04"])
def test_month_parse_rejects_bad_months(text):
    with pytest.raises(InputError):
        Month.parse(text)


@pytest.mark.parametrize("period", [0, 13, -1])
def test_in_financial_year_rejects_a_period_outside_1_to_12(period):
    with pytest.raises(InputError, match="period"):
        Month.in_financial_year(FY_2016, period)


def test_month_out_of_range_is_refused():
    with pytest.raises(InputError):
        Month(2016, 13)


def test_arithmetic_and_order():
    assert (FY_2016 + 4).label == "2020/21"
    assert FY_2016 - 1 == FinancialYear(2015)
    assert FinancialYear(2020) - FY_2016 == 4
    assert FY_2016 < FY_2016 + 1
    assert sorted([FinancialYear(2018), FY_2016, FinancialYear(2017)]) == [FY_2016, FY_2016 + 1, FY_2016 + 2]
    assert {FY_2016: "a"}[FinancialYear.parse("2016-17")] == "a"


def test_financial_years_are_consecutive():
    assert [fy.label for fy in financial_years(FY_2016, 5)] == [
        "2016/17", "2017/18", "2018/19", "2019/20", "2020/21"]
    assert financial_years(FY_2016, 0) == ()


def test_financial_year_is_frozen():
    with pytest.raises(AttributeError):
        FY_2016.start_year = 2017  # type: ignore[misc]


@given(st.dates(min_value=date(1901, 1, 1), max_value=date(2199, 12, 31)))
def test_every_day_lies_in_the_year_containing_it(day):
    fy = FinancialYear.containing(day)
    assert day in fy
    assert fy.start <= day <= fy.end
    assert FinancialYear.containing(fy.end + timedelta(days=1)) == fy + 1


@given(years)
def test_label_parses_back(fy):
    assert FinancialYear.parse(fy.label) == fy
    assert (fy.end - fy.start).days in (364, 365)


@given(years, st.integers(min_value=1, max_value=12))
def test_period_and_month_agree(fy, period):
    month = Month.in_financial_year(fy, period)
    assert month.period == period
    assert month.financial_year == fy
    assert month.start in fy


@given(years, st.integers(min_value=-100, max_value=100))
def test_adding_then_subtracting_years(fy, n):
    assert (fy + n) - fy == n
    assert (fy + n) - n == fy
