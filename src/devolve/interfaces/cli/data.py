"""`devolve data`: see which official files are present, fetch them, import downloaded copies."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Column, Table

from devolve.data import cache
from devolve.data.location import resolve_data_dir
from devolve.interfaces.cli.common import DataDirOption, JsonOption, console, handles_errors, print_json

app = typer.Typer(
    help="Official data files: which are present, fetch them, import ones you downloaded.\n\n"
         "Example: devolve data status",
    no_args_is_help=True,
)


def _checksum_text(row: dict) -> str:
    if not row["present"]:
        return "-"
    if row["checksum_ok"] is None:
        return "[yellow]not recorded[/]"
    return "[green]ok[/]" if row["checksum_ok"] else "[bold red]CHANGED[/]"


@app.command("status")
@handles_errors
def status_command(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Show each official source: present or not, used as real data or a synthetic fallback.

    Example: devolve data status --data-dir ~/nhs-data
    """
    folder, reason = resolve_data_dir(data_dir)
    rows = cache.status(folder)
    if as_json:
        print_json({"data_dir": str(folder), "reason": reason, "sources": rows})
        return
    console.print(f"Data folder: [bold]{folder}[/] ({reason})", highlight=False)
    table = Table(Column("source", overflow="fold", min_width=16), Column("present", no_wrap=True),
                  Column("used as", min_width=9), Column("file", overflow="fold", min_width=12),
                  Column("checksum", no_wrap=True))
    for row in rows:
        table.add_row(
            row["id"],
            "[green]yes[/]" if row["present"] else "[red]no[/]",
            row["used_as"],
            row["file"],
            _checksum_text(row),
        )
    console.print(table)


@app.command("fetch")
@handles_errors
def fetch_command(
    source_ids: Annotated[list[str] | None, typer.Argument(
        help="Source ids to download (default: every source with a direct download address).",
        show_default=False)] = None,
    sha256: Annotated[str | None, typer.Option(
        "--sha256", help="Expected sha256 of the one file being fetched.")] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Download official files into the data folder, checking and recording their sha256.

    Sources published only through a web page are listed with where to get them.

    Download those yourself and run `devolve data import PATH`.

    Example: devolve data fetch imd2019-population
    """
    folder, _ = resolve_data_dir(data_dir)
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), console=console, transient=as_json,
                  disable=as_json) as bar:
        tasks: dict[str, int] = {}

        def progress(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done)

        fetched, skipped = cache.fetch(source_ids or [], folder, progress=progress,
                                       expected_sha256=sha256)
    if as_json:
        print_json({"fetched": [asdict(f) for f in fetched], "skipped": skipped})
        return
    for item in fetched:
        console.print(f"[green]fetched[/] {Path(item.path).name} ({', '.join(item.sources)}) "
                      f"sha256 {item.sha256}", highlight=False, soft_wrap=True)
    for item in skipped:
        console.print(f"[yellow]skipped[/] {item['id']}: {item['reason']}", highlight=False,
                      soft_wrap=True)
    console.print(f"Data folder: {folder}", highlight=False)


@app.command("import")
@handles_errors
def import_command(
    path: Annotated[Path, typer.Argument(help="A downloaded official file.", show_default=False)],
    source: Annotated[str | None, typer.Option(
        "--source", help="Source id, when the file name is not one devolve recognises.")] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Copy a downloaded official file into the data folder after checking that it parses.

    Example: devolve data import ~/Downloads/File_7.csv --source imd2019-population
    """
    folder, _ = resolve_data_dir(data_dir)
    record = cache.import_file(path, folder, source)
    payload = {"source": record.sources[0], "sources": list(record.sources),
               "path": record.path, "sha256": record.sha256}
    if as_json:
        print_json(payload)
        return
    console.print(f"[green]imported[/] {record.path} ({', '.join(record.sources)}) "
                  f"sha256 {record.sha256}", highlight=False, soft_wrap=True)
