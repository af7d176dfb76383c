"""Money. In the books money is integer pence; figures read from packs are exact decimals."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import numpy as np

from devolve.domain.errors import InputError

PENCE_PER_POUND = 100


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
    try:
        amount = Decimal(str(value).replace(",", "").replace("£", "").strip())
    except InvalidOperation as exc:
        raise InputError(f"'{value}' is not an amount of money") from exc
    if not amount.is_finite():
        raise InputError(f"'{value}' is not an amount of money")
    pence = amount * PENCE_PER_POUND
    if pence != pence.to_integral_value():
        raise InputError(f"'{value}' has a fraction of a penny")
    return int(pence)


def pence_to_pounds(pence: int) -> Decimal:
    return Decimal(int(pence)) / PENCE_PER_POUND


def format_gbp(pence: int, *, unit: str = "auto") -> str:
    """Human format: '£6.00bn', '£450.0m', '£12,345'."""
    pounds = pence / PENCE_PER_POUND
    sign = "-" if pounds < 0 else ""
    pounds = abs(pounds)
    if unit == "auto":
        if pounds >= 1e9:
            return f"{sign}£{pounds / 1e9:,.2f}bn"
        if pounds >= 1e6:
            return f"{sign}£{pounds / 1e6:,.1f}m"
    return f"{sign}£{pounds:,.0f}"


def split_largest_remainder(total: int, weights) -> list[int]:
    """Split an integer ``total`` in proportion to ``weights`` so that the parts add up exactly.

    Hamilton's method: floor each share, then give the leftover units to the largest remainders
    (ties to the earlier item). Weights must be non-negative with a positive sum. Vectorised, so
    it serves 30,000 small areas as easily as ten districts.

    >>> split_largest_remainder(10, [1, 1, 1])
    [4, 3, 3]
    """
    w = np.asarray(weights, dtype=np.float64)
    if total < 0:
        raise InputError("cannot split a negative total")
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
