"""The fast path for big, clean CSV files of postings: read and check them with Polars, column by column.

:func:`read_clean_postings` returns the file's transactions only when every check passes; at the
first sign of anything unusual — a row that might be wrong, an ``open`` row, a reversal, a date
written another way, a quoted line break, rows of one transaction not next to each other — it
returns ``None`` and the importer reads the file row by row instead (:mod:`.importer`), which says
exactly what is wrong and where. Both paths give the same transactions for a clean file (a
property test holds them to that), so this one is only ever an optimisation.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cached_property
from pathlib import Path

import polars as pl

from devolve.ledger import accounts as acc
from devolve.ledger.parsing import POSTING_COLUMNS, ParsedFile
from devolve.ledger.batch import NumberedKeys, PostingBatch
from devolve.ledger.records import TRANSACTION_KINDS, BookRules, period_of, year_of

_POUNDS = r"^[0-9]{1,15}(\.[0-9]{1,2})?$"          # ASCII digits only (Polars' \d is any Unicode digit)
_SIGNED_POUNDS = r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$"


def _pence(text: pl.Expr) -> pl.Expr:
    """Pounds as text (checked already: ASCII digits, at most two decimals, maybe a minus) → pence, exactly."""
    return (text.cast(pl.Decimal(38, 2)) * 100).cast(pl.Int64)


def read_clean_postings(path: Path, rules: BookRules) -> ParsedFile | None:
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8", raise_if_empty=True,
                            truncate_ragged_lines=False, empty_string_is_null=False)
    except Exception:   # anything Polars cannot read cleanly is left to the row-by-row reader
        return None
    names = [str(c).strip().lower().replace(" ", "_").replace("-", "_") for c in frame.columns]
    if len(set(names)) != len(names) or not set(names) <= set(POSTING_COLUMNS) or frame.height == 0:
        return None
    if any(frame.null_count().row(0)):
        return None
    frame.columns = names
    if not {"key", "date", "kind", "account"} <= set(names):
        return None
    amounts = [n for n in ("debit", "credit", "amount", "amount_pence") if n in names]
    if amounts not in (["debit", "credit"], ["amount"], ["amount_pence"]):
        return None
    for column in ("year", "period", "partner", "reference", "decision", "description", "reverses"):
        if column not in names:
            frame = frame.with_columns(pl.lit("").alias(column))
    # a transaction's rows are one run of rows: number the runs, and mark where each starts
    starts = (pl.col("key") != pl.col("key").shift(1)).fill_null(True)
    frame = frame.with_columns(starts.alias("first"))
    firsts = frame.filter("first")
    if not _clean(frame, firsts, rules, amounts):
        return None
    if amounts == ["debit", "credit"]:
        debit = pl.col("debit") != ""
        side = pl.when(debit).then(1).otherwise(-1)
        pence = _pence(pl.when(debit).then(pl.col("debit")).otherwise(pl.col("credit"))) * side
    elif amounts == ["amount"]:
        pence = _pence(pl.col("amount"))
    else:
        pence = pl.col("amount_pence").cast(pl.Int64)
    return _batch(frame.select("first", "account", pence.alias("pence")), firsts, path)


_BLANK_EDGES_OR_CONTROL = r"^\s|\s$|[\x00-\x1f]"
_HEADS = ("date", "kind", "year", "period", "partner", "reference", "decision", "description", "reverses")


def _clean(frame: pl.DataFrame, firsts: pl.DataFrame, rules: BookRules, amounts: list[str]) -> bool:
    """Whether every row passes every check the row-by-row reader makes (conservatively: True only
    when nothing at all looks wrong).

    The rows of a transaction must be one run and agree on its fields, so those fields are checked
    on the first row of each run only; accounts and dates once per distinct value."""
    first = pl.col("first")
    agree = [(first | (pl.col(c) == pl.col(c).shift(1))).all().alias(c) for c in _HEADS]
    if not all(frame.select(agree).row(0)):
        return False
    if firsts.height != firsts["key"].n_unique():     # a key whose rows are not next to each other
        return False
    checks = [pl.any_horizontal([pl.col(c).str.contains(_BLANK_EDGES_OR_CONTROL) for c in ("key", *_HEADS)]).not_(),
              pl.col("key") != "", pl.col("kind").is_in(sorted(TRANSACTION_KINDS)), pl.col("reverses") == "",
              pl.col("date").str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
              (pl.col("partner") == "") | pl.col("partner").is_in(sorted(rules.partners))]
    if not firsts.select(pl.all_horizontal(checks).all()).item():
        return False
    if amounts == ["debit", "credit"]:
        debit, credit = pl.col("debit"), pl.col("credit")
        rows = [(debit == "") != (credit == ""),
                debit.str.contains(_POUNDS) | credit.str.contains(_POUNDS),
                ~debit.str.contains(r"^[0.]*$") | ~credit.str.contains(r"^[0.]*$")]
    elif amounts == ["amount"]:
        rows = [pl.col("amount").str.contains(_SIGNED_POUNDS), ~pl.col("amount").str.contains(r"^-?[0.]*$")]
    else:
        pence = pl.col("amount_pence")
        rows = [pence.str.contains(r"^-?[0-9]{1,17}$"), ~pence.str.contains(r"^-?0+$")]
    if not frame.select(pl.all_horizontal(rows).all()).item():
        return False
    for name in frame["account"].unique().to_list():
        if name != name.strip() or any(ord(ch) < 32 for ch in name) or acc.parse_account(name, rules)[0] is None:
            return False
    # per date: a real date, its financial year in the deal, and any year or period given agreeing with it
    for text, year, period in firsts.select("date", "year", "period").unique().iter_rows():
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return False
        fy = year_of(day)
        if fy not in rules.years or (year and year != fy) or (period and period != str(period_of(day))):
            return False
    return True


def _batch(rows: pl.DataFrame, firsts: pl.DataFrame, path: Path) -> ParsedFile | None:
    """``rows``: ``first`` (the first row of a transaction), ``account`` and ``pence`` of every row;
    ``firsts``: the first row of each transaction, all its columns."""
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    postings = rows.select((pl.col("first").cum_sum() - 1).cast(pl.UInt32).alias("txn"),
                           (row - pl.when("first").then(row).forward_fill()).alias("line_no"),
                           "account", pl.col("pence").alias("amount"))
    sums = (postings.with_columns(pl.col("txn").set_sorted()).group_by("txn", maintain_order=True)
            .agg(pl.col("amount").sum().alias("total"), pl.len().alias("n")))
    if sums.select(((pl.col("total") != 0) | (pl.col("n") < 2)).any()).item():
        return None
    year = pl.col("date").str.slice(0, 4).cast(pl.Int32)
    month = pl.col("date").str.slice(5, 2).cast(pl.Int32)
    start = pl.when(month >= 4).then(year).otherwise(year - 1)
    label = pl.concat_str([start.cast(pl.Utf8), pl.lit("/"), ((start + 1) % 100).cast(pl.Utf8).str.zfill(2)])
    nulled = lambda c: pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)   # noqa: E731
    transactions = firsts.select("key", "kind", "date", label.alias("year"), ((month - 4) % 12 + 1).alias("period"),
                                 nulled("partner"), "reference", nulled("decision"), "description")
    starts = rows.select(pl.int_range(pl.len(), dtype=pl.Int64).filter(pl.col("first")))[:, 0]
    lines = RowsOfRuns(path.name, transactions["key"], starts, sums["n"])
    return ParsedFile(str(path), (), lines, PostingBatch(transactions, postings))


class RowsOfRuns(Mapping):
    """key → (file, line of each row) for a file whose transactions are runs of consecutive rows;
    the lists and the index are built only if they are asked for (when an entry is refused)."""

    def __init__(self, where: str, keys: pl.Series, starts: pl.Series, counts: pl.Series):
        self.where, self._positions, self._columns = where, NumberedKeys(keys), (starts, counts)

    @cached_property
    def _lists(self) -> tuple[list[int], list[int]]:
        starts, counts = self._columns
        return starts.to_list(), counts.to_list()

    def __getitem__(self, key: str) -> tuple[str, list[int]]:
        i = self._positions[key]
        starts, counts = self._lists
        return self.where, list(range(starts[i] + 2, starts[i] + 2 + counts[i]))

    def __iter__(self):
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)
