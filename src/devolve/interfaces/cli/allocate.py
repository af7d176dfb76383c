"""`devolve allocate`: fair shares of a deal's pooled budget, distance from target and the pace of change."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from devolve import __version__
from devolve.domain.errors import InputError
from devolve.domain.money import format_gbp
from devolve.engines.allocate import LEVELS, AllocationResult
from devolve.interfaces.cli.common import DataDirOption, JsonOption, console, handles_errors, print_json
from devolve.interfaces.report import allocation as report
from devolve.services import allocation as service

OUTPUTS = (".json", ".csv", ".xlsx", ".html", ".png")
SHOWN_ROWS = 30


def _stages(level: str, scenario: bool, out: Path | None) -> list[str]:
    stages = ["load and validate the deal"]
    if scenario:
        stages.append("read the scenario")
    if level == "neighbourhood":
        stages.append("build neighbourhoods")
    stages.append("compute fair shares and the pace of change")
    if out is not None:
        stages.append("write the outputs")
    return stages


def _write(run: service.AllocationRun, out: Path, data_dir: Path | None, step) -> list[Path]:
    """Write what ``out`` names: one file by its suffix, or every output into a folder."""
    result = run.result
    generated_by = f"devolve {__version__}"
    suffix = out.suffix.lower()
    folder = suffix == "" or out.is_dir()
    if not folder and suffix not in OUTPUTS:
        raise InputError(f"--out {out}: expected a folder or a file ending in {', '.join(OUTPUTS)}")
    step("write the outputs")
    written: list[Path] = []
    if folder or suffix == ".json":
        written.append(report.write_json(result, out / "allocation.json" if folder else out))
    if folder or suffix == ".csv":
        written.append(report.write_csv(result, out / "allocation.csv" if folder else out))
    if folder or suffix == ".xlsx":
        written.append(report.write_workbook(run.results, out / "allocation.xlsx" if folder else out,
                                             generated_by=generated_by))
    if folder or suffix in (".html", ".png"):
        chart = report.distance_chart(result)
        if suffix == ".png":
            return [report.write_png(chart, out)]
        images = {"distance_from_target": chart, **report.maps(result, service.unit_shapes(result, data_dir))}
        if folder:
            for name, data in images.items():
                written.append(report.write_png(data, out / f"{name}.png"))
        written.append(report.write_html(result, images, out / "allocation.html" if folder else out,
                                         generated_by=generated_by))
    return written


def _show(result: AllocationResult) -> None:
    console.print(f"[bold]{result.deal_name}[/]: fair shares of {format_gbp(result.pool_pence)} in "
                  f"{result.year.label}, by {result.level} (scenario: {result.scenario})", highlight=False)
    table = result.table
    note = ""
    if table.height > SHOWN_ROWS:
        ordered = table.sort("distance_from_target", nulls_last=True)
        table = ordered.head(SHOWN_ROWS // 2).vstack(ordered.tail(SHOWN_ROWS // 2))
        note = (f"{SHOWN_ROWS} of {result.table.height} units shown (furthest under and over target); "
                "use --out or --json for all")
    grid = Table(title=f"{result.level}: target, current and allocation", box=box.SIMPLE_HEAD, padding=(0, 1))
    grid.add_column("name", overflow="ellipsis", max_width=18, no_wrap=True)
    for column, width in (("target", 7), ("current*", 7), ("dist.", 6), ("alloc.", 7), ("after", 6),
                          ("£/head", 6), ("need", 5)):
        grid.add_column(column, justify="right", no_wrap=True, min_width=width)

    def pct(value):
        return "-" if value is None else f"{value:+.1%}"

    for r in table.iter_rows(named=True):
        grid.add_row(r["name"], format_gbp(r["target_pence"]),
                     format_gbp(r["current_pence"]), pct(r["distance_from_target"]),
                     format_gbp(r["allocation_pence"]), pct(r["allocation_distance_from_target"]),
                     "-" if r["per_head_gbp"] is None else f"£{r['per_head_gbp']:,.0f}",
                     "-" if r["need_index"] is None else f"{r['need_index']:.3f}")
    grid.add_row("total", format_gbp(int(result.table["target_pence"].sum())),
                 format_gbp(int(result.table["current_pence"].sum())), "",
                 format_gbp(result.total_allocated_pence), "", "", "", style="bold")
    console.print(grid)
    if note:
        console.print(note)
    years = [y.label for y in result.years]
    if result.table.height <= SHOWN_ROWS:
        path = Table(title="Five-year path: allocation after pace of change", box=box.SIMPLE_HEAD, padding=(0, 1))
        path.add_column("name", overflow="ellipsis", max_width=22, no_wrap=True)
        for label in years:
            path.add_column(label, justify="right")
        wide = result.path.pivot(on="year", index="id", values="allocation_pence")
        names = dict(zip(result.table["id"], result.table["name"]))
        for row in wide.iter_rows(named=True):
            path.add_row(names[row["id"]], *[format_gbp(row[label]) for label in years])
        console.print(path)
    else:
        console.print(f"Five-year path {years[0]} to {years[-1]}: see --json, --out FILE.csv or the workbook")
    console.print("* current: " + result.notes[0], highlight=False, soft_wrap=True)
    for note_text in result.notes[1:]:
        console.print(f"  • {note_text}", highlight=False, soft_wrap=True)


@handles_errors
def allocate_command(
    deal: Annotated[str, typer.Argument(help="A built-in deal id or a pack folder.", metavar="DEAL")],
    year: Annotated[str | None, typer.Option("--year", help="Financial year, e.g. 2016/17 (default: the deal's "
                                                            "first).", show_default=False)] = None,
    level: Annotated[str, typer.Option("--level", help=f"Units to allocate to: {', '.join(LEVELS)}.")] = "district",
    scenario: Annotated[str | None, typer.Option("--scenario", help="YAML file of parameter changes, or the name "
                                                                    "of one of the deal's scenarios (see "
                                                                    "docs/method/allocation.md).",
                                                 show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write to a file (.json, .csv, .xlsx, .html, .png) or, "
                                                           "given a folder, all of them with the maps.",
                                             show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for building neighbourhoods (--level neighbourhood).")] = 0,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Fair shares of a deal's pooled budget: targets by weighted capitation, distance from target, and
    a five-year pace-of-change path, summing exactly to the pool at every level.

    Example: devolve allocate greater-manchester-2016 --level district --json
    """
    if out is not None and out.suffix and not out.is_dir() and out.suffix.lower() not in OUTPUTS:
        raise InputError(f"--out {out}: expected a folder or a file ending in {', '.join(OUTPUTS)}")
    stages = _stages(level, scenario is not None, out)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=json_output or not console.is_terminal) as progress:
        task = progress.add_task("devolve allocate", total=len(stages))
        done: list[str] = []

        def step(name: str) -> None:
            if done:
                progress.advance(task)
            done.append(name)
            progress.update(task, description=name)

        run = service.run_allocation(deal, data_dir=data_dir, year=year, level=level, scenario_file=scenario,
                                     seed=seed, all_levels=out is not None and (out.suffix.lower() in ("", ".xlsx")
                                                                                or out.is_dir()),
                                     progress=step)
        written = _write(run, out, data_dir, step) if out is not None else []
        progress.advance(task)
    if json_output:
        payload = run.result.to_json()
        if written:
            payload["files"] = [str(p.resolve()) for p in written]
        print_json(payload)
        return
    _show(run.result)
    for path in written:
        console.print(f"[green]wrote[/] {path}", highlight=False)
