"""Use cases of the pooled fund's books: what `devolve ledger …` (and the web app and governance) call.

Each function takes the database URL (a SQLite file by default, PostgreSQL for many users), does
one job through :mod:`devolve.ledger`, and returns plain JSON-ready data. Writing export files is
:mod:`devolve.ledger.exports`' job, called from :func:`export`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select

from devolve.domain.errors import DevolveError, InputError, Problem
from devolve.domain.periods import FinancialYear
from devolve.ledger import exports, queries
from devolve.ledger import schema as tables
from devolve.ledger.database import check_reachable, describe_url, make_engine
from devolve.ledger.budgets import budget_transaction, plan_budget
from devolve.ledger.demo import generate_demo
from devolve.ledger.hashing import verify_chain
from devolve.ledger.importer import read_file
from devolve.ledger.journal import stored_bodies, stored_entries
from devolve.ledger.openbook import open_book
from devolve.ledger.parsing import ImportRejected, ParsedFile
from devolve.ledger.records import BookRules, Kind, LedgerError, Posting, Transaction
from devolve.ledger.reports import BY, budget_against_actual, by_partner, five_year, movements, trial_balance
from devolve.ledger.store import Books, BooksUnavailable, RejectedEntries
from devolve.packs.loader import load_deal

Progress = Callable[[str], None]
RULE_FIELDS = {
    "balanced": ("debit/credit", "debits equal to credits"),
    "known_accounts": ("account", "an account open in the books"),
    "known_partner": ("partner", "a partner of the deal"),
    "year_of_deal": ("year", "a year of the deal"),
    "open_year": ("year", "a year that is still open"),
    "close_only": ("kind", "a kind an import may post (risk shares and carry-forwards come from close-year)"),
    "reversal": ("reverses", "an earlier transaction, negated exactly and reversed once"),
    "virement": ("account", "budget line accounts only"),
    "available_funds": ("account", "funds available on the budget line, or a governance decision"),
    "fixed_budget": ("decision", "budgets within the year's fixed budget, or a governance decision"),
    "delegation": ("decision", "a governance decision above the delegation limit"),
    "idempotency": ("key", "a key that is new, or a retry of the same content"),
    "decision_known": ("decision", "an approved decision of the board that authorised this transaction"),
    "well_formed": ("(transaction)", "a well-formed entry"),
}


def _year(rules: BookRules, year: str | None) -> str | None:
    if year is None:
        return None
    label = FinancialYear.parse(year).label
    if label not in rules.years:
        raise InputError(f"year {label} is outside the deal ({rules.years[0]} to {rules.years[-1]})")
    return label


def _district_weights(deal, year: str) -> tuple[dict[str, float], str]:
    """Districts' fair shares from the allocation engine, else their populations."""
    try:
        from devolve.services.allocation import allocate
        table = allocate(deal, year=year, level="district").table
        weights = {r["id"]: float(r["allocation_pence"]) for r in table.iter_rows(named=True)}
        if weights and all(d.code in weights for d in deal.districts):
            return weights, "the allocation engine's fair shares"
    except (ImportError, DevolveError, KeyError):
        pass
    return {d.code: float(d.population) for d in deal.districts}, "district population (allocation engine unavailable)"


def open_books(db_url: str, deal_ref: str, *, demo: bool = False, data_dir: str | Path | None = None,
               progress: Progress | None = None) -> dict[str, Any]:
    """Create (or re-open) the books of a deal; with ``demo``, book and close a synthetic first year."""
    step = progress or (lambda _s: None)
    step("load the deal")
    deal = load_deal(deal_ref, data_dir=data_dir)
    rules = BookRules.from_deal(deal)
    step("open the books")
    books, created = Books.create(db_url, rules)
    result: dict[str, Any] = {"db": describe_url(db_url), "deal": deal.id, "created": created,
                              "host_partner": rules.host_partner, "pool_manager": rules.pool_manager,
                              "risk_share": rules.risk_share.get("method")}
    if demo:
        year = rules.years[0]
        if year in books.closed_years():
            result["demo"] = {"year": year, "already_booked": True}
        else:
            step("allocate the budget")
            weights, split = _district_weights(deal, year)
            demo_year = generate_demo(deal, rules, weights, split)
            step("book the synthetic year")
            appended = books.append(demo_year.entries)
            step("close the year")
            plan = books.close_year(year)
            result["demo"] = {"year": year, "synthetic": True, "entries": len(demo_year.entries),
                              "added": appended.added, "district_split": split, "notes": list(demo_year.notes),
                              "year_end": plan.summary()}
    step("set up the board")
    from devolve.services import governance
    result["board"] = {"created": governance.setup(db_url, deal, on=deal.start)}
    if demo:
        step("record the board's synthetic year")
        result["board"]["demo"] = governance.seed_demo(db_url, deal, data_dir=data_dir)
    seq, head = books.head()
    result.update({"entries": seq, "head_hash": head})
    books.dispose()
    return result


def seed_budget(db_url: str, deal_ref: str, year: str, *, decision: str | None, data_dir: str | Path | None = None,
                key: str | None = None) -> dict[str, Any]:
    """Set a year's budget from the allocation engine's fair shares (services by expected cost, the
    risk reserve set aside, the schemes' investment), as one budget transaction; a retry is a no-op."""
    deal = load_deal(deal_ref, data_dir=data_dir)
    books = Books.open(db_url)
    try:
        if books.rules.deal_id != deal.id:
            raise InputError(f"the books at {describe_url(db_url)} are kept for {books.rules.deal_id}, not {deal.id}")
        label = _year(books.rules, year)
        weights, split = _district_weights(deal, label)
        plan = plan_budget(deal, books.rules, label, weights)
        t = budget_transaction(plan, key or f"budget:{label}:allocation", decision=decision,
                               partner=books.rules.pool_manager, reference=f"allocation {label}",
                               description=f"The {label} pooled budget by service and district "
                                           f"(districts split by {split})")
        result = books.append([t])
    finally:
        books.dispose()
    return {"year": label, "district_split": split, "lines": len(plan.lines), "budget_pence": plan.total,
            "risk_reserve_pence": plan.reserve, "added": result.added, "head_hash": result.head_hash}


def _rejected(parsed: ParsedFile, error: RejectedEntries) -> ImportRejected:
    """The store's rule errors as row-level problems of the file (the row of the account at fault
    where the error names one, else the transaction's first row)."""
    by_key = {e.key: e for e in parsed.entries}
    problems = []
    for e in error.errors:
        where, lines = parsed.rows.get(e.key) or (Path(parsed.path).name, [None])
        line = lines[0]
        entry = by_key.get(e.key)
        if isinstance(entry, Transaction):
            for i, posting in enumerate(entry.postings):
                named = posting.account in e.message or (e.rule == "available_funds" and
                                                          f"line {posting.account.split(':', 1)[1]} " in e.message)
                if named and i < len(lines):
                    line = lines[i]
                    break
        field, expected = RULE_FIELDS.get(e.rule, ("(transaction)", e.rule))
        problems.append(Problem(where, field, expected, f"({e.message})", line))
    return ImportRejected(problems)


def _cited_decisions(parsed: ParsedFile) -> list[tuple[str, str]]:
    """(key, decision) of every transaction in the file that cites a decision."""
    if parsed.batch is not None:
        cited = parsed.batch.transactions.filter(parsed.batch.transactions["decision"].is_not_null())
        return list(zip(cited["key"].to_list(), cited["decision"].to_list()))
    return [(e.key, e.decision) for e in parsed.entries if isinstance(e, Transaction) and e.decision]


def check_decisions(db_url: str, cited: list[tuple[str, str]]) -> list[LedgerError]:
    """Where the database keeps the board's decision log, a transaction may cite only an approved
    decision; one that cites a virement or fund drawdown must be one the decision itself described."""
    if not cited:
        return []
    from devolve.services.governance import approved_decisions
    approved = approved_decisions(db_url)
    if approved is None:
        return []
    errors = []
    for key, decision in cited:
        if decision not in approved:
            errors.append(LedgerError("decision_known", key, f"cites decision '{decision}', which is not an approved "
                                                             "decision of the board (see `devolve board log`)"))
        elif approved[decision] and key not in approved[decision]:
            errors.append(LedgerError("decision_known", key, f"cites decision '{decision}', which authorised only its "
                                                             f"own transactions ({', '.join(sorted(approved[decision]))})"))
    return errors


def _append_file(books: Books, parsed: ParsedFile) -> dict[str, Any]:
    try:
        errors = check_decisions(books.url, _cited_decisions(parsed))
        if errors:
            raise RejectedEntries(errors)
        if parsed.batch is not None:
            count = len(parsed.batch)
            result = books.append_batch(parsed.batch)
        else:
            entries = list(parsed.entries)
            if any(isinstance(e, Transaction) and e.kind == Kind.REVERSAL.value and not e.postings for e in entries):
                entries = _fill_reversals(books, entries)
            count = len(entries)
            result = books.append(entries)
    except RejectedEntries as error:
        raise _rejected(parsed, error) from None
    return {"file": parsed.path, "entries": count, "postings": parsed.postings, "added": result.added,
            "already_in_books": result.skipped, "head_seq": result.head_seq, "head_hash": result.head_hash}


def _fill_reversals(books: Books, entries: list) -> list:
    targets = sorted({e.reverses for e in entries if isinstance(e, Transaction) and e.reverses and not e.postings})
    with books.engine.connect() as connection:
        originals = {seq: e for seq, _, e in stored_entries(connection, targets)}
    out = []
    for e in entries:
        original = originals.get(e.reverses) if isinstance(e, Transaction) and not e.postings else None
        if isinstance(original, Transaction):
            e = e._replace(postings=tuple(Posting(p.account, -p.amount) for p in original.postings),
                           partner=e.partner or original.partner)
        out.append(e)
    return out


def post(db_url: str, file: str | Path) -> dict[str, Any]:
    """Post hand-written transactions (JSON or YAML; CSV and Excel work too), all or nothing."""
    books = Books.open(db_url)
    try:
        return _append_file(books, read_file(file, books.rules))
    finally:
        books.dispose()


def import_file(db_url: str, file: str | Path, progress: Progress | None = None) -> dict[str, Any]:
    """Import a CSV or Excel file of postings, account openings or cost returns: every row is checked
    first, then all are appended in one database transaction — or none, with row-level problems."""
    step = progress or (lambda _s: None)
    books = Books.open(db_url)
    try:
        step(f"read {Path(file).name}")
        parsed = read_file(file, books.rules)
        step(f"check and append {len(parsed.batch) if parsed.batch is not None else len(parsed.entries):,} entries")
        return _append_file(books, parsed)
    finally:
        books.dispose()


def balance(db_url: str, *, by: str | None = None, year: str | None = None) -> dict[str, Any]:
    """The trial balance (debits = credits), optionally grouped, and the five-year position."""
    by = by or "account"
    if by not in BY:
        raise InputError(f"--by {by} is not one of {', '.join(BY)}")
    books = Books.open(db_url)
    try:
        year = _year(books.rules, year)
        with books.engine.connect() as c:
            rows = queries.balance_rows(c)
            chart = queries.chart(c)
            count = queries.transaction_count(c, year)
            closed = books.closed_years(c)
            paid = queries.paid_to_providers(c, year) if by == "partner" else None
            seq, head = _head(c, db_url)
    finally:
        books.dispose()
    moves = movements(rows, year)
    payload = {"db": describe_url(db_url), "deal": books.rules.deal_id, "year": year, "transactions": count,
               "entries": int(seq), "head_hash": head, "closed_years": closed, "by": by, **trial_balance(moves)}
    if by in ("line", "service", "district", "neighbourhood"):
        payload["groups"] = budget_against_actual(moves, chart, by)
    elif by == "partner":
        payload["groups"] = by_partner(moves, books.rules, paid)
    payload["five_year"] = five_year(rows, chart, books.rules, closed)
    return payload


def _head(connection, db_url: str) -> tuple[int, str]:
    row = connection.execute(select(tables.chain_head.c.seq, tables.chain_head.c.hash)).first()
    if row is None:
        raise BooksUnavailable(f"the books at {describe_url(db_url)} have lost their chain head record: "
                               "run `devolve ledger verify`")
    return int(row[0]), row[1]


def open_book_report(db_url: str, *, year: str | None = None) -> dict[str, Any]:
    books = Books.open(db_url)
    try:
        year = _year(books.rules, year)
        with books.engine.connect() as c:
            report = open_book(books.rules, queries.price_rows(c), queries.cost_rows(c), year)
    finally:
        books.dispose()
    return {"db": describe_url(db_url), "deal": books.rules.deal_id, **report}


def close_year(db_url: str, year: str) -> dict[str, Any]:
    """Apply the deal's risk share and carry-forward to ``year`` and close it."""
    books = Books.open(db_url)
    try:
        label = _year(books.rules, year)
        plan = books.close_year(label)
        seq, head = books.head()
    finally:
        books.dispose()
    return {"db": describe_url(db_url), "deal": books.rules.deal_id, "risk_share": books.rules.risk_share.get("method"),
            "carry_forward_limit": books.rules.carry_forward_limit, **plan.summary(), "entries": seq,
            "head_hash": head}


def verify(db_url: str | None = None, *, file: str | Path | None = None,
           expect_head: str | None = None) -> dict[str, Any]:
    """Recompute the hash chain of the books (or of an exported journal) and report the first
    tampered or missing entry; for the books, also check the kept balances against the postings."""
    if file is not None:
        rows, published = exports.read_journal(file)
        result = exports.verify_journal(rows, expect_head or published)
        return {"source": str(file), **result.as_dict()}
    engine = make_engine(db_url)
    check_reachable(engine, db_url)
    try:
        with engine.connect() as c:
            if not inspect(c).has_table("entries"):
                raise BooksUnavailable(f"there are no books at {describe_url(db_url)}")
            head = c.execute(select(tables.chain_head.c.seq, tables.chain_head.c.hash)).first()
            check = verify_chain(stored_bodies(c), expect_head=tuple(head) if head else None, expect_hash=expect_head)
            disagreeing = queries.balances_disagreeing(c)
    finally:
        engine.dispose()
    result = {"source": describe_url(db_url), **check.as_dict(), "balances_ok": not disagreeing}
    if check.ok and head is None:
        result.update(ok=False, problem="the books' chain head record is missing")
    if disagreeing:
        account, year, stored, recomputed = disagreeing[0]
        result["ok"] = False
        result["problem"] = result["problem"] or (f"the kept balance of {account} in {year} is {stored} pence "
                                                  f"but its postings add up to {recomputed}")
    return result


def export(db_url: str, file: str | Path, *, fmt: str | None = None, year: str | None = None) -> dict[str, Any]:
    """Publish the books: the journal as CSV, a workbook, or a Fiscal Data Package folder."""
    path = Path(file)
    fmt = fmt or ("xlsx" if path.suffix.lower() == ".xlsx" else "csv" if path.suffix.lower() == ".csv" else "fdp")
    if fmt not in ("csv", "xlsx", "fdp"):
        raise InputError(f"--format {fmt} is not one of csv, xlsx, fdp")
    if fmt == "fdp" and path.name == "datapackage.json":
        path = path.parent
    books = Books.open(db_url)
    try:
        year = _year(books.rules, year)
        with books.engine.connect() as c:
            seq, head = _head(c, db_url)
            journal = exports.journal_rows(stored_entries(c))
            if fmt == "csv":
                exports.write_csv(path, exports.JOURNAL_COLUMNS, journal)
            else:
                rows, chart = queries.balance_rows(c), queries.chart(c)
                approved = queries.posted_by_kind(c, "budget", [Kind.BUDGET.value])
                fiscal = exports.fiscal_rows(books.rules, chart, rows, approved, year)
                if fmt == "fdp":
                    exports.write_fiscal_package(path, exports.datapackage(books.rules, (int(seq), head)), fiscal,
                                                 journal)
                else:
                    exports.write_xlsx(path, _workbook(c, books, rows, chart, fiscal, journal, (int(seq), head), year))
    finally:
        books.dispose()
    return {"file": str(path.resolve()), "format": fmt, "entries": int(seq), "head_hash": head,
            "verify": f"devolve ledger verify --file {path}"}


def _workbook(c, books: Books, rows, chart, fiscal, journal, head, year) -> dict:
    rules = books.rules
    moves = movements(rows, year)
    tb = trial_balance(moves)
    lines = budget_against_actual(moves, chart, "line")
    partners = by_partner(moves, rules, queries.paid_to_providers(c, year))
    book = open_book(rules, queries.price_rows(c), queries.cost_rows(c), year)
    years = five_year(rows, chart, rules, books.closed_years(c))["years"]

    def table(items: list[dict]) -> tuple[list[str], list[list]]:
        header = list(items[0]) if items else ["(none)"]
        return header, [[r.get(h) for h in header] for r in items]

    about = [["deal", rules.deal_id], ["deal_name", rules.deal_name], ["entries", head[0]], ["head_hash", head[1]],
             ["year", year or "all"], ["host_partner", rules.host_partner], ["pool_manager", rules.pool_manager],
             ["verify", "devolve ledger verify --file <this workbook>"],
             ["money", "pence (integers) except the journal's debit and credit, in pounds"]]
    about += [["synthetic", item] for item in rules.synthetic]
    return {"about": (["field", "value"], about), "journal": (exports.JOURNAL_COLUMNS, journal),
            "trial_balance": table(tb["accounts"]), "budget_vs_actual": table(lines), "partners": table(partners),
            "open_book": table(book["rows"]), "five_year": table(years),
            "fiscal_data": (exports.BUDGET_COLUMNS, fiscal)}


def books_summary(db_url: str) -> dict[str, Any]:
    """A short account of the books for the main report: size, head hash, years, five-year position."""
    whole = balance(db_url)
    book = open_book_report(db_url)
    return {"deal": whole["deal"], "entries": whole["entries"], "transactions": whole["transactions"],
            "head_hash": whole["head_hash"], "closed_years": whole["closed_years"],
            "debits_pence": whole["debits_pence"], "credits_pence": whole["credits_pence"],
            "five_year": whole["five_year"], "providers": book["providers"], "open_book_flags": book["flags"]}


__all__ = ["balance", "books_summary", "close_year", "export", "import_file", "open_book_report", "open_books", "post",
           "seed_budget", "verify"]
