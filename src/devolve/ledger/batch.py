"""A big batch of plain transactions held as two Polars tables — the columnar twin of a list of
:class:`~devolve.ledger.records.Transaction`, for million-posting imports.

``transactions``: one row per transaction in order — ``key, kind, date`` (ISO text), ``year``,
``period``, ``partner``, ``reference``, ``decision``, ``description`` (null where absent);
``postings``: one row per posting — ``txn`` (the transaction's row), ``line_no``, ``account``,
``amount`` (pence). :meth:`PostingBatch.transactions` gives the same batch as records, and
:func:`canonical_bodies` the same canonical bodies :func:`devolve.ledger.hashing.transaction_body`
writes (split around the entry number, which is known only when the batch is appended), and
:func:`chained_rows` the rows the batch adds to the books, with the hash chain carried through.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date

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


def _json_text(column: str) -> pl.Expr:
    """A text column as a JSON string (for text without control characters, which the fast reader
    guarantees): backslashes and quotes escaped, everything else as it is (UTF-8)."""
    escaped = pl.col(column).str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True)
    return pl.concat_str([pl.lit('"'), escaped, pl.lit('"')])


def _json_or_null(column: str) -> pl.Expr:
    return pl.when(pl.col(column).is_null()).then(pl.lit("null")).otherwise(_json_text(column))


def canonical_bodies(batch: PostingBatch) -> tuple[list[str], list[str]]:
    """Each transaction's canonical body, as the text before and after its entry number."""
    postings = (batch.postings
                .with_columns(pl.concat_str([pl.lit("["), _json_text("account"), pl.lit(","),
                                             pl.col("amount").cast(pl.Utf8), pl.lit("]")]).alias("p"))
                .group_by("txn", maintain_order=True).agg(pl.col("p").str.join(",")))
    table = batch.transactions.with_row_index("txn").join(postings, on="txn", how="left", maintain_order="left")
    parts = table.select(
        pl.concat_str([pl.lit('{"date":"'), pl.col("date"), pl.lit('","decision":'), _json_or_null("decision"),
                       pl.lit(',"description":'), _json_text("description"), pl.lit(',"key":'), _json_text("key"),
                       pl.lit(',"kind":'), _json_text("kind"), pl.lit(',"partner":'), _json_or_null("partner"),
                       pl.lit(',"period":'), pl.col("period").cast(pl.Utf8), pl.lit(',"postings":['), pl.col("p"),
                       pl.lit('],"reference":'), _json_text("reference"), pl.lit(',"reverses":null,"seq":')]
                      ).alias("before"),
        pl.concat_str([pl.lit(',"year":'), _json_text("year"), pl.lit("}")]).alias("after"),
    )
    return parts["before"].to_list(), parts["after"].to_list()


def chained_rows(batch: PostingBatch, account_ids: Mapping[str, int], seq: int, previous: str,
                 chunk: int) -> Iterator[tuple[str, object]]:
    """The rows a batch adds to the books after entry ``seq`` (whose hash is ``previous``), in
    chunks: ``("entries", rows)`` and ``("postings", rows)`` per chunk of ``chunk`` transactions,
    then ``("balances", [(account id, year, pence, postings)])`` and ``("head", (seq, hash))``."""
    before, after = canonical_bodies(batch)
    ids = pl.DataFrame({"account": list(account_ids), "account_id": list(account_ids.values())},
                       schema={"account": pl.Utf8, "account_id": pl.Int64})
    transactions = batch.transactions.with_row_index("txn").with_columns(
        (pl.col("txn").cast(pl.Int64) + seq + 1).alias("seq"), pl.lit(None, pl.Int64).alias("reverses"))
    postings = (batch.postings.join(ids, on="account", how="left", maintain_order="left")
                .join(transactions.select("txn", "seq", "year"), on="txn", how="left", maintain_order="left"))
    ends = postings.group_by("txn", maintain_order=True).len()["len"].cum_sum().to_list()
    posting_rows = postings.select("seq", "line_no", "account_id", "amount")
    entry_rows = transactions.select("seq", "kind", "key", "date", "year", "period", "partner", "reference",
                                     "decision", "description", "reverses")
    sha256 = hashlib.sha256
    for start in range(0, len(before), chunk):
        stop = min(start + chunk, len(before))
        hashes = []
        for i in range(start, stop):
            previous = sha256(f"{previous}{before[i]}{seq + 1 + i}{after[i]}".encode("utf-8")).hexdigest()
            hashes.append(previous)
        yield "entries", entry_rows.slice(start, stop - start).with_columns(pl.Series("hash", hashes)).rows()
        first = ends[start - 1] if start else 0
        yield "postings", posting_rows.slice(first, ends[stop - 1] - first).rows()
    yield "balances", postings.group_by("account_id", "year").agg(pl.col("amount").sum(),
                                                                   pl.len().cast(pl.Int64)).rows()
    yield "head", (seq + len(before), previous)
