"""Field readers for pack values: each returns a typed value or raises a :class:`PackError`
that says what was expected and what was found."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from devolve.domain.errors import InputError, PackError
from devolve.domain.money import pounds_to_pence
from devolve.domain.periods import FinancialYear

Fail = Callable[[str, str], PackError]  # (expected, found) -> error
MAX_POUNDS = 10**12  # a trillion pounds: far above any deal, and sums stay within 64-bit pence
_GROUPED = re.compile(r"-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?")  # commas only between thousands: 1,234,567.5


def show(value: Any) -> str:
    if value is None or value == "":
        return "nothing (an empty value)"
    return repr(value) if isinstance(value, str) else f"{value!r} ({type(value).__name__})"


def text(value: Any, fail: Fail, *, allow_empty: bool = False) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if allow_empty:
            return ""
        raise fail("a non-empty text", show(value))
    if isinstance(value, (dict, list)):
        raise fail("a text", f"a {type(value).__name__}")
    return str(value).strip()


def identifier(value: Any, fail: Fail) -> str:
    result = text(value, fail)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", result):
        raise fail("an id of letters, digits, '-', '_' or '.' (no spaces)", show(value))
    return result


def integer(value: Any, fail: Fail, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool):
        raise fail("a whole number", show(value))
    try:
        if isinstance(value, str):
            cleaned = value.strip()
            if "," in cleaned and not _GROUPED.fullmatch(cleaned):
                raise fail("a whole number (commas, if any, between thousands)", show(value))
            cleaned = cleaned.replace(",", "")
            if not re.fullmatch(r"-?[0-9]+", cleaned):
                raise ValueError
            result = int(cleaned)
        elif isinstance(value, float):
            if not value.is_integer():
                raise ValueError
            result = int(value)
        elif isinstance(value, int):
            result = value
        else:
            raise ValueError
    except ValueError:
        raise fail("a whole number", show(value)) from None
    if minimum is not None and result < minimum:
        raise fail(f"a whole number of at least {minimum}", show(value))
    if maximum is not None and result > maximum:
        raise fail(f"a whole number of at most {maximum}", show(value))
    return result


def number(value: Any, fail: Fail, *, minimum: float | None = None, maximum: float | None = None) -> float:
    if isinstance(value, bool):
        raise fail("a number", show(value))
    if isinstance(value, str) and "," in value and not _GROUPED.fullmatch(value.strip()):
        raise fail("a number (commas, if any, between thousands)", show(value))
    try:
        result = float(value.replace(",", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise fail("a number", show(value)) from None
    if result != result or result in (float("inf"), float("-inf")):
        raise fail("a finite number", show(value))
    if minimum is not None and result < minimum:
        raise fail(f"a number of at least {minimum:g}", show(value))
    if maximum is not None and result > maximum:
        raise fail(f"a number of at most {maximum:g}", show(value))
    return result


def money(value: Any, fail: Fail, *, allow_negative: bool = False) -> int:
    """Pounds (exact, at most 2 decimals) to integer pence."""
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        raise fail("an amount in pounds", show(value))
    raw = repr(value) if isinstance(value, float) else value
    try:  # refuse absurd sizes before converting (1e999999 would take minutes, or overflow)
        size = Decimal(str(raw).replace(",", "").replace("£", "").strip()).copy_abs()
    except (InvalidOperation, ValueError):
        size = Decimal(0)  # not a number: pounds_to_pence says so
    if size.is_finite() and size > MAX_POUNDS:
        raise fail(f"an amount of at most £{MAX_POUNDS:,}", show(value))
    try:
        pence = pounds_to_pence(raw)
    except InputError as exc:
        raise fail("an amount in pounds, to the penny", f"{show(value)}: {exc}") from None
    if pence < 0 and not allow_negative:
        raise fail("an amount of money that is not negative", show(value))
    return pence


def iso_date(value: Any, fail: Fail) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise fail("a date in the form YYYY-MM-DD", show(value)) from None


def financial_year(value: Any, fail: Fail) -> FinancialYear:
    try:
        return FinancialYear.parse(str(value))
    except InputError:
        raise fail("a financial year such as 2016/17", show(value)) from None


def boolean(value: Any, fail: Fail) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0", ""):
        return False
    raise fail("true or false", show(value))


def choice(value: Any, options, fail: Fail) -> str:
    result = text(value, fail)
    if result not in options:
        raise fail(f"one of {', '.join(sorted(options))}", show(value))
    return result


def mapping(value: Any, fail: Fail) -> dict:
    if not isinstance(value, dict):
        raise fail("a mapping of keys to values", show(value) if not isinstance(value, list) else "a list")
    return value


def sequence(value: Any, fail: Fail) -> list:
    if not isinstance(value, list):
        raise fail("a list", show(value) if not isinstance(value, dict) else "a mapping")
    return value
