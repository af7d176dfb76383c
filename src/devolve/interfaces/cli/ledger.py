"""`devolve ledger …`: the pooled fund's books — open them, post and import, balance, open book,
close a year, verify the audit trail, export."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from devolve.domain.money import format_gbp
from devolve.interfaces.cli.common import (
    DataDirOption, DbOption, JsonOption, console, err_console, handles_errors, print_json, print_verification,
)
from devolve.ledger.database import DEFAULT_URL
from devolve.ledger.parsing import ImportRejected, problems_as_dicts
from devolve.services import ledger as books

app = typer.Typer(no_args_is_help=True)

YearOption = Annotated[str | None, typer.Option("--year", help="A financial year of the deal, e.g. 2016/17 "
                                                               "(default: all years).", show_default=False)]
FileArgument = Annotated[Path, typer.Argument(help="The file to read.", metavar="FILE")]


@app.callback()
def ledger_group(
    ctx: typer.Context,
    db: DbOption = DEFAULT_URL,
) -> None:
    """The pooled fund's books: double-entry in pence, budgets and commitments, open-book cost returns,
    the year-end risk share and carry-forward, and a hash-chained audit trail anyone can verify.

    Example: devolve ledger --db sqlite:///gm.db init greater-manchester-2016 --demo
    """
    ctx.obj = {"db": db}


@contextmanager
def _stages(title: str, quiet: bool):
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console,
                  transient=True, disable=quiet) as progress:
        task = progress.add_task(title, total=None)
        yield lambda stage: progress.update(task, description=f"{title}: {stage}")


def _rejected(exc: ImportRejected, json_output: bool) -> None:
    if json_output:
        print_json({"ok": False, "problems": problems_as_dicts(exc.problems)})
        raise typer.Exit(2)
    raise exc


@app.command("init")
@handles_errors
def init_command(ctx: typer.Context,
                 deal: Annotated[str, typer.Argument(help="A built-in deal id or a pack folder.", metavar="DEAL")],
                 demo: Annotated[bool, typer.Option(
                     "--demo", help="Also book and close a synthetic, labelled first year (contributions, budgets, "
                                    "contracts, payments, cost returns, a virement, the risk share), and record "
                                    "the board's synthetic decisions (a scheme funded and enacted, a virement "
                                    "rejected).")] = False,
                 data_dir: DataDirOption = None, json_output: JsonOption = False) -> None:
    """Open the books of a deal and set up its board beside them (create the schema, the chart of
    accounts and the decision log; safe to run again).

    Example: devolve ledger --db sqlite:///gm.db init greater-manchester-2016 --demo
    """
    with _stages("init", json_output) as step:
        result = books.open_books(ctx.obj["db"], deal, demo=demo, data_dir=data_dir, progress=step)
    if json_output:
        print_json(result)
        return
    console.print(f"[bold]{'Opened' if result['created'] else 'Re-opened'}[/] the books of {result['deal']} at "
                  f"{result['db']}: {result['entries']:,} entries; head hash {result['head_hash']}")
    console.print(f"Host partner {result['host_partner']}, pool manager {result['pool_manager']}, "
                  f"risk share: {result['risk_share']}")
    if "demo" in result and not result["demo"].get("already_booked"):
        d = result["demo"]
        console.print(f"[red]Synthetic[/] demo year {d['year']}: {d['added']:,} entries booked "
                      f"(districts split by {d['district_split']}); year closed:")
        _print_year_end(d["year_end"])
    elif "demo" in result:
        console.print(f"The demo year {result['demo']['year']} is already booked and closed.")
    seeded = result.get("board", {}).get("demo")
    if seeded and not seeded.get("already_recorded"):
        console.print("[red]Synthetic[/] board decisions recorded (see `devolve board log`):")
        for p in seeded["proposals"]:
            linked = f" → ledger entry {', '.join(str(s) for s in p['ledger_transactions'])}" \
                if p["ledger_transactions"] else " → nothing in the books"
            console.print(f"  {p['id']} {p['kind'].replace('_', ' ')}: {p['outcome']}"
                          f"{', enacted' if p['enacted'] else ''}{linked}")


def _print_year_end(y: dict) -> None:
    console.print(f"  result {format_gbp(y['result_pence'])} (gross overspend {format_gbp(y['gross_overspend_pence'])},"
                  f" line underspends {format_gbp(y['line_underspends_pence'])})")
    table = Table(title=f"Who covered the overspend of {y['year']}")
    for column in ("source", "partner", "£"):
        table.add_column(column, justify="right" if column == "£" else "left")
    for c in y["covers"]:
        table.add_row(c["source"].replace("_", " "), c["partner"] or "", format_gbp(c["pence"], unit="gbp"))
    if y["covers"]:
        console.print(table)
    for partner, pence in y["returned_pence"].items():
        console.print(f"  returned to {partner}: {format_gbp(pence)}")
    console.print(f"  carried forward {format_gbp(y['carried_forward_pence'])}; "
                  f"unfunded {format_gbp(y['unfunded_pence'])}")


@app.command("post")
@handles_errors
def post_command(ctx: typer.Context, file: FileArgument, json_output: JsonOption = False) -> None:
    """Post hand-written transactions from a JSON or YAML file (all or nothing; retries are no-ops).

    Example: devolve ledger --db sqlite:///gm.db post virement.yaml
    """
    try:
        result = books.post(ctx.obj["db"], file)
    except ImportRejected as exc:
        _rejected(exc, json_output)
    _print_append(result, json_output)


@app.command("import")
@handles_errors
def import_command(ctx: typer.Context, file: FileArgument, json_output: JsonOption = False) -> None:
    """Import postings, account openings or cost returns from CSV or Excel: every row is checked
    first; any problem is reported by row (exit code 2) and nothing is written.

    Example: devolve ledger --db sqlite:///gm.db import april.csv
    """
    try:
        with _stages("import", json_output) as step:
            result = books.import_file(ctx.obj["db"], file, progress=step)
    except ImportRejected as exc:
        _rejected(exc, json_output)
    _print_append(result, json_output)


def _print_append(result: dict, json_output: bool) -> None:
    if json_output:
        print_json({"ok": True, **result})
        return
    console.print(f"[green]Appended[/] {result['added']:,} entries ({result['postings']:,} postings) from "
                  f"{result['file']}; {result['already_in_books']:,} already in the books.")
    console.print(f"Head: entry {result['head_seq']:,}, hash {result['head_hash']}")


@app.command("balance")
@handles_errors
def balance_command(ctx: typer.Context,
                    by: Annotated[str | None, typer.Option(
                        "--by", help="Group by partner, line, service, district or neighbourhood "
                                     "(default: each account).")] = None,
                    year: YearOption = None, json_output: JsonOption = False) -> None:
    """The trial balance (debit balances equal credit balances), budget against actual, and the
    five-year position.

    Example: devolve ledger --db sqlite:///gm.db balance --by district --year 2016/17 --json
    """
    result = books.balance(ctx.obj["db"], by=by, year=year)
    if json_output:
        print_json(result)
        return
    console.print(f"[bold]{result['deal']}[/] {result['year'] or 'all years'}: {result['transactions']:,} "
                  f"transactions; debits {format_gbp(result['debits_pence'])} = credits "
                  f"{format_gbp(result['credits_pence'])}")
    if "groups" in result:
        rows = result["groups"]
        columns = [k for k in (rows[0] if rows else {}) if k not in ("name", "type")]
        table = Table(title=f"By {result['by']}")
        for column in columns:
            table.add_column(column.replace("_pence", " £").replace("_", " "),
                             justify="right" if column.endswith("_pence") else "left")
        for row in rows:
            table.add_row(*[format_gbp(row[c], unit="gbp") if c.endswith("_pence") else str(row[c]) for c in columns])
        console.print(table)
    else:
        table = Table(title="Trial balance")
        table.add_column("account")
        table.add_column("debit £", justify="right")
        table.add_column("credit £", justify="right")
        for a in result["accounts"]:
            v = a["balance_pence"]
            table.add_row(a["account"], format_gbp(v, unit="gbp") if v > 0 else "",
                          format_gbp(-v, unit="gbp") if v < 0 else "")
        console.print(table)
    five = result["five_year"]
    console.print(f"Five years: balance {format_gbp(five['balance_pence'])} "
                  f"({'in balance' if five['in_balance'] else 'NOT in balance'}); closed: "
                  f"{', '.join(result['closed_years']) or 'none'}")


@app.command("open-book")
@handles_errors
def open_book_command(ctx: typer.Context, year: YearOption = None, json_output: JsonOption = False) -> None:
    """Open-book accounting: price paid against providers' returned costs, by provider and service,
    the same for every partner.

    Example: devolve ledger --db sqlite:///gm.db open-book --year 2016/17
    """
    result = books.open_book_report(ctx.obj["db"], year=year)
    if json_output:
        print_json(result)
        return
    table = Table(title=f"Open book: {result['deal']} {result['year'] or 'all years'}")
    for column in ("provider", "services", "price paid", "cost", "margin", "margin %", "returns"):
        table.add_column(column, justify="left" if column == "provider" else "right")
    for p in result["providers"]:
        share = "" if p["margin_share"] is None else f"{p['margin_share'] * 100:.1f}%"
        table.add_row(p["provider_name"], str(p["services"]), format_gbp(p["price_paid_pence"]),
                      format_gbp(p["cost_pence"]), format_gbp(p["margin_pence"]), share, str(p["cost_returns"]))
    console.print(table)
    flagged = {k: v for k, v in result["flags"].items() if v}
    if flagged:
        console.print("Flags: " + "; ".join(f"{k}: {v}" for k, v in flagged.items()))


@app.command("close-year")
@handles_errors
def close_year_command(ctx: typer.Context,
                       year: Annotated[str, typer.Argument(help="The financial year to close, e.g. 2016/17.",
                                                           metavar="YEAR")],
                       json_output: JsonOption = False) -> None:
    """Close a financial year: share an overspend under the deal's risk-share agreement, carry an
    underspend forward (up to the carry-forward limit) or return it; nothing more may be posted to it.

    Example: devolve ledger --db sqlite:///gm.db close-year 2017/18
    """
    result = books.close_year(ctx.obj["db"], year)
    if json_output:
        print_json(result)
        return
    console.print(f"[bold]Closed {result['year']}[/] ({result['deal']}, risk share: {result['risk_share']})")
    _print_year_end(result)


@app.command("verify")
@handles_errors
def verify_command(ctx: typer.Context,
                   file: Annotated[Path | None, typer.Option("--file", help="Verify an export (journal CSV, "
                                                                           "workbook or Fiscal Data Package folder) "
                                                                           "instead of the database.")] = None,
                   expect_head: Annotated[str | None, typer.Option(
                       "--expect-head", help="A head hash published earlier, to check against.")] = None,
                   json_output: JsonOption = False) -> None:
    """Recompute the audit trail's hash chain and report the first tampered or missing entry
    (exit code 1 when the books or the export do not verify).

    Example: devolve ledger --db sqlite:///gm.db verify --json
    """
    result = books.verify(ctx.obj["db"], file=file, expect_head=expect_head)
    print_verification(result, json_output)


@app.command("export")
@handles_errors
def export_command(ctx: typer.Context,
                   file: Annotated[Path, typer.Argument(help="journal.csv, books.xlsx, or a folder for a Fiscal "
                                                             "Data Package.", metavar="FILE")],
                   fmt: Annotated[str | None, typer.Option("--format", help="csv, xlsx or fdp (default: from the "
                                                                            "file's name).")] = None,
                   year: YearOption = None, json_output: JsonOption = False) -> None:
    """Publish the books with their head hash: the journal (CSV), a workbook, or a Fiscal Data Package.

    Example: devolve ledger --db sqlite:///gm.db export published/ --format fdp
    """
    with _stages("export", json_output):
        result = books.export(ctx.obj["db"], file, fmt=fmt, year=year)
    if json_output:
        print_json(result)
        return
    console.print(f"Wrote {result['file']} ({result['format']}): {result['entries']:,} entries, head hash "
                  f"{result['head_hash']}")
    console.print(f"Anyone can check it: {result['verify']}")
