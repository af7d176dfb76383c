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

from datetime import date

import polars as pl

from devolve.ledger import accounts as acc
from devolve.ledger.batch import PostingBatch
from devolve.ledger.records import period_of, year_of
from devolve.ledger.rules import MAX_KEY, MAX_TEXT, LedgerState

PLAIN_KINDS = ("contribution", "budget", "commitment", "payment", "accrual", "virement")


def clear(state: LedgerState, batch: PostingBatch) -> bool:
    rules = state.rules
    t, p = batch.transactions, batch.postings
    if t.height == 0:
        return True
    txn = p["txn"].cast(pl.Int64)
    if p.height == 0 or txn[0] != 0 or txn[-1] != t.height - 1 or not txn.is_sorted():
        return False          # postings must be the transactions' runs of rows, in order
    if p.select(pl.any_horizontal(pl.all().is_null()).any()).item():
        return False
    checks = [
        pl.all_horizontal([pl.col(c).is_not_null()
                           for c in ("key", "kind", "date", "year", "period", "reference", "description")]).all(),
        pl.col("kind").is_in(PLAIN_KINDS).all(),
        # Python's isspace() also counts \x1c-\x1f as space; the regex's \s does not
        (pl.col("key").str.len_chars().is_between(1, MAX_KEY) & pl.col("key").str.contains(r"[^\s\x1c-\x1f]")).all(),
        pl.all_horizontal([pl.col(c).fill_null("").str.len_chars() <= MAX_TEXT
                           for c in ("reference", "description", "decision", "partner")]).all(),
        pl.col("partner").is_null().or_(pl.col("partner").is_in(sorted(rules.partners))).all(),
        pl.col("year").is_in(sorted(set(rules.years) - set(state.closed_years))).all(),
        (pl.col("decision").fill_null("-") != "").all() & (pl.col("partner").fill_null("-") != "").all(),
    ]
    if not all(t.select([check.alias(f"check_{i}") for i, check in enumerate(checks)]).row(0)):
        return False
    for text, year, period in t.select("date", "year", "period").unique().iter_rows():
        try:
            day = date.fromisoformat(text)
        except (TypeError, ValueError):
            return False
        if day.isoformat() != text or year != year_of(day) or period != period_of(day):
            return False
    names = p["account"].unique().to_list()
    if any(n not in state.accounts or n.startswith(acc.CLOSE_ACCOUNT_PREFIXES) for n in names):
        return False
    lines = sorted({state.accounts[n].line for n in names if state.accounts[n].line is not None})
    line_id = {line: i for i, line in enumerate(lines)}
    chart = pl.DataFrame({
        "account": names,
        "line_id": [line_id.get(state.accounts[n].line) for n in names],
        "sign": [1 if state.accounts[n].role == "budget" else -1 for n in names],
        "budget_role": [state.accounts[n].role == "budget" for n in names],
        "budgetary": [state.accounts[n].root in ("Budget", "Commitments") for n in names],
        "scheme_budget": [state.accounts[n].role == "budget" and (state.accounts[n].line or "").startswith("Schemes:")
                          for n in names],
    }, schema={"account": pl.Utf8, "line_id": pl.Int64, "sign": pl.Int64, "budget_role": pl.Boolean,
               "budgetary": pl.Boolean, "scheme_budget": pl.Boolean})
    year_id = t.select(pl.col("year").replace_strict(list(rules.years), list(range(len(rules.years))),
                                                     return_dtype=pl.Int64))[:, 0]
    posted = (p.select(txn.alias("txn").set_sorted(), "account", "amount")
              .join(chart, on="account", how="left", maintain_order="left")
              .with_columns(t["year"].gather(txn).alias("year"), year_id.gather(txn).alias("year_id"),
                            t["decision"].gather(txn).alias("decision")))
    largest = max((abs(v) for v in state.balances.values()), default=0)
    if posted.select(pl.col("amount").cast(pl.Float64).abs().sum() + largest >= 2.0 ** 62).item():
        return False          # sums could overflow 64 bits: the reference rules add up exactly
    per_txn = posted.group_by("txn", maintain_order=True).agg(
        pl.len().alias("n"), (pl.col("amount") == 0).any().alias("zero"), pl.col("amount").sum().alias("total"),
        pl.col("amount").filter(pl.col("budgetary")).sum().alias("budgetary"),
        pl.col("budget_role").all().alias("budget_only"),
        pl.col("amount").filter(pl.col("amount") > 0).sum().alias("moved"),
        ((pl.col("account") == acc.RISK_RESERVE) & (pl.col("amount") > 0)).any().alias("draws_reserve"),
        pl.col("amount").filter(pl.col("scheme_budget") & (pl.col("amount") > 0)).sum().alias("funded"))
    if per_txn.height != t.height:
        return False          # a transaction without postings
    kind, decision = t["kind"], t["decision"]
    bad = per_txn.select(
        ((pl.col("n") < 2) | pl.col("zero") | (pl.col("total") != 0) | (pl.col("budgetary") != 0)
         | pl.col("draws_reserve")
         | ((kind == "virement") & ~pl.col("budget_only"))
         | ((kind == "virement") & decision.is_null() & (pl.col("moved") > rules.delegation_limit))
         | (decision.is_null() & (pl.col("funded") > rules.delegation_limit))).any()).item()
    if bad:
        return False
    return _funds_available(state, posted, lines) and _within_fixed_budget(state, posted)


def _funds_available(state: LedgerState, posted: pl.DataFrame, lines: list[str]) -> bool:
    """No transaction without a decision takes a budget line's available funds below zero, each
    checked after those before it (a transaction's postings to one line are netted first).

    A budget line in a year is a ``cell``, numbered ``line_id × years + year_id``."""
    years = state.rules.years
    moves = posted.filter(pl.col("line_id").is_not_null()).select(
        "txn", (pl.col("line_id") * len(years) + pl.col("year_id")).alias("cell"),
        (pl.col("sign") * pl.col("amount")).alias("delta"), "decision")
    if moves.height == 0:
        return True
    if moves.select((pl.col("txn") * (len(lines) * len(years)) + pl.col("cell")).n_unique()).item() != moves.height:
        moves = moves.group_by("txn", "cell", maintain_order=True).agg(pl.col("delta").sum(),
                                                                      pl.col("decision").first())
    b = state.balances

    def available(cell: int) -> int:
        line, year = lines[cell // len(years)], years[cell % len(years)]
        return (b.get((acc.budget(line), year), 0) - b.get((acc.commitment(line), year), 0)
                - b.get((acc.actual(line), year), 0))

    cells = moves["cell"].unique().to_list()
    starts = pl.DataFrame({"cell": cells, "start": [available(c) for c in cells]},
                          schema={"cell": pl.Int64, "start": pl.Int64})
    running = (moves.join(starts, on="cell", how="left", maintain_order="left")
               .with_columns((pl.col("start") + pl.col("delta").cum_sum().over("cell")).alias("after")))
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
