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
from pathlib import Path

import polars as pl

from devolve.ledger import accounts as acc
from devolve.ledger.parsing import POSTING_COLUMNS, ParsedFile
from devolve.ledger.batch import PostingBatch
from devolve.ledger.records import TRANSACTION_KINDS, BookRules, period_of, year_of

_POUNDS = r"^\d{1,15}(\.\d{1,2})?$"
_SIGNED_POUNDS = r"^-?\d{1,15}(\.\d{1,2})?$"


def _pence(column: str, signed: bool) -> pl.Expr:
    text = pl.col(column)
    whole = text.str.extract(r"^-?(\d+)", 1).cast(pl.Int64)
    fraction = text.str.extract(r"\.(\d{1,2})$", 1).str.pad_end(2, "0").fill_null("00").cast(pl.Int64)
    pence = whole * 100 + fraction
    return pl.when(text.str.starts_with("-")).then(-pence).otherwise(pence) if signed else pence


def read_clean_postings(path: Path, rules: BookRules) -> ParsedFile | None:
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8", raise_if_empty=True,
                            truncate_ragged_lines=False, empty_string_is_null=False)
    except Exception:   # anything Polars cannot read cleanly is left to the row-by-row reader
        return None
    names = [str(c).strip().lower().replace(" ", "_").replace("-", "_") for c in frame.columns]
    if len(set(names)) != len(names) or not set(names) <= set(POSTING_COLUMNS) or frame.height == 0:
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
    if not _clean(frame, rules, amounts):
        return None
    if amounts == ["debit", "credit"]:
        pence = pl.when(pl.col("debit") != "").then(_pence("debit", False)).otherwise(-_pence("credit", False))
    elif amounts == ["amount"]:
        pence = _pence("amount", True)
    else:
        pence = pl.col("amount_pence").cast(pl.Int64)
    frame = frame.with_columns(pence.alias("pence"), pl.col("date").str.to_date("%Y-%m-%d").alias("day"))
    return _batch(frame, path)


def _clean(frame: pl.DataFrame, rules: BookRules, amounts: list[str]) -> bool:
    """Whether every row passes every check the row-by-row reader makes (conservatively: True only
    when nothing at all looks wrong)."""
    checks = [pl.any_horizontal([pl.col(c).str.contains(r"^\s|\s$|[\x00-\x1f]") for c in frame.columns]).not_()]
    checks += [pl.col("key") != "", pl.col("kind").is_in(sorted(TRANSACTION_KINDS)), pl.col("reverses") == "",
               pl.col("date").str.contains(r"^\d{4}-\d{2}-\d{2}$"),
               (pl.col("partner") == "") | pl.col("partner").is_in(sorted(rules.partners))]
    if amounts == ["debit", "credit"]:
        debit, credit = pl.col("debit"), pl.col("credit")
        checks += [(debit == "") != (credit == ""),
                   debit.str.contains(_POUNDS) | credit.str.contains(_POUNDS),
                   ~debit.str.contains(r"^[0.]*$") | ~credit.str.contains(r"^[0.]*$")]
    elif amounts == ["amount"]:
        checks += [pl.col("amount").str.contains(_SIGNED_POUNDS), ~pl.col("amount").str.contains(r"^-?[0.]*$")]
    else:
        checks += [pl.col("amount_pence").str.contains(r"^-?\d{1,17}$"),
                   ~pl.col("amount_pence").str.contains(r"^-?0+$")]
    if not frame.select(pl.all_horizontal(checks).all()).item():
        return False
    days = frame.select(pl.col("date").str.to_date("%Y-%m-%d", strict=False).alias("day"))["day"]
    if days.null_count():
        return False
    if not all(acc.parse_account(a, rules)[0] is not None for a in frame["account"].unique().to_list()):
        return False
    # per date: its financial year in the deal, and any year or period given agreeing with it
    stated = frame.select("date", "year", "period").unique()
    for text, year, period in stated.iter_rows():
        day = date.fromisoformat(text)
        fy = year_of(day)
        if fy not in rules.years or (year and year != fy) or (period and period != str(period_of(day))):
            return False
    # rows of one transaction are next to each other, agree on its fields, and balance
    heads = ("date", "kind", "year", "period", "partner", "reference", "decision", "description")
    runs = frame.select((pl.col("key") != pl.col("key").shift(1)).fill_null(True).sum()).item()
    if runs != frame["key"].n_unique():
        return False
    if frame.select(pl.struct(("key", *heads)).n_unique() == pl.col("key").n_unique()).item() is not True:
        return False
    return True


def _batch(frame: pl.DataFrame, path: Path) -> ParsedFile | None:
    frame = frame.with_columns((pl.col("key") != pl.col("key").shift(1)).fill_null(True).cum_sum().alias("txn") - 1)
    sums = frame.group_by("txn", maintain_order=True).agg(pl.col("pence").sum().alias("total"), pl.len().alias("n"))
    if sums.select(((pl.col("total") != 0) | (pl.col("n") < 2)).any()).item():
        return None
    year = pl.col("date").str.slice(0, 4).cast(pl.Int32)
    month = pl.col("date").str.slice(5, 2).cast(pl.Int32)
    first = pl.when(month >= 4).then(year).otherwise(year - 1)
    label = pl.concat_str([first.cast(pl.Utf8), pl.lit("/"), ((first + 1) % 100).cast(pl.Utf8).str.zfill(2)])
    nulled = lambda c: pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)   # noqa: E731
    firsts = frame.with_row_index("row").group_by("txn", maintain_order=True).first()
    transactions = firsts.select("key", "kind", "date", label.alias("year"), ((month - 4) % 12 + 1).alias("period"),
                                 nulled("partner"), "reference", nulled("decision"), "description")
    postings = frame.select("txn", pl.int_range(pl.len()).over("txn").alias("line_no"), "account",
                            pl.col("pence").alias("amount"))
    rows = RowsOfRuns(path.name, firsts["key"].to_list(), firsts["row"].to_list(), sums["n"].to_list())
    return ParsedFile(str(path), (), rows, PostingBatch(transactions, postings))


class RowsOfRuns(Mapping):
    """key → (file, line of each row) for a file whose transactions are runs of consecutive rows;
    the index is built only if it is asked for (when an entry is refused)."""

    def __init__(self, where: str, keys: list[str], starts: list[int], counts: list[int]):
        self.where, self._keys, self.starts, self.counts = where, keys, starts, counts
        self._index: dict[str, int] | None = None

    def _position(self, key: str) -> int | None:
        if self._index is None:
            self._index = {k: i for i, k in enumerate(self._keys)}
        return self._index.get(key)

    def __getitem__(self, key: str) -> tuple[str, list[int]]:
        i = self._position(key)
        if i is None:
            raise KeyError(key)
        return self.where, list(range(self.starts[i] + 2, self.starts[i] + 2 + self.counts[i]))

    def __iter__(self):
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
