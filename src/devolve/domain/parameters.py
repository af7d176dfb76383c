"""Dated parameters: values with effective dates, a unit and a source.

A parameter's value holds from its date until the next dated value; a ``None`` value ends the
rule (after it the parameter has no value). History is never deleted: a change adds a date.

>>> from datetime import date
>>> p = Parameter("inflation.pay", "NHS pay inflation", "fraction", "HM Treasury GDP deflator",
...               values=((date(2016, 4, 1), 0.01), (date(2018, 4, 1), 0.03)))
>>> p.at(date(2017, 1, 1)), p.at(date(2019, 1, 1))
(0.01, 0.03)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from typing import Any

from devolve.domain.errors import ParameterError

#: Units a parameter may carry. A pack naming any other unit is refused.
UNITS: Mapping[str, str] = MappingProxyType(
    {
        "GBP": "pounds sterling",
        "GBP_per_unit": "pounds per unit of activity",
        "GBP_per_head": "pounds per resident",
        "GBP_per_hour": "pounds per hour",
        "GBP_per_week": "pounds per week",
        "GBP_per_day": "pounds per day",
        "fraction": "a share, 0.05 meaning 5%",
        "fraction_per_year": "a rate of change per year, 0.02 meaning 2% a year",
        "per_1000_per_year": "events per 1,000 residents per year",
        "per_person_per_year": "events per resident per year",
        "count": "a number of things",
        "persons": "a number of people",
        "days": "days",
        "hours": "hours",
        "hours_per_unit": "staff hours per unit of activity",
        "fte_per_100k": "full-time equivalent staff per 100,000 residents",
        "per_resident": "a number per resident (e.g. Band D equivalent dwellings per resident)",
        "years": "years",
        "index": "a relative index, 1.0 meaning average",
        "ratio": "a dimensionless ratio, such as a coefficient of variation (standard deviation / mean)",
        "per_100k_residents": "a number (of beds, places) per 100,000 residents",
        "weight": "a relative weight",
        "bool": "true or false",
        "text": "free text",
    }
)

Value = float | int | bool | str | None


@dataclass(frozen=True)
class Parameter:
    """One dated parameter. ``values`` are (effective date, value) pairs in date order."""

    path: str
    description: str
    unit: str
    source: str
    values: tuple[tuple[date, Value], ...]
    synthetic: bool = False

    def __post_init__(self) -> None:
        dates = [d for d, _ in self.values]
        if any(later <= earlier for earlier, later in zip(dates, dates[1:])):
            raise ParameterError(f"parameter '{self.path}': effective dates must increase, each once")

    def at(self, when: date) -> Value:
        """The value in force on ``when``. Raises :class:`ParameterError` before the first date
        or after a rule ended (a ``None`` value)."""
        if not self.values:
            raise ParameterError(f"parameter '{self.path}' has no dated values")
        current: Value = None
        started = False
        for start, value in self.values:
            if start > when:
                break
            current, started = value, True
        if not started:
            raise ParameterError(
                f"parameter '{self.path}' has no value on {when.isoformat()}: "
                f"its first value is from {self.values[0][0].isoformat()}"
            )
        if current is None:
            raise ParameterError(f"parameter '{self.path}' had ended by {when.isoformat()}")
        return current

    def with_value(self, start: date, value: Value, source: str | None = None) -> Parameter:
        """A copy with ``value`` in force from ``start`` (replacing a value at the same date)."""
        kept = [(d, v) for d, v in self.values if d != start]
        kept.append((start, value))
        kept.sort(key=lambda pair: pair[0])
        new_source = self.source if source is None else f"{self.source}; {source}"
        return replace(self, values=tuple(kept), source=new_source)


@dataclass(frozen=True)
class ParameterSet(Mapping[str, Parameter]):
    """An immutable mapping of parameter path to :class:`Parameter`."""

    parameters: Mapping[str, Parameter] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))

    def __getitem__(self, path: str) -> Parameter:
        try:
            return self.parameters[path]
        except KeyError:
            raise ParameterError(f"there is no parameter '{path}'") from None

    def __contains__(self, path: object) -> bool:
        # Mapping's default catches only KeyError; __getitem__ raises ParameterError.
        return path in self.parameters

    def get(self, path: str, default: Parameter | None = None) -> Parameter | None:
        return self.parameters.get(path, default)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.parameters))

    def __len__(self) -> int:
        return len(self.parameters)

    def at(self, path: str, when: date) -> Any:
        return self[path].at(when)

    def under(self, prefix: str) -> dict[str, Parameter]:
        """The parameters whose path starts with ``prefix.``."""
        stem = prefix.rstrip(".") + "."
        return {p: v for p, v in self.parameters.items() if p.startswith(stem)}

    def merged(self, overrides: Mapping[str, Parameter]) -> ParameterSet:
        """This set with ``overrides`` replacing (or adding) parameters by path."""
        combined = dict(self.parameters)
        combined.update(overrides)
        return ParameterSet(combined)

    def replaced(self, path: str, parameter: Parameter) -> ParameterSet:
        combined = dict(self.parameters)
        combined[path] = parameter
        return ParameterSet(combined)
