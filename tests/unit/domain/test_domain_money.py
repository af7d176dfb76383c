"""Money: exact pence, human formatting and Hamilton's largest-remainder split."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from devolve.domain.errors import InputError
from devolve.domain.money import format_gbp, pence_to_pounds, pounds_to_pence, split_largest_remainder

# ---------------------------------------------------------------- pounds and pence


@pytest.mark.parametrize(("value", "pence"), [
    ("12.34", 1234),
    ("6000000000", 600_000_000_000),
    (5, 500),
    (0, 0),
    ("0.01", 1),
    (Decimal("0.01"), 1),
    ("12.340", 1234),
    ("£1,234.56", 123_456),
    ("-12.34", -1234),
    (" 7 ", 700),
    ("1e3", 100_000),
    (np.int64(3), 300),
])
def test_pounds_to_pence_is_exact(value, pence):
    result = pounds_to_pence(value)
    assert result == pence
    assert type(result) is int


@pytest.mark.parametrize("value", [1.5, 0.1, 12.0, np.float64(1.0), True, False])
def test_floats_and_bools_are_refused(value):
    with pytest.raises(InputError, match="float"):
        pounds_to_pence(value)


@pytest.mark.parametrize("value", ["0.001", "12.345", Decimal("0.005"), "1e-3"])
def test_fractions_of_a_penny_are_refused(value):
    with pytest.raises(InputError, match="fraction of a penny"):
        pounds_to_pence(value)


@pytest.mark.parametrize("value", ["abc", "", "£", None, "NaN", "Infinity", "-inf", "1e", [1], "12.34p"])
def test_non_numbers_are_refused(value):
    with pytest.raises(InputError, match="not an amount of money"):
        pounds_to_pence(value)


def test_pence_to_pounds_is_an_exact_decimal():
    assert pence_to_pounds(1234) == Decimal("12.34")
    assert pence_to_pounds(-5) == Decimal("-0.05")
    assert isinstance(pence_to_pounds(1), Decimal)


@given(st.integers(min_value=-10**18, max_value=10**18))
def test_pence_round_trip_through_pounds(pence):
    assert pounds_to_pence(pence_to_pounds(pence)) == pence
    assert pounds_to_pence(str(pence_to_pounds(pence))) == pence


# ---------------------------------------------------------------- format_gbp


@pytest.mark.parametrize(("pence", "text"), [
    (600_000_000_000, "£6.00bn"),
    (45_000_000_000, "£450.0m"),
    (1_234_500, "£12,345"),
    (0, "£0"),
    (-45_000_000_000, "-£450.0m"),
    (-1_234_500, "-£12,345"),
    (100_000_000, "£1.0m"),
    (100_000_000_000, "£1.00bn"),
    (99_999_949, "£999,999"),
    (1_234_567_890_000, "£12.35bn"),
    # the unit is chosen on the figure as shown: no '£1,000.0m', no '-£0'
    (99_999_999_999, "£1.00bn"),
    (99_999_999, "£1.0m"),
    (-1, "£0"),
    (-49, "£0"),
])
def test_format_gbp(pence, text):
    assert format_gbp(pence) == text


def test_format_gbp_in_pounds_when_asked():
    assert format_gbp(600_000_000_000, unit="GBP") == "£6,000,000,000"


# ---------------------------------------------------------------- split_largest_remainder


def test_split_examples():
    assert split_largest_remainder(10, [1, 1, 1]) == [4, 3, 3]
    assert split_largest_remainder(0, [1, 2, 3]) == [0, 0, 0]
    assert split_largest_remainder(7, [5]) == [7]
    assert split_largest_remainder(100, [0.5, 0.25, 0.25]) == [50, 25, 25]
    assert split_largest_remainder(np.int64(5), np.array([1.0, 0.0, 1.0])) == [3, 0, 2]
    assert all(type(p) is int for p in split_largest_remainder(10, [1, 2]))


def test_split_serves_thirty_thousand_areas():
    weights = np.random.default_rng(3).uniform(0.5, 1.5, size=30_000)
    parts = split_largest_remainder(2_752_015, weights)
    assert len(parts) == 30_000 and sum(parts) == 2_752_015


@pytest.mark.parametrize(("total", "weights"), [
    (-1, [1, 1]),
    (10, [-1, 2]),
    (10, [float("nan"), 1]),
    (10, [float("inf"), 1]),
    (10, [0, 0]),
    (10, []),
    (10.5, [1, 1]),
    (10.0, [1, 1]),
    ("10", [1, 1]),
    (True, [1]),
    (10, ["a", "b"]),
    (10, [[1, 2], [3, 4]]),
])
def test_split_refuses_bad_input(total, weights):
    with pytest.raises(InputError):
        split_largest_remainder(total, weights)


totals = st.integers(min_value=0, max_value=10**12)
int_weights = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30).filter(
    lambda ws: sum(ws) > 0)


def _exact_shares(total: int, weights: list[int]) -> list[Fraction]:
    whole = sum(weights)
    return [Fraction(total * w, whole) for w in weights]


@given(totals, int_weights)
def test_parts_add_up_and_each_is_within_one_of_its_share(total, weights):
    parts = split_largest_remainder(total, weights)
    assert len(parts) == len(weights)
    assert sum(parts) == total
    for part, share in zip(parts, _exact_shares(total, weights)):
        assert part >= 0
        assert abs(part - share) < 1


@given(st.integers(min_value=0, max_value=10**9),
       st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=30).filter(
           lambda ws: sum(ws) > 0))
def test_float_weights_add_up_too(total, weights):
    parts = split_largest_remainder(total, weights)
    assert sum(parts) == total
    assert all(p >= 0 for p in parts)


@given(totals, int_weights)
def test_zero_weights_get_nothing(total, weights):
    parts = split_largest_remainder(total, weights)
    assert all(p == 0 for p, w in zip(parts, weights) if w == 0)


@given(totals, st.lists(st.integers(min_value=1, max_value=10**6), min_size=2, max_size=20, unique=True),
       st.randoms(use_true_random=False))
def test_permuting_distinct_weights_permutes_the_parts(total, weights, rnd):
    remainders = [share - (share.numerator // share.denominator) for share in _exact_shares(total, weights)]
    assume(len(set(remainders)) == len(remainders))  # no ties, so the order of items cannot matter
    order = list(range(len(weights)))
    rnd.shuffle(order)
    parts = split_largest_remainder(total, weights)
    shuffled = split_largest_remainder(total, [weights[i] for i in order])
    assert shuffled == [parts[i] for i in order]


@given(totals, st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30).filter(
    lambda ws: sum(ws) > 0), st.integers(min_value=1, max_value=1000))
def test_scaling_the_weights_changes_nothing(total, weights, factor):
    assert split_largest_remainder(total, [w * factor for w in weights]) == \
        split_largest_remainder(total, weights)


@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=1, max_value=50))
def test_equal_weights_differ_by_at_most_one_and_ties_go_first(total, n):
    parts = split_largest_remainder(total, [1] * n)
    assert max(parts) - min(parts) <= 1
    assert parts == sorted(parts, reverse=True)
