"""`devolve run`: the main job — the whole pipeline that exists, and its report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from devolve import __version__, services
from devolve.domain.errors import InputError
from devolve.interfaces.cli.common import DataDirOption, JsonOption, console, handles_errors, print_json
from devolve.interfaces.report.bundle import write_run

STAGES = (*services.STAGES, "write the report, workbook, GeoPackage and Parquet files")


@handles_errors
def run_command(
    deal: Annotated[str, typer.Argument(help="A built-in deal id or a pack folder.", metavar="DEAL")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the report and files (created if missing).")] = Path("out"),
    runs: Annotated[int, typer.Option("--runs", help="Monte Carlo runs of the forecast.")] = 500,
    replications: Annotated[int, typer.Option("--replications", help="Replications of the discharge simulation.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random draw (same seed, same results).")] = 0,
    db: Annotated[str | None, typer.Option("--db", help="Database URL for the books (default: OUT/books.db).")] = None,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Run the main job on a deal: neighbourhoods, fair shares, the five-year forecast, outcomes,
    discharge flow, the scheme portfolio and the books; write an HTML report that opens offline,
    an Excel workbook, a GeoPackage and Parquet files.

    Example: devolve run greater-manchester-2016 --out report/
    """
    if runs < 1 or replications < 1:
        raise InputError("--runs and --replications must be at least 1")
    settings = services.RunSettings(runs=runs, replications=replications, seed=seed, db_url=db)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=json_output, disable=json_output) as progress:
        task = progress.add_task(STAGES[0], total=len(STAGES))
        seen: list[str] = []

        def step(name: str) -> None:
            if seen:
                progress.advance(task)
            seen.append(name)
            progress.update(task, description=name)

        result = services.run_pipeline(deal, data_dir, progress=step, settings=settings, books_dir=out)
        step(STAGES[-1])
        paths = write_run(result, out, generated_by=f"devolve {__version__}")
        progress.advance(task)
    payload = {"deal": result.deal.id, "report": str(paths["html"].resolve()),
               "files": {kind: str(path.resolve()) for kind, path in paths.items()}, "data": dict(result.deal.data)}
    if json_output:
        print_json(payload)
        return
    console.print(f"[bold green]Done.[/] Report: {payload['report']}")
    for kind, path in payload["files"].items():
        if kind != "html":
            console.print(f"  {kind}: {path}")
