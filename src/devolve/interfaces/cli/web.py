"""`devolve serve` (the web app and JSON API) and `devolve users …` (accounts of the web app)."""

from __future__ import annotations

import ipaddress
import os
import sys
from typing import Annotated

import typer

from devolve.interfaces.cli.common import DataDirOption, DbOption, JsonOption, console, handles_errors, print_json
from devolve.ledger.database import DEFAULT_URL, describe_url
from devolve.services import accounts

users_app = typer.Typer(no_args_is_help=True, help="Accounts of the web app: add users, list them, make API tokens.\n\n"
                                                   "Example: devolve users add alice --role administrator "
                                                   "--organisation ca-greater-manchester")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@handles_errors
def serve_command(
    db: DbOption = DEFAULT_URL,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (127.0.0.1: this machine only).")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)] = 8000,
    deal: Annotated[str | None, typer.Option("--deal", help="The deal to serve while the database holds no books "
                                                            "(default: the books' deal, else greater-manchester-2016).",
                                             show_default=False)] = None,
    secure_cookies: Annotated[bool | None, typer.Option(
        "--secure-cookies/--no-secure-cookies",
        help="Mark cookies Secure (HTTPS only). Default: on, except on a loopback address; behind an HTTPS "
             "proxy keep it on.", show_default=False)] = None,
    warm: Annotated[bool, typer.Option("--warm/--no-warm", help="Build neighbourhoods and the plan's forecast "
                                                               "before taking requests.")] = True,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Serve the partnership's web app and JSON API (OpenAPI at /openapi.json) from one database.

    Example: devolve serve --db sqlite:///gm.db --port 8000
    """
    import uvicorn

    from devolve.interfaces.api.app import create_app
    from devolve.interfaces.api.settings import AppSettings

    secure = (not _is_loopback(host)) if secure_cookies is None else secure_cookies
    settings = AppSettings(db_url=db, deal=deal, data_dir=data_dir, secure_cookies=secure, warm=warm)
    app = create_app(settings)
    state = app.state.devolve
    info = {"url": f"http://{host}:{port}/", "api": f"http://{host}:{port}/api/v1", "db": describe_url(db),
            "deal": state.deal.id, "users": state.accounts.count_users(), "secure_cookies": secure}
    if json_output:
        print_json(info)
        sys.stdout.flush()
    else:
        console.print(f"Serving [bold]{state.deal.name}[/] at {info['url']} (API {info['api']}, books {info['db']})")
        if info["users"] == 0:
            console.print("No users yet: add an administrator with `devolve users add NAME --role administrator "
                          "--organisation PARTNER`.")
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    from_env = os.environ.get("DEVOLVE_PASSWORD")
    if from_env:
        return from_env
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
@handles_errors
def add_command(
    username: Annotated[str, typer.Argument(help="The user name to sign in with (lower case).", metavar="USERNAME")],
    role: Annotated[str, typer.Option("--role", help="public, analyst, finance_officer, board_member, "
                                                     "administrator or auditor.")],
    organisation: Annotated[str, typer.Option("--organisation", help="The partner the user belongs to "
                                                                     "(a partner id of the deal).")],
    seat: Annotated[str | None, typer.Option("--seat", help="A board member's seat (default: their organisation's).",
                                             show_default=False)] = None,
    name: Annotated[str | None, typer.Option("--name", help="The name shown on pages.", show_default=False)] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input (else $DEVOLVE_PASSWORD, else a prompt).")
    ] = False,
    db: DbOption = DEFAULT_URL,
    deal: Annotated[str | None, typer.Option("--deal", help="The deal whose partners users belong to, while the "
                                                            "database holds no books.", show_default=False)] = None,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Add a user of a partner organisation (the first administrator is added this way).

    Example: devolve users add alice --role administrator --organisation ca-greater-manchester --db sqlite:///gm.db
    """
    result = accounts.add_user_at(db, username, _password(password_stdin), role=role, organisation=organisation,
                                  seat=seat, display_name=name, deal_ref=deal, data_dir=data_dir)
    if json_output:
        print_json(result)
        return
    seat_text = f", seat {result['seat']}" if result["seat"] else ""
    console.print(f"Added [bold]{result['username']}[/] ({result['role']}, {result['organisation']}{seat_text}) "
                  f"to {result['db']}")


@users_app.command("list")
@handles_errors
def list_command(db: DbOption = DEFAULT_URL, json_output: JsonOption = False) -> None:
    """List the users: name, organisation, role, seat, active.

    Example: devolve users list --db sqlite:///gm.db
    """
    rows = accounts.list_users_at(db)
    if json_output:
        print_json(rows)
        return
    from rich.table import Table
    table = Table("user", "name", "organisation", "role", "seat", "active")
    for r in rows:
        table.add_row(r["username"], r["display_name"], r["organisation"], r["role"], r["seat"] or "",
                      "yes" if r["active"] else "no")
    console.print(table)


@users_app.command("token")
@handles_errors
def token_command(
    username: Annotated[str, typer.Argument(help="Whose token (it acts with their role).", metavar="USERNAME")],
    name: Annotated[str, typer.Option("--name", help="What the token is for (a script's name).")],
    db: DbOption = DEFAULT_URL,
    json_output: JsonOption = False,
) -> None:
    """Make an API token for a script; it is printed once (send it as 'Authorization: Bearer TOKEN').

    Example: devolve users token alice --name nightly-import --db sqlite:///gm.db
    """
    result = accounts.create_token_at(db, username, name)
    if json_output:
        print_json(result)
        return
    console.print(f"Token for {result['username']} ({result['name']}), shown only now:")
    typer.echo(result["token"])


__all__ = ["serve_command", "users_app"]
