"""UK financial years (1 April to 31 March) and calendar months.

>>> fy = FinancialYear.parse("2016/17")
>>> fy.start, fy.end
(datetime.date(2016, 4, 1), datetime.date(2017, 3, 31))
>>> (fy + 4).label
'2020/21'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from devolve.domain.errors import InputError

_FY_PATTERN = re.compile(r"^\s*(\d{4})\s*[/-]\s*(\d{2}|\d{4})\s*$")


@dataclass(frozen=True, order=True)
class FinancialYear:
    """The UK public-sector financial year that starts on 1 April of ``start_year``."""

    start_year: int

    @classmethod
    def parse(cls, text: str | int | FinancialYear) -> FinancialYear:
        """Read '2016/17', '2016-17' or '2016/2017'. Raises :class:`InputError` otherwise."""
        if isinstance(text, FinancialYear):
            return text
        match = _FY_PATTERN.match(str(text))
        if not match:
            raise InputError(f"'{text}' is not a financial year: expected the form 2016/17")
        first = int(match.group(1))
        second = match.group(2)
        expected = str(first + 1)
        if second not in (expected, expected[-2:]):
            raise InputError(
                f"'{text}' is not a financial year: the second year must follow the first "
                f"(e.g. {first}/{expected[-2:]})"
            )
        return cls(first)

    @classmethod
    def containing(cls, day: date) -> FinancialYear:
        """The financial year a date falls in."""
        return cls(day.year if day.month >= 4 else day.year - 1)

    @property
    def start(self) -> date:
        return date(self.start_year, 4, 1)

    @property
    def end(self) -> date:
        return date(self.start_year + 1, 3, 31)

    @property
    def label(self) -> str:
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}"

    def months(self) -> tuple[Month, ...]:
        """The twelve months, April first."""
        return tuple(Month.in_financial_year(self, period) for period in range(1, 13))

    def __add__(self, years: int) -> FinancialYear:
        return FinancialYear(self.start_year + int(years))

    def __sub__(self, other: FinancialYear | int) -> int | FinancialYear:
        if isinstance(other, FinancialYear):
            return self.start_year - other.start_year
        return FinancialYear(self.start_year - int(other))

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month; ``period`` numbers it within its financial year (April = 1)."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise InputError(f"month {self.month} is not between 1 and 12")

    @classmethod
    def parse(cls, text: str) -> Month:
        match = re.match(r"^\s*(\d{4})-(\d{1,2})\s*$", str(text))
        if not match:
            raise InputError(f"'{text}' is not a month: expected the form 2016-04")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def in_financial_year(cls, year: FinancialYear, period: int) -> Month:
        if not 1 <= period <= 12:
            raise InputError(f"period {period} is not between 1 and 12")
        month = (period + 2) % 12 + 1
        return cls(year.start_year + (0 if month >= 4 else 1), month)

    @property
    def financial_year(self) -> FinancialYear:
        return FinancialYear.containing(self.start)

    @property
    def period(self) -> int:
        return (self.month - 4) % 12 + 1

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def label(self) -> str:
        return f"{self.year}-{self.month:02d}"

    def __str__(self) -> str:
        return self.label


def financial_years(first: FinancialYear, count: int) -> tuple[FinancialYear, ...]:
    """``count`` consecutive financial years from ``first``."""
    return tuple(first + offset for offset in range(count))
