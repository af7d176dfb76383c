"""A big batch of plain transactions held as two Polars tables — the columnar twin of a list of
:class:`~devolve.ledger.records.Transaction`, for million-posting imports.

``transactions``: one row per transaction in order — ``key, kind, date`` (ISO text), ``year``,
``period``, ``partner``, ``reference``, ``decision``, ``description`` (null where absent);
``postings``: one row per posting, in order, the rows of a transaction next to each other —
``txn`` (the transaction's row), ``line_no``, ``account``, ``amount`` (pence).

:meth:`PostingBatch.records` gives the same batch as records; :func:`canonical_bodies` the same
canonical bodies :func:`devolve.ledger.hashing.transaction_body` writes; :func:`chain` hashes them
into the audit trail; and :func:`chained_rows` gives the rows the batch adds to the books. None of
these makes a Python object per posting until the rows are handed to the database driver.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from itertools import repeat
from typing import NamedTuple

import numpy as np
import polars as pl

from devolve.ledger.records import Posting, Transaction


@dataclass(frozen=True)
class PostingBatch:
    transactions: pl.DataFrame
    postings: pl.DataFrame

    def __len__(self) -> int:
        return self.transactions.height

    @property
    def keys(self) -> list[str]:
        return self.transactions["key"].to_list()

    def records(self) -> list[Transaction]:
        t = self.transactions
        accounts, amounts = self.postings["account"].to_list(), self.postings["amount"].to_list()
        counts = self.postings.group_by("txn", maintain_order=True).len()["len"].to_list()
        out, start = [], 0
        days: dict[str, date] = {}
        for (key, kind, text, year, period, partner, reference, decision, description), n in zip(
                t.select("key", "kind", "date", "year", "period", "partner", "reference", "decision",
                         "description").iter_rows(), counts):
            day = days.get(text) or days.setdefault(text, date.fromisoformat(text))
            out.append(Transaction(key, kind, day, year, period,
                                   tuple(map(Posting, accounts[start:start + n], amounts[start:start + n])),
                                   partner, reference, decision, description, None))
            start += n
        return out


class NumberedKeys(Mapping):
    """key → ``first`` + its position, for a column of distinct keys (a batch's entry numbers, or
    where its rows are): the lookup is built only if it is asked for."""

    def __init__(self, keys: pl.Series, first: int = 0):
        self.keys, self.first = keys, first

    @cached_property
    def _index(self) -> dict[str, int]:
        return dict(zip(self.keys.to_list(), range(self.first, self.first + len(self.keys))))

    def __getitem__(self, key: str) -> int:
        return self._index[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self.keys)


def _escaped(frame: pl.DataFrame, columns: tuple[str, ...]) -> dict[str, pl.Expr]:
    """Each text column escaped for a JSON string (for text without control characters, which the
    fast reader and the rules guarantee): backslashes and quotes escaped, everything else as it is
    (UTF-8). A column without a backslash or a quote anywhere is left as it is."""
    special = frame.select([pl.col(c).cast(pl.Utf8).str.contains(r'["\\]').any().alias(c) for c in columns]).row(0)
    out = {}
    for column, escape in zip(columns, special):
        text = pl.col(column).cast(pl.Utf8)
        if escape:
            text = text.str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True)
        out[column] = text
    return out


def _or_null(text: pl.Expr) -> pl.Expr:
    """A JSON string, or ``null`` where the text is null."""
    return pl.concat_str([pl.lit('"'), text, pl.lit('"')]).fill_null("null")


def canonical_bodies(batch: PostingBatch, first_seq: int) -> pl.Series:
    """Each transaction's canonical body when the batch is numbered from ``first_seq`` on."""
    p, t = batch.postings, batch.transactions
    txn = p["txn"]
    if txn.is_sorted():
        txn = txn.set_sorted()
    account = _escaped(p, ("account",))["account"]
    postings = (p.select(txn, pl.concat_str([pl.lit('["'), account, pl.lit('",'), pl.col("amount").cast(pl.Utf8),
                                            pl.lit("]")]).alias("p"))
                .group_by("txn", maintain_order=True).agg("p")
                .select(pl.col("txn").cast(pl.Int64), pl.col("p").list.join(",")))
    table = t.with_row_index("txn").with_columns(pl.col("txn").cast(pl.Int64)).join(
        postings, on="txn", how="left", maintain_order="left")
    text = _escaped(t, ("decision", "description", "key", "kind", "partner", "reference", "year"))
    seq = (pl.int_range(pl.len(), dtype=pl.Int64) + first_seq).cast(pl.Utf8)
    return table.select(pl.concat_str([
        pl.lit('{"date":"'), pl.col("date"), pl.lit('","decision":'), _or_null(text["decision"]),
        pl.lit(',"description":"'), text["description"], pl.lit('","key":"'), text["key"],
        pl.lit('","kind":"'), text["kind"], pl.lit('","partner":'), _or_null(text["partner"]),
        pl.lit(',"period":'), pl.col("period").cast(pl.Utf8), pl.lit(',"postings":['), pl.col("p").fill_null(""),
        pl.lit('],"reference":"'), text["reference"], pl.lit('","reverses":null,"seq":'), seq,
        pl.lit(',"year":"'), text["year"], pl.lit('"}')]).alias("body"))["body"]


def chain(bodies: Iterable[str], previous: str) -> list[str]:
    """The hash of each body in turn, each over the one before it (see :mod:`.hashing`) — the one step
    that cannot be vectorised, so it is one tight loop: concatenate, encode, hash."""
    sha256 = hashlib.sha256
    hashes: list[str] = []
    append = hashes.append
    for body in bodies:
        previous = sha256((previous + body).encode("utf-8")).hexdigest()
        append(previous)
    return hashes


ENTRY_COLUMNS = ("seq", "kind", "key", "date", "year", "period", "partner", "reference", "decision", "description",
                 "reverses", "hash")
POSTING_COLUMNS = ("seq", "line_no", "account_id", "amount")


class RowsChunk(NamedTuple):
    """Rows a chunk of a batch adds to the books: ``entries`` (tuples of :data:`ENTRY_COLUMNS`),
    ``postings`` as one flat list (each posting's :data:`POSTING_COLUMNS` in turn), and the chain
    head after the chunk."""

    entries: Iterable[tuple]
    postings: list[int]
    head: tuple[int, str]


def chained_rows(batch: PostingBatch, account_ids: Mapping[str, int], seq: int, previous: str,
                 chunk: int) -> Iterator[RowsChunk]:
    """The rows a batch adds to the books after entry ``seq`` (whose hash is ``previous``), ``chunk``
    transactions at a time — so a writer can insert one chunk while the next is hashed.

    Each chunk's canonical bodies are built column by column and hashed in turn; its entry rows are
    zipped from the columns as the driver reads them (one tuple at a time); the postings are numbers
    only, interleaved (by NumPy) into one list."""
    t, p = batch.transactions, batch.postings
    first = seq + 1
    txn = p["txn"].cast(pl.Int64)
    flat = np.empty((p.height, len(POSTING_COLUMNS)), dtype=np.int64)
    flat[:, 0] = (txn + first).to_numpy()
    flat[:, 1] = p["line_no"].cast(pl.Int64).to_numpy()
    flat[:, 2] = _account_ids(p["account"], account_ids).to_numpy()
    flat[:, 3] = p["amount"].cast(pl.Int64).to_numpy()
    ends = np.cumsum(np.bincount(txn.to_numpy(), minlength=t.height))
    for start in range(0, t.height, chunk):
        stop = min(start + chunk, t.height)
        low, high = int(ends[start - 1]) if start else 0, int(ends[stop - 1])
        part = PostingBatch(t.slice(start, stop - start),
                            p.slice(low, high - low).with_columns(pl.col("txn") - start))
        hashes = chain(canonical_bodies(part, first + start).to_list(), previous)
        previous = hashes[-1]
        columns = (part.transactions[c].to_list() for c in ENTRY_COLUMNS[1:-2])
        entries = zip(range(first + start, first + stop), *columns, repeat(None), hashes)
        yield RowsChunk(entries, flat[low:high].ravel().tolist(), (seq + stop, previous))


def balance_changes(batch: PostingBatch, account_ids: Mapping[str, int]) -> list[tuple[int, str, int, int]]:
    """What the batch adds to each account in each year: ``(account id, year, pence, postings)``."""
    t, p = batch.transactions, batch.postings
    moved = (p.select("account", t["year"].gather(p["txn"].cast(pl.Int64)).alias("year"), "amount")
             .group_by("account", "year").agg(pl.col("amount").sum(), pl.len().cast(pl.Int64)))
    return [(account_ids[account], year, pence, count) for account, year, pence, count in moved.iter_rows()]


def _account_ids(names: pl.Series, account_ids: Mapping[str, int]) -> pl.Series:
    used = names.unique().to_list()
    unknown = [n for n in used if n not in account_ids]
    if unknown:
        raise KeyError(f"postings name accounts that are not in the books: {', '.join(sorted(unknown))}")
    return names.replace_strict(used, [account_ids[n] for n in used], return_dtype=pl.Int64)
