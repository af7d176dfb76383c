"""`devolve run`: the main job — the whole pipeline that exists, and its report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from devolve import __version__, services
from devolve.interfaces.cli.common import DataDirOption, JsonOption, console, handles_errors, print_json
from devolve.interfaces.report.html import write_report

STAGES = (*services.STAGES, "write the report")


@handles_errors
def run_command(
    deal: Annotated[str, typer.Argument(help="A built-in deal id or a pack folder.", metavar="DEAL")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the report (created if missing).")] = Path("out"),
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Run the main job on a deal and write its report (HTML that opens offline, and JSON).

    Example: devolve run greater-manchester-2016 --out report/
    """
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=json_output, disable=json_output) as progress:
        task = progress.add_task("devolve run", total=len(STAGES))

        def step(name: str) -> None:
            progress.update(task, description=name)
            if name != STAGES[0]:
                progress.advance(task)

        result = services.run_pipeline(deal, data_dir, progress=step)
        step("write the report")
        paths = write_report(result.summary, out, generated_by=f"devolve {__version__}")
        progress.advance(task)
    payload = {"deal": result.deal.id, "report": str(paths["html"].resolve()),
               "summary": str(paths["json"].resolve()), "data": dict(result.deal.data)}
    if json_output:
        print_json(payload)
        return
    console.print(f"[bold green]Done.[/] Report: {payload['report']}")
