"""What every command shares: clean errors (exit 2, no traceback), JSON output, the console."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from devolve.domain.errors import DevolveError

console = Console()
err_console = Console(stderr=True)

EXIT_BAD_INPUT = 2

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Folder of official data files (default: $DEVOLVE_DATA_DIR, "
                                    "../shared/data/uk beside the checkout, else the user cache).",
                 show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
#: The one database the books, the board and the web app's accounts share (default ./devolve.db).
DbOption = Annotated[str, typer.Option("--db", envvar="DEVOLVE_DB", metavar="URL",
                                       help="The database of the books, the board and the web app's accounts: "
                                            "a SQLite file (sqlite:///books.db; default ./devolve.db) or "
                                            "PostgreSQL (postgresql://user@host/db).")]


def fail(message: str) -> typer.Exit:
    """Print a clear error to stderr and return the exit to raise (code 2)."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_BAD_INPUT)


def handles_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn devolve's typed errors (bad packs, bad data, bad arguments) into exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DevolveError as exc:
            raise fail(str(exc)) from None
        except OSError as exc:
            raise fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from None

    return wrapper


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str, ensure_ascii=False) + "\n")


def print_verification(result: dict, json_output: bool) -> None:
    """A hash chain's verification (the books' or the decision log's); exit 1 when it fails."""
    if json_output:
        print_json(result)
    elif result["ok"]:
        console.print(f"[green]verified[/]: {result['entries']:,} entries; head hash {result['head_hash']}")
    else:
        console.print(f"[bold red]NOT verified[/]: {result['problem']} (first bad entry: {result['first_bad_entry']})")
    if not result["ok"]:
        raise typer.Exit(1)
