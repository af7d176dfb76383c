"""Dated parameters: the value in force on a date, changes that keep history, immutable sets."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devolve.domain.errors import ParameterError
from devolve.domain.parameters import UNITS, Parameter, ParameterSet


def _parameter(path: str = "inflation.pay", *values, source: str = "HM Treasury GDP deflator") -> Parameter:
    return Parameter(path, "NHS pay inflation", "fraction", source, values=tuple(values))


PAY = _parameter("inflation.pay", (date(2016, 4, 1), 0.01), (date(2018, 4, 1), 0.03))
ENDED = _parameter("grant.vanguard", (date(2016, 4, 1), 100), (date(2018, 4, 1), None))
PRICES = _parameter("inflation.prices", (date(2016, 4, 1), 0.02))
TARIFF = _parameter("tariff.ae", (date(2016, 4, 1), 138))
INFLATION_OTHER = _parameter("inflation_other", (date(2016, 4, 1), 1))


@pytest.fixture
def parameters() -> ParameterSet:
    return ParameterSet({p.path: p for p in (PAY, ENDED, PRICES, TARIFF, INFLATION_OTHER)})


# ---------------------------------------------------------------- Parameter.at


@pytest.mark.parametrize(("when", "value"), [
    (date(2016, 4, 1), 0.01),
    (date(2018, 3, 31), 0.01),
    (date(2018, 4, 1), 0.03),
    (date(2030, 1, 1), 0.03),
])
def test_value_in_force(when, value):
    assert PAY.at(when) == value


def test_before_the_first_date_there_is_no_value():
    with pytest.raises(ParameterError, match=r"inflation\.pay.*2016-03-31.*2016-04-01"):
        PAY.at(date(2016, 3, 31))


def test_a_null_ends_the_rule():
    assert ENDED.at(date(2018, 3, 31)) == 100
    with pytest.raises(ParameterError, match="ended"):
        ENDED.at(date(2018, 4, 1))
    with pytest.raises(ParameterError, match="ended"):
        ENDED.at(date(2025, 1, 1))


def test_a_rule_can_start_again_after_it_ended():
    revived = ENDED.with_value(date(2020, 4, 1), 50)
    with pytest.raises(ParameterError, match="ended"):
        revived.at(date(2019, 1, 1))
    assert revived.at(date(2020, 4, 1)) == 50


def test_a_parameter_without_values_raises_a_parameter_error():
    with pytest.raises(ParameterError, match="no dated values"):
        _parameter("empty").at(date(2016, 4, 1))


def test_falsy_values_are_values():
    flag = _parameter("flag", (date(2016, 4, 1), False), (date(2017, 4, 1), 0))
    assert flag.at(date(2016, 5, 1)) is False
    assert flag.at(date(2017, 5, 1)) == 0


# ---------------------------------------------------------------- with_value


def test_with_value_adds_a_date_and_keeps_history():
    changed = PAY.with_value(date(2017, 4, 1), 0.02, "scenario pay")
    assert changed.values == ((date(2016, 4, 1), 0.01), (date(2017, 4, 1), 0.02), (date(2018, 4, 1), 0.03))
    assert changed.source == "HM Treasury GDP deflator; scenario pay"
    assert PAY.values == ((date(2016, 4, 1), 0.01), (date(2018, 4, 1), 0.03))  # the original is untouched


def test_with_value_replaces_a_value_at_the_same_date():
    changed = PAY.with_value(date(2018, 4, 1), 0.05)
    assert changed.values == ((date(2016, 4, 1), 0.01), (date(2018, 4, 1), 0.05))
    assert changed.source == PAY.source
    assert changed.path == PAY.path and changed.unit == PAY.unit


def test_with_value_before_the_first_date():
    changed = PAY.with_value(date(2015, 4, 1), 0.0)
    assert changed.values[0] == (date(2015, 4, 1), 0.0)
    assert changed.at(date(2015, 6, 1)) == 0.0 and changed.at(date(2016, 6, 1)) == 0.01


def test_with_value_none_ends_the_rule_and_a_later_value_restarts_it():
    ended = PAY.with_value(date(2017, 4, 1), None)
    with pytest.raises(ParameterError):
        ended.at(date(2017, 6, 1))
    assert ended.at(date(2018, 6, 1)) == 0.03  # the baseline's next value starts it again
    restarted = ended.with_value(date(2019, 4, 1), 0.04)
    with pytest.raises(ParameterError):
        restarted.at(date(2017, 6, 1))
    assert restarted.at(date(2018, 6, 1)) == 0.03
    assert restarted.at(date(2019, 6, 1)) == 0.04
    assert restarted.at(date(2016, 6, 1)) == 0.01


def test_parameter_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PAY.values = ()  # type: ignore[misc]


history = st.dictionaries(st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
                          st.integers(min_value=-1000, max_value=1000), min_size=1, max_size=8)


@given(history, st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
       st.integers(min_value=-1000, max_value=1000))
def test_with_value_is_in_force_from_its_date_and_changes_nothing_before(values, start, value):
    base = _parameter("p", *sorted(values.items()))
    changed = base.with_value(start, value)
    assert changed.at(start) == value
    assert [d for d, _ in changed.values] == sorted({*values, start})
    day = start - timedelta(days=1)
    if day >= min(values):
        assert changed.at(day) == base.at(day)


# ---------------------------------------------------------------- ParameterSet


def test_lookup_and_reading(parameters):
    assert parameters["inflation.pay"] is PAY
    assert parameters.at("inflation.pay", date(2019, 1, 1)) == 0.03
    assert len(parameters) == 5
    assert list(parameters) == sorted(parameters)
    with pytest.raises(ParameterError, match="there is no parameter 'nope'"):
        parameters["nope"]
    with pytest.raises(ParameterError):
        parameters.at("nope", date(2016, 4, 1))


def test_membership_and_get_behave_like_a_mapping(parameters):
    assert "inflation.pay" in parameters
    assert "nope" not in parameters
    assert parameters.get("nope") is None
    assert parameters.get("inflation.pay") is PAY
    assert dict(parameters.items())["tariff.ae"] is TARIFF


def test_the_set_cannot_be_changed(parameters):
    with pytest.raises(TypeError):
        parameters["inflation.pay"] = PRICES  # type: ignore[index]
    with pytest.raises(TypeError):
        del parameters["inflation.pay"]  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        parameters.parameters["inflation.pay"] = PRICES  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        parameters.parameters = {}  # type: ignore[misc]


def test_the_set_does_not_follow_the_dict_it_was_made_from():
    source = {"inflation.pay": PAY}
    made = ParameterSet(source)
    source["tariff.ae"] = TARIFF
    assert len(made) == 1 and "tariff.ae" not in made


def test_merged_and_replaced_return_new_sets(parameters):
    new_pay = PAY.with_value(date(2017, 4, 1), 0.02)
    merged = parameters.merged({"inflation.pay": new_pay, "new.one": TARIFF})
    assert merged["inflation.pay"] is new_pay and merged["new.one"] is TARIFF
    assert len(merged) == 6
    replaced = parameters.replaced("inflation.pay", new_pay)
    assert replaced["inflation.pay"] is new_pay and len(replaced) == 5
    assert parameters["inflation.pay"] is PAY and len(parameters) == 5
    assert isinstance(merged, ParameterSet) and isinstance(replaced, ParameterSet)


def test_under_selects_by_dotted_prefix(parameters):
    assert sorted(parameters.under("inflation")) == ["inflation.pay", "inflation.prices"]
    assert sorted(parameters.under("inflation.")) == ["inflation.pay", "inflation.prices"]
    assert parameters.under("tariff") == {"tariff.ae": TARIFF}
    assert parameters.under("nothing") == {}


def test_empty_set():
    empty = ParameterSet()
    assert len(empty) == 0 and list(empty) == [] and "x" not in empty


def test_equal_sets_compare_equal(parameters):
    assert ParameterSet(dict(parameters.items())) == parameters


# ---------------------------------------------------------------- units


def test_units_are_described_and_read_only():
    assert {"GBP", "fraction", "count", "persons", "bool", "text"} <= set(UNITS)
    assert all(isinstance(text, str) and text for text in UNITS.values())
    with pytest.raises(TypeError):
        UNITS["furlongs"] = "a distance"  # type: ignore[index]
