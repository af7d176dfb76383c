"""Money. In the books money is integer pence; figures read from packs are exact decimals."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation, localcontext

import numpy as np

from devolve.domain.errors import InputError

PENCE_PER_POUND = 100
_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")


def pounds_to_pence(value: str | int | Decimal) -> int:
    """Exact conversion of a pound amount to integer pence.

    Floats are refused (they cannot carry pence exactly); fractional pence are refused.

    >>> pounds_to_pence("6000000000")
    600000000000
    >>> pounds_to_pence("12.34")
    1234
    """
    if isinstance(value, float) or isinstance(value, bool):
        raise InputError(f"money must be given exactly, not as a float: {value!r}")
    text = str(value).replace("£", "").strip()
    if "," in text and not _THOUSANDS.fullmatch(text):
        raise InputError(f"'{value}' is not an amount of money (commas must separate thousands)")
    try:
        with localcontext() as context:
            context.prec = 60
            amount = Decimal(text.replace(",", ""))
            pence = amount * PENCE_PER_POUND
    except InvalidOperation as exc:
        raise InputError(f"'{value}' is not an amount of money") from exc
    if not amount.is_finite():
        raise InputError(f"'{value}' is not an amount of money")
    if pence != pence.to_integral_value():
        raise InputError(f"'{value}' has a fraction of a penny")
    return int(pence)


def pence_to_pounds(pence: int) -> Decimal:
    return Decimal(int(pence)) / PENCE_PER_POUND


def format_gbp(pence: int, *, unit: str = "auto") -> str:
    """Human format: '£6.00bn', '£450.0m', '£12,345'.

    The unit is chosen on the figure as it would be shown, so £999,999,999.99 reads '£1.00bn'
    (not '£1,000.0m'); an amount that rounds to nothing carries no minus sign.
    """
    pounds = abs(pence) / PENCE_PER_POUND
    if unit == "auto" and round(pounds / 1e6, 1) >= 1000:
        text = f"£{pounds / 1e9:,.2f}bn"
    elif unit == "auto" and round(pounds) >= 1e6:
        text = f"£{pounds / 1e6:,.1f}m"
    else:
        text = f"£{pounds:,.0f}"
    negative = pence < 0 and any(ch in "123456789" for ch in text)
    return ("-" if negative else "") + text


def split_largest_remainder(total: int, weights) -> list[int]:
    """Split an integer ``total`` in proportion to ``weights`` so that the parts add up exactly.

    Hamilton's method: floor each share, then give the leftover units to the largest remainders
    (ties to the earlier item). Weights must be non-negative with a positive sum. Vectorised, so
    it serves 30,000 small areas as easily as ten districts.

    >>> split_largest_remainder(10, [1, 1, 1])
    [4, 3, 3]
    """
    if isinstance(total, bool) or not isinstance(total, (int, np.integer)):
        raise InputError(f"the total to split must be a whole number, not {total!r}")
    if total < 0:
        raise InputError("cannot split a negative total")
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"weights must be numbers: {exc}") from exc
    if w.ndim != 1:
        raise InputError("weights must be a flat list of numbers")
    if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InputError("weights must be finite and not negative")
    weight_sum = w.sum()
    if weight_sum <= 0:
        raise InputError("weights must have a positive sum")
    exact = w / weight_sum * total
    parts = np.floor(exact).astype(np.int64)
    leftover = int(total - parts.sum())
    if leftover:
        remainder = exact - parts
        order = np.lexsort((np.arange(w.size), -remainder))
        parts[order[:leftover]] += 1
    return parts.tolist()
