"""Scenarios are data: a named set of dated parameter changes. The baseline is the empty scenario.

Scenarios combine with ``+``; where both change the same parameter at the same date, the right
one wins.

>>> from datetime import date
>>> tax = Scenario("tax", (ParameterChange("fiscal.health_precept_gbp", date(2017, 4, 1), 50),))
>>> (Scenario.baseline() + tax).name
'tax'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from devolve.domain.errors import ScenarioError
from devolve.domain.parameters import ParameterSet, Value


@dataclass(frozen=True)
class ParameterChange:
    path: str
    start: date
    value: Value
    note: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str
    changes: tuple[ParameterChange, ...] = ()
    description: str = ""

    @classmethod
    def baseline(cls) -> Scenario:
        return cls("baseline")

    @property
    def is_baseline(self) -> bool:
        return not self.changes

    def __add__(self, other: Scenario) -> Scenario:
        if self.is_baseline:
            return other
        if other.is_baseline:
            return self
        return Scenario(f"{self.name}+{other.name}", self.changes + other.changes,
                        "; ".join(d for d in (self.description, other.description) if d))

    def apply(self, parameters: ParameterSet, *, first: date | None = None,
              last: date | None = None) -> ParameterSet:
        """The parameters with this scenario's changes in force.

        Raises :class:`ScenarioError` for an unknown parameter path or a date outside
        ``first``..``last`` (the deal's span) when those are given.
        """
        result = parameters
        for change in self.changes:
            if change.path not in parameters.parameters:
                raise ScenarioError(
                    f"scenario '{self.name}' changes '{change.path}', which is not a parameter "
                    f"of this deal (see `devolve deals show DEAL --parameters`)"
                )
            if (first and change.start < first) or (last and change.start > last):
                raise ScenarioError(
                    f"scenario '{self.name}' changes '{change.path}' from "
                    f"{change.start.isoformat()}, outside the deal's years "
                    f"({first.isoformat() if first else '…'} to {last.isoformat() if last else '…'})"
                )
            current = result[change.path]
            note = f"scenario {self.name}" + (f": {change.note}" if change.note else "")
            result = result.replaced(change.path, current.with_value(change.start, change.value, note))
        return result
