"""`devolve`: plan and run a devolved, integrated health and social care budget.

Each command group lives in its own module; this one only assembles them.
"""

from __future__ import annotations

import typer

from devolve.interfaces.cli import allocate, board, data, deals, flow, forecast, indicators, ledger, optimise, places, run
from devolve.interfaces.cli import web

app = typer.Typer(
    name="devolve",
    help="Plan and run a devolved, integrated health and social care budget.\n\n"
         "Example: devolve run greater-manchester-2016 --out report/",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
app.add_typer(deals.app, name="deals")
app.add_typer(data.app, name="data")
app.add_typer(ledger.app, name="ledger")
app.add_typer(board.app, name="board")
app.add_typer(web.users_app, name="users")
app.command("serve")(web.serve_command)
app.command("run")(run.run_command)
app.command("allocate")(allocate.allocate_command)
app.command("forecast")(forecast.forecast_command)
app.command("indicators")(indicators.indicators_command)
app.command("compare")(indicators.compare_command)
app.command("flow")(flow.flow_command)
app.command("optimise")(optimise.optimise_command)
app.command("neighbourhoods")(places.neighbourhoods_command)
app.command("estate")(places.estate_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
