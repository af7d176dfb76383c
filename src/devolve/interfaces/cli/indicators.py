"""`devolve indicators` (outcomes, inequalities, monitoring and the targets that apply) and
`devolve compare` (deals side by side, with a readiness summary)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from devolve import __version__
from devolve.domain.errors import InputError
from devolve.interfaces.cli.common import DataDirOption, JsonOption, console, handles_errors, print_json
from devolve.interfaces.report import indicators as report
from devolve.services import compare as compare_service
from devolve.services import indicators as service

STATUS = {"green": "[green]✔ meets[/]", "amber": "[yellow]▲ near[/]", "red": "[red]✖ misses[/]",
          "no target": "– no target", "exempt": "○ exempt", "not computable": "? not computable"}
VARIATION = {"common_cause": "~ common cause", "improvement_high": "H↑ improvement",
             "improvement_low": "L↓ improvement", "concern_high": "H↑ concern", "concern_low": "L↓ concern",
             None: "no chart"}
ASSURANCE = {"consistently_pass": "P pass", "consistently_fail": "F fail", "hit_and_miss": "? hit and miss",
             "no_target": "– no target", None: "no chart"}


def _number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:.3g}"


def _progress(json_output: bool) -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                    console=console, transient=True, disable=json_output)


def _as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--as-of '{text}' is not a date in the form YYYY-MM-DD") from None


def _show_indicators(data: dict[str, Any]) -> None:
    console.print(f"[bold]{data['name']}[/]: outcomes and inequalities by {data['level']}, as at {data['as_of']}",
                  highlight=False)
    note = data["synthetic_note"].removeprefix("synthetic: ")
    console.print(f"[bold #8a2b00]Synthetic figures:[/] {note}.", highlight=False, soft_wrap=True)
    grid = Table(title="Indicators and the targets that apply", box=box.SIMPLE_HEAD, padding=(0, 1))
    for column, justify in (("indicator", "left"), ("value", "right"), ("95% interval", "right"),
                            ("target", "right"), ("rule", "left"), ("status", "left"), ("SPC variation", "left"),
                            ("assurance", "left")):
        grid.add_column(column, justify=justify, overflow="fold", no_wrap=column in ("value", "95% interval"))
    for i in data["indicators"]:
        grid.add_row(i["id"], _number(i["value"]), f"{_number(i['ci'][0])}–{_number(i['ci'][1])}",
                     _number(i["target"]), i["target_source"], STATUS.get(i["status"], i["status"]),
                     VARIATION[i["spc"]["variation"]], ASSURANCE[i["spc"]["assurance"]])
    console.print(grid)
    console.print("; ".join(f"{i['id']}: {i['name']} ({i['unit'].replace('_', ' ')})" for i in data["indicators"]),
                  style="dim", highlight=False, soft_wrap=True)
    ineq = Table(title=f"Inequality across deprivation deciles ({data['decile_basis']} deciles; "
                       "SII < 0: higher in more deprived areas)", box=box.SIMPLE_HEAD, padding=(0, 1))
    for column in ("indicator", "SII", "95% interval", "RII", "most / least deprived fifth"):
        ineq.add_column(column, justify="left" if column == "indicator" else "right", overflow="fold")
    for q in data["inequalities"]:
        gap = q["quintile_gap"]
        ineq.add_row(q["indicator"], _number(q["sii"]),
                     f"{_number(q['sii_ci'][0])}–{_number(q['sii_ci'][1])}" if q["sii_ci"] else "–",
                     _number(q["rii"]),
                     f"{_number(gap['most_deprived_quintile'])} / {_number(gap['least_deprived_quintile'])}"
                     if gap else "–")
    console.print(ineq)
    rules = Table(title="Why each rule applies", box=box.SIMPLE_HEAD, padding=(0, 1))
    rules.add_column("measure")
    rules.add_column("applies as")
    rules.add_column("reason", overflow="fold")
    for i in data["indicators"]:
        rules.add_row(i["id"], i["target_source"], i["reason"])
    for r in data["rules"]:
        rules.add_row(f"{r['measure']} (not modelled)", r["target_source"], r["reason"])
    console.print(rules)
    directives = Table(title="Directive: the Better Care Fund minimum pooled budget", box=box.SIMPLE_HEAD,
                       padding=(0, 1))
    for column in ("year", "required (estimate)", "pooled", "status", "rule"):
        directives.add_column(column, justify="right" if column in ("required (estimate)", "pooled") else "left")
    for c in data["directives"]:
        directives.add_row(c["year"], "–" if c["required_gbp"] is None else f"£{c['required_gbp']:,.0f}",
                           f"£{c['actual_gbp']:,.0f}", c["status"], c["rule"] or "no cited minimum in force")
    console.print(directives)
    units = {}
    for u in data["units"]:
        units.setdefault(u["unit"], {"name": u["name"]})[u["indicator"]] = u
    by_unit = Table(title=f"By {data['level']} (value; status)", box=box.SIMPLE_HEAD, padding=(0, 1))
    by_unit.add_column(data["level"], overflow="ellipsis", max_width=22, no_wrap=True)
    for i in data["indicators"]:
        by_unit.add_column(i["id"].replace("_", " "), justify="right", overflow="fold", max_width=14)
    for unit in units.values():
        by_unit.add_row(unit["name"], *[f"{_number(unit[i['id']]['value'])}" for i in data["indicators"]])
    console.print(by_unit)


@handles_errors
def indicators_command(
    deal: Annotated[str, typer.Argument(help="A built-in deal id or a pack folder.", metavar="DEAL")],
    level: Annotated[str, typer.Option("--level", help="Units: district or neighbourhood.")] = "district",
    neighbourhoods: Annotated[Path | None, typer.Option("--neighbourhoods", help="CSV of small areas to "
                                                        "neighbourhoods (columns area, neighbourhood) to use "
                                                        "instead of building them (--level neighbourhood).",
                                                        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for indicators.html (SPC and SII charts, "
                                                           "offline) and indicators.json.",
                                             show_default=False)] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date the rules are read at, YYYY-MM-DD "
                                                              "(default: the deal's start).",
                                              show_default=False)] = None,
    deciles: Annotated[str, typer.Option("--deciles", help="Deprivation deciles for SII: local (re-cut within "
                                                           "each unit, as PHE does for local areas) or national "
                                                           "(IMD 2019 deciles).")] = "local",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic monthly series (and of "
                                                     "neighbourhoods).")] = 0,
    flow: Annotated[bool, typer.Option("--flow", help="Take the share of bed days delayed from the flow engine's "
                                                      "discharge simulation (slower) instead of the synthetic "
                                                      "parameter.")] = False,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Outcome indicators (age-standardised where defined), inequalities across deprivation (SII, RII,
    the gap between the most and least deprived fifths), SPC monitoring in the Making Data Count style,
    and which target applies — national, local or exempt — and why. Values are modelled (synthetic).

    Example: devolve indicators greater-manchester-2016 --level neighbourhood --out out/indicators
    """
    when = _as_of(as_of)
    if deciles not in ("local", "national"):
        raise InputError(f"--deciles must be 'local' or 'national', not '{deciles}'")
    if out is not None and out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: expected a folder (indicators.html and indicators.json go in it)")
    with _progress(json_output) as progress:
        task = progress.add_task("load and validate the deal", total=3 if out else 2)
        result = service.indicators(deal, data_dir, level=level, as_of=when, deciles=deciles, seed=seed,
                                    neighbourhoods=neighbourhoods, use_flow=flow)
        progress.advance(task)
        progress.update(task, description="summarise")
        data = result.to_json()
        progress.advance(task)
        paths = None
        if out is not None:
            progress.update(task, description="write the report")
            paths = report.write_indicators_report(data, out, generated_by=f"devolve {__version__}")
            progress.advance(task)
    if json_output:
        if paths:
            data = {**data, "report": str(paths["html"].resolve()), "json_file": str(paths["json"].resolve())}
        print_json(data)
        return
    _show_indicators(data)
    if paths:
        console.print(f"[bold green]Written:[/] {paths['html']} and {paths['json']}", highlight=False)


def _show_compare(data: dict[str, Any]) -> None:
    grid = Table(title="Deals side by side", box=box.SIMPLE_HEAD, padding=(0, 1))
    grid.add_column("measure", overflow="fold", max_width=46)
    for d in data["deals"]:
        grid.add_column(d["name"], justify="right", overflow="fold", max_width=24)
    for row in data["table"]:
        grid.add_row(row["label"], *[report.cell(v, row["kind"]) + (" [#8a2b00]*[/]" if synthetic else "")
                                     for v, synthetic in zip(row["values"], row["synthetic"])])
    console.print(grid)
    console.print("[#8a2b00]*[/] synthetic (modelled, or a pack figure labelled synthetic)", highlight=False)
    for d in data["deals"]:
        console.print(f"[bold]{d['name']}[/] — financial position: {d['financial_text']}", highlight=False,
                      soft_wrap=True)


@handles_errors
def compare_command(
    deals: Annotated[list[str], typer.Argument(help="Two or more built-in deal ids or pack folders.",
                                               metavar="DEAL DEAL ...")],
    out: Annotated[Path, typer.Option("--out", help="The HTML page to write (Plotly inlined; opens offline).")]
    = Path("compare.html"),
    runs: Annotated[int, typer.Option("--runs", help="Monte Carlo runs of each deal's forecast.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the forecasts and the synthetic series.")] = 0,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Compare deals side by side — population, need, spend per head, the forecast gap, indicators and
    inequalities — with a readiness summary (pooled share of spend, governance in place, data
    completeness, financial position); writes an HTML page.

    Example: devolve compare greater-manchester-2016 london-pilots-2017 --out compare.html
    """
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"--out {out}: expected a file ending in .html")
    if out.is_dir():
        raise InputError(f"--out {out} is a folder; give a file name ending in .html")
    with _progress(json_output) as progress:
        task = progress.add_task("compare", total=len(deals) * 3 + 1)
        result = compare_service.compare_deals(deals, data_dir, seed=seed, runs=runs,
                                                progress=lambda name: (progress.update(task, description=name),
                                                                       progress.advance(task)))
        data = result.to_json()
        progress.update(task, description="write the page")
        path = report.write_compare_page(data, out, generated_by=f"devolve {__version__}")
        progress.advance(task)
    if json_output:
        print_json({**data, "page": str(path.resolve())})
        return
    _show_compare(data)
    console.print(f"[bold green]Written:[/] {path}", highlight=False)
