"""`devolve deals …`: list, show, validate and create deal packs."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from devolve import services
from devolve.domain.errors import InputError
from devolve.domain.money import format_gbp
from devolve.interfaces.cli.common import DataDirOption, JsonOption, console, handles_errors, print_json

app = typer.Typer(help="List, show, validate and create deal packs.\n\n"
                       "Example: devolve deals show greater-manchester-2016",
                  no_args_is_help=True)

DealArgument = Annotated[str, typer.Argument(help="A built-in deal id (see `devolve deals list`) or a pack folder.",
                                             metavar="DEAL")]


@app.command("list")
@handles_errors
def list_command(json_output: JsonOption = False) -> None:
    """List the built-in deals.

    Example: devolve deals list --json
    """
    rows = services.list_deals()
    if json_output:
        print_json({"deals": rows})
        return
    table = Table(title="Built-in deals")
    for column in ("id", "name", "start", "years"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["id"], row["name"], row["start"], str(row["years"]))
    console.print(table)


@app.command("show")
@handles_errors
def show_command(deal: DealArgument, data_dir: DataDirOption = None, json_output: JsonOption = False,
                 parameters: Annotated[bool, typer.Option("--parameters", help="Also list every parameter.")] = False
                 ) -> None:
    """Show a deal: partners, places, money, and whether each data source is real or synthetic.

    Example: devolve deals show greater-manchester-2016 --json
    """
    loaded = services.load(deal, data_dir)
    summary = services.deal_summary(loaded)
    if parameters:
        summary["parameters"] = services.parameter_table(loaded)
    if json_output:
        print_json(summary)
        return
    console.print(f"[bold]{summary['name']}[/] ({summary['id']})")
    console.print(f"{summary['start']} to {summary['end']}, {summary['years']} financial years")
    first = summary["financial_years"][0]
    console.print(f"Residents: {summary['population']:,} in {summary['small_areas']:,} small areas; "
                  f"pooled budget {format_gbp(int(summary['pooled_budget_gbp'][first] * 100))} in {first}; "
                  f"transformation fund {format_gbp(int(summary['transformation_fund_gbp'] * 100))}")
    partners = Table(title="Partners by type")
    partners.add_column("type")
    partners.add_column("count", justify="right")
    for kind, count in summary["partner_counts"].items():
        if count:
            partners.add_row(kind.replace("_", " "), str(count))
    console.print(partners)
    districts = Table(title="Districts")
    for column, justify in (("code", "left"), ("name", "left"), ("population", "right"), ("small areas", "right")):
        districts.add_column(column, justify=justify)
    for d in summary["districts"]:
        districts.add_row(d["code"], d["name"], f"{d['population']:,}", str(d["small_areas"]))
    console.print(districts)
    data = Table(title="Data sources")
    data.add_column("source")
    data.add_column("used as")
    for source, origin in summary["data"].items():
        data.add_row(source, f"[red]{origin}[/]" if origin == "synthetic" else f"[green]{origin}[/]")
    console.print(data)
    if summary["synthetic"]:
        console.print("[bold]Synthetic in this pack:[/]")
        for item in summary["synthetic"]:
            console.print(f"  • {item}")
    if parameters:
        table = Table(title="Parameters (first year)")
        for column in ("path", "value", "unit", "source"):
            table.add_column(column)
        for row in summary["parameters"]:
            table.add_row(row["path"], str(row["value"]), row["unit"],
                          ("[red]synthetic[/] " if row["synthetic"] else "") + row["source"][:70])
        console.print(table)


@app.command("validate")
@handles_errors
def validate_command(pack: Annotated[str, typer.Argument(help="A pack folder (or a built-in deal id).", metavar="PATH")],
                     data_dir: DataDirOption = None, json_output: JsonOption = False) -> None:
    """Check a deal pack; on the first problem say file, line, field, what was expected and what was found.

    Exit code 0 when the pack is valid, 2 when it is not (nothing is loaded).

    Example: devolve deals validate deals/west-midlands-2017
    """
    result = services.validate(pack, data_dir)
    if json_output:
        print_json(result)
        return
    console.print(f"[green]valid[/]: {result['deal']} ({result['pack']})")
    for stage in result["stages"]:
        console.print(f"  {stage['stage']:<30} {stage['seconds'] * 1000:8.1f} ms")
    console.print(f"data folder: {result['data_dir']} ({result['data_dir_reason']})")


@app.command("new")
@handles_errors
def new_command(
    deal_id: Annotated[str, typer.Argument(help="Id of the new deal (letters, digits, '-').", metavar="ID")],
    districts: Annotated[str, typer.Option("--districts", help="Comma-separated 2019 district codes.")],
    name: Annotated[str, typer.Option("--name", help="The deal's name.")],
    start: Annotated[str, typer.Option("--start", help="First day of the deal (1 April).")] = "2017-04-01",
    out: Annotated[Path | None, typer.Option("--out", help="Pack folder to write (default ./deals/ID).")] = None,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Write a working pack for any English districts from the official data, and print its path.

    Partners (NHS England, the councils, the CCGs, the combined authority), populations and small
    areas come from the data; the pooled budget, contributions and board rules are labelled synthetic.

    Example: devolve deals new west-midlands-2017 --name "West Midlands" --districts E08000025,E08000029
    """
    try:
        start_date = date.fromisoformat(start)
    except ValueError:
        raise InputError(f"--start '{start}' is not a date in the form YYYY-MM-DD") from None
    codes = [c.strip() for c in districts.split(",") if c.strip()]
    result = services.new_deal(deal_id, name, codes, start_date, out, data_dir)
    if json_output:
        print_json(result)
        return
    console.print(f"Wrote {result['id']}: {result['districts']} districts, {result['small_areas']:,} small areas, "
                  f"{result['population']:,} residents")
    console.print(result["path"])
