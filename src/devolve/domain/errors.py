"""Typed errors. Bad input is reported as data a non-programmer can act on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class DevolveError(Exception):
    """Base class of every error devolve raises on purpose (the CLI exits 2 on these)."""


@dataclass(frozen=True)
class Problem:
    """Where a pack (or any input file) is wrong, and how.

    ``file`` is the file's name inside the pack, ``line`` the 1-based line (CSV: the line in the
    file, the header being line 1), ``field`` the column or key, ``expected`` what would be valid
    and ``found`` what is there.
    """

    file: str
    field: str
    expected: str
    found: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}, line {self.line}"
        return f"{where}, field '{self.field}': expected {self.expected}; found {self.found}"


class PackError(DevolveError):
    """A deal pack is malformed. Nothing was loaded."""

    def __init__(self, problem: Problem, pack: str | Path | None = None):
        self.problem = problem
        self.pack = str(pack) if pack is not None else None
        prefix = f"in pack {self.pack}: " if self.pack else ""
        super().__init__(prefix + str(problem))


class ParameterError(DevolveError):
    """A parameter was asked for at a date where it has no value, or does not exist."""


class ScenarioError(DevolveError):
    """A scenario changes a parameter that does not exist, or at a date outside the deal."""


class DataSourceError(DevolveError):
    """An official data file is missing, unreadable or fails its checksum."""


class InputError(DevolveError):
    """A command was given an argument it cannot use (a bad year, an unknown deal id...)."""
