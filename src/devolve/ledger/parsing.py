"""What the importers share: exact money and dates from text, and row-level problems."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from devolve.domain.errors import DevolveError, InputError, Problem
from devolve.domain.money import pounds_to_pence
from devolve.ledger.batch import PostingBatch
from devolve.ledger.records import Entry, Transaction

MAX_PROBLEMS = 200
POSTING_COLUMNS = ("key", "date", "year", "period", "kind", "partner", "reference", "decision", "description",
                   "reverses", "account", "debit", "credit", "amount", "amount_pence")
POUNDS = re.compile(r"^(-?)(\d{1,15})(?:\.(\d{1,2}))?$")   # pounds, at most two decimals
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class ImportRejected(DevolveError):
    """A file has problems; nothing from it was written."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        shown = "\n  ".join(str(p) for p in self.problems[:25])
        more = f"\n  … and {len(self.problems) - 25} more" if len(self.problems) > 25 else ""
        super().__init__(f"{len(self.problems)} problem(s); nothing was written:\n  {shown}{more}")


@dataclass(frozen=True)
class ParsedFile:
    """What a file holds: entries read row by row, or (a big clean CSV) the same as a columnar batch."""

    path: str
    items: tuple[Entry, ...]
    rows: Mapping[str, tuple[str, list[int | None]]]   # key → (file or sheet, line of each of its rows)
    batch: PostingBatch | None = None

    @cached_property
    def entries(self) -> tuple[Entry, ...]:
        return self.items if self.batch is None else tuple(self.batch.records())

    @property
    def postings(self) -> int:
        if self.batch is not None:
            return self.batch.postings.height
        return sum(len(e.postings) for e in self.items if isinstance(e, Transaction))


class Problems(list):
    def add(self, where: str, line: int | None, column: str, expected: str, found: Any) -> None:
        if len(self) < MAX_PROBLEMS:
            shown = found if isinstance(found, str) and found.startswith("(") else repr(found)
            self.append(Problem(where, column, expected, shown, line))

    def full(self) -> bool:
        return len(self) >= MAX_PROBLEMS


def cell(value: Any) -> str:
    """A cell as text (Excel gives numbers and dates; CSV gives text)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(Decimal(repr(value))) if value == value and abs(value) != float("inf") else repr(value)
    return str(value).strip()


def parse_pence(text: str, column: str) -> int:
    """Pounds (debit/credit/amount) or pence (…_pence) as exact integer pence; InputError otherwise."""
    if column.endswith("_pence"):
        if re.fullmatch(r"-?\d{1,17}", text):
            return int(text)
        raise InputError("whole pence")
    m = POUNDS.match(text)
    if m:
        pence = int(m.group(2)) * 100 + int((m.group(3) or "0").ljust(2, "0"))
        return -pence if m.group(1) else pence
    return pounds_to_pence(text)


def parse_date(text: str) -> date:
    m = _UK_DATE.match(text)
    if m:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    return date.fromisoformat(text)




def problems_as_dicts(problems: Sequence[Problem]) -> list[dict]:
    return [{"file": p.file, "line": p.line, "field": p.field, "expected": p.expected, "found": p.found}
            for p in problems]
