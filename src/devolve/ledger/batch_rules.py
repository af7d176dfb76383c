"""The books' rules over a columnar batch, vectorised — a yes/no answer only.

:func:`clear` says True only when :func:`devolve.ledger.rules.check_batch` would find no error in
the same transactions (a property test compares the two). It handles the common, plain case —
contributions, budgets, commitments, payments, accruals and virements — and says False for anything
else (reversals, the close's kinds and accounts, drawdowns from the risk reserve) and for any batch
where a rule might fail; the store then runs the reference rules, which also say what is wrong.

For the rules that follow the batch in order (available funds, the fixed budget), each transaction's
effect is added up in order per budget line (or per year) from the balances before the batch:
when no transaction breaks a rule with every transaction applied, none does when they are checked
one by one either, because then every one of them is applied.
"""

from __future__ import annotations

import polars as pl

from devolve.ledger import accounts as acc
from devolve.ledger.batch import PostingBatch
from devolve.ledger.rules import MAX_KEY, MAX_TEXT, LedgerState

PLAIN_KINDS = ("contribution", "budget", "commitment", "payment", "accrual", "virement")


def clear(state: LedgerState, batch: PostingBatch) -> bool:
    rules = state.rules
    t = batch.transactions.with_row_index("txn")
    p = batch.postings
    if t.height == 0:
        return True
    checks = [
        pl.col("kind").is_in(PLAIN_KINDS).all(),
        (pl.col("key").str.len_chars().is_between(1, MAX_KEY) & pl.col("key").str.contains(r"\S")).all(),
        pl.all_horizontal([pl.col(c).fill_null("").str.len_chars() <= MAX_TEXT
                           for c in ("reference", "description", "decision", "partner")]).all(),
        pl.col("partner").is_null().or_(pl.col("partner").is_in(sorted(rules.partners))).all(),
        pl.col("year").is_in(sorted(set(rules.years) - set(state.closed_years))).all(),
        (pl.col("decision").fill_null("-") != "").all() & (pl.col("partner").fill_null("-") != "").all(),
        (pl.col("year") == _label(pl.col("date"))).all(),
        (pl.col("period") == (pl.col("date").str.slice(5, 2).cast(pl.Int32) - 4) % 12 + 1).all(),
        pl.col("date").str.to_date("%Y-%m-%d", strict=False).is_not_null().all(),
    ]
    shape = t.select([check.alias(f"check_{i}") for i, check in enumerate(checks)]).row(0)
    if not all(shape):
        return False
    names = p["account"].unique().to_list()
    if any(n not in state.accounts or n.startswith(acc.CLOSE_ACCOUNT_PREFIXES) for n in names):
        return False
    chart = pl.DataFrame({
        "account": names,
        "line": [state.accounts[n].line for n in names],
        "sign": [1 if state.accounts[n].role == "budget" else -1 for n in names],
        "budget_role": [state.accounts[n].role == "budget" for n in names],
        "budgetary": [state.accounts[n].root in ("Budget", "Commitments") for n in names],
    }, schema={"account": pl.Utf8, "line": pl.Utf8, "sign": pl.Int64, "budget_role": pl.Boolean,
               "budgetary": pl.Boolean})
    posted = p.join(chart, on="account", how="left").join(t.select("txn", "year", "decision", "kind"), on="txn")
    per_txn = posted.group_by("txn").agg(
        pl.len().alias("n"), (pl.col("amount") == 0).any().alias("zero"), pl.col("amount").sum().alias("total"),
        pl.col("amount").filter(pl.col("budgetary")).sum().alias("budgetary"),
        pl.col("budget_role").all().alias("budget_only"),
        pl.col("amount").filter(pl.col("amount") > 0).sum().alias("moved"),
        ((pl.col("account") == acc.RISK_RESERVE) & (pl.col("amount") > 0)).any().alias("draws_reserve"),
        pl.col("amount").filter(pl.col("budget_role") & (pl.col("amount") > 0)
                                & pl.col("line").str.starts_with("Schemes:")).sum().alias("funded"),
        pl.col("kind").first(), pl.col("decision").first())
    bad = per_txn.select(
        ((pl.col("n") < 2) | pl.col("zero") | (pl.col("total") != 0) | (pl.col("budgetary") != 0)
         | pl.col("draws_reserve")
         | ((pl.col("kind") == "virement") & ~pl.col("budget_only"))
         | ((pl.col("kind") == "virement") & pl.col("decision").is_null()
            & (pl.col("moved") > rules.delegation_limit))
         | (pl.col("decision").is_null() & (pl.col("funded") > rules.delegation_limit))).any()).item()
    if bad:
        return False
    return _funds_available(state, posted) and _within_fixed_budget(state, posted)


def _label(day: pl.Expr) -> pl.Expr:
    """The financial year of an ISO date, as "2016/17"."""
    year, month = day.str.slice(0, 4).cast(pl.Int32), day.str.slice(5, 2).cast(pl.Int32)
    first = pl.when(month >= 4).then(year).otherwise(year - 1)
    return pl.concat_str([first.cast(pl.Utf8), pl.lit("/"), ((first + 1) % 100).cast(pl.Utf8).str.zfill(2)])


def _start(state: LedgerState, keys: list[tuple[str, str]], value) -> pl.DataFrame:
    return pl.DataFrame({"line": [k[0] for k in keys], "year": [k[1] for k in keys],
                         "start": [value(*k) for k in keys]}, schema={"line": pl.Utf8, "year": pl.Utf8,
                                                                     "start": pl.Int64})


def _funds_available(state: LedgerState, posted: pl.DataFrame) -> bool:
    lines = (posted.filter(pl.col("line").is_not_null())
             .group_by("txn", "line", "year").agg((pl.col("sign") * pl.col("amount")).sum().alias("delta"),
                                                  pl.col("decision").first()))
    if lines.height == 0:
        return True

    def available(line: str, year: str) -> int:
        b = state.balances
        return (b.get((acc.budget(line), year), 0) - b.get((acc.commitment(line), year), 0)
                - b.get((acc.actual(line), year), 0))

    keys = lines.select("line", "year").unique().rows()
    running = (lines.join(_start(state, keys, available), on=["line", "year"]).sort("txn")
               .with_columns((pl.col("start") + pl.col("delta").cum_sum().over("line", "year")).alias("after")))
    return not running.select(((pl.col("delta") < 0) & (pl.col("after") < 0)
                               & pl.col("decision").is_null()).any()).item()


def _within_fixed_budget(state: LedgerState, posted: pl.DataFrame) -> bool:
    funding = (posted.filter(pl.col("account") == acc.BUDGET_FUNDING)
               .group_by("txn", "year").agg(pl.col("amount").sum().alias("delta"), pl.col("decision").first()))
    if funding.height == 0:
        return True
    rules, b = state.rules, state.balances

    def limit(year: str) -> int:
        brought = -b.get((acc.CARRIED_IN, year), 0)
        return rules.pooled_budget.get(year, 0) + rules.transformation_fund.get(year, 0) + max(brought, 0)

    years = funding["year"].unique().to_list()
    starts = pl.DataFrame({"year": years, "start": [b.get((acc.BUDGET_FUNDING, y), 0) for y in years],
                           "limit": [limit(y) for y in years]},
                          schema={"year": pl.Utf8, "start": pl.Int64, "limit": pl.Int64})
    running = (funding.join(starts, on="year").sort("txn")
               .with_columns((-(pl.col("start") + pl.col("delta").cum_sum().over("year"))).alias("authorised")))
    return not running.select(((pl.col("delta") < 0) & pl.col("decision").is_null()
                               & (pl.col("authorised") > pl.col("limit"))).any()).item()
