"""`devolve board …`: the partnership board — members and rules, proposals, votes, decisions, what
they enacted, and the hash-chained decision log."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.table import Table

from devolve.domain.errors import InputError
from devolve.interfaces.cli.common import (
    DataDirOption, DbOption, JsonOption, console, handles_errors, print_json, print_verification,
)
from devolve.interfaces.report.files import write_atomically
from devolve.ledger.database import DEFAULT_URL
from devolve.services import governance as board

app = typer.Typer(no_args_is_help=True)

IdArgument = Annotated[str, typer.Argument(help="The proposal's id, e.g. P-0002.", metavar="ID")]


def _on(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--on takes a date as YYYY-MM-DD, not '{value}'") from None


OnOption = Annotated[str | None, typer.Option("--on", metavar="DATE", show_default=False,
                                              help="The date to record (YYYY-MM-DD; default: today).")]


@app.callback()
def board_group(
    ctx: typer.Context,
    db: DbOption = DEFAULT_URL,
) -> None:
    """The partnership board: proposals, votes under the deal's rules (consensus, simple, weighted or
    double majority, quorum, reserved matters, conflicts of interest, delegation), decisions and the
    ledger transactions or plan changes they enact, in a hash-chained decision log.

    Example: devolve board --db sqlite:///gm.db log
    """
    ctx.obj = {"db": db}


def _show(p: dict) -> None:
    console.print(f"[bold]{p['id']}[/] {p['kind']}: {p['title']}")
    console.print(f"  status: {p['status']}; votes: {p['votes']}"
                  + (f"; outcome: {p['outcome']} — {'; '.join(p['reasons'])}" if p["outcome"] else ""))
    if p["ledger_transactions"]:
        console.print(f"  ledger transactions: {', '.join(str(s) for s in p['ledger_transactions'])}")


@app.command("members")
@handles_errors
def members_command(deal: Annotated[str, typer.Argument(help="A built-in deal id or a pack folder.", metavar="DEAL")],
                    data_dir: DataDirOption = None, json_output: JsonOption = False) -> None:
    """The board's members (seat, type, representative, weight, double-majority group) and voting rules.

    Example: devolve board members greater-manchester-2016
    """
    result = board.members(deal, data_dir=data_dir)
    if json_output:
        print_json(result)
        return
    table = Table(title=f"{result['board']} — {result['voting_rule'].replace('_', ' ')}, quorum {result['quorum']:.0%}")
    for column in ("member", "name", "type", "representative", "group"):
        table.add_column(column)
    for m in result["members"]:
        table.add_row(m["member"], m["name"], m["type"], m["representative"], m["group"] or "—")
    console.print(table)
    console.print(f"Reserved matters (unanimity{', and consent of ' + result['national_consent'] if result['national_consent'] else ''}): "
                  f"{', '.join(result['reserved_matters']) or 'none'}. Officers may approve below "
                  f"£{result['delegation_limit_gbp']:,.0f}.")


@app.command("propose")
@handles_errors
def propose_command(ctx: typer.Context,
                    file: Annotated[Path, typer.Argument(help="The proposal (YAML; see docs/method/governance.md).",
                                                         metavar="FILE")],
                    on: OnOption = None, data_dir: DataDirOption = None, json_output: JsonOption = False) -> None:
    """Record a proposal with its financial effect (worked out by the forecast, the books or the estate
    register) and open it for votes (or keep it a draft: `draft: true`).

    Example: devolve board --db sqlite:///gm.db propose fund-falls.yaml --on 2017-06-01
    """
    result = board.propose(ctx.obj["db"], file, on=_on(on), data_dir=data_dir)
    print_json(result) if json_output else _show(result)


@app.command("open")
@handles_errors
def open_command(ctx: typer.Context, proposal: IdArgument, on: OnOption = None, json_output: JsonOption = False) -> None:
    """Open a draft proposal for votes.

    Example: devolve board --db sqlite:///gm.db open P-0003
    """
    result = board.open_proposal(ctx.obj["db"], proposal, on=_on(on))
    print_json(result) if json_output else _show(result)


@app.command("vote")
@handles_errors
def vote_command(ctx: typer.Context, proposal: IdArgument,
                 member: Annotated[str, typer.Option("--member", metavar="M", help="The member's seat (partner id).")],
                 choice: Annotated[str, typer.Option("--choice", metavar="yes|no|abstain", help="The vote.")],
                 on: OnOption = None, json_output: JsonOption = False) -> None:
    """Cast a member's vote on an open proposal (once; a member with a conflict of interest may not vote).

    Example: devolve board --db sqlite:///gm.db vote P-0003 --member la-bolton --choice yes
    """
    result = board.vote(ctx.obj["db"], proposal, member, choice, on=_on(on))
    print_json(result) if json_output else _show(result)


@app.command("close")
@handles_errors
def close_command(ctx: typer.Context, proposal: IdArgument,
                  officer: Annotated[str | None, typer.Option(
                      "--officer", metavar="NAME", help="Approve under delegation (below the delegation limit, not a "
                                                        "reserved matter) instead of counting the board's votes.")] = None,
                  on: OnOption = None, json_output: JsonOption = False) -> None:
    """Close the vote: the outcome (approved, rejected, or lapsed without a quorum) under the deal's rules.

    Example: devolve board --db sqlite:///gm.db close P-0003
    """
    result = board.close(ctx.obj["db"], proposal, on=_on(on), officer=officer)
    print_json(result) if json_output else _show(result)


@app.command("enact")
@handles_errors
def enact_command(ctx: typer.Context, proposal: IdArgument, on: OnOption = None, json_output: JsonOption = False) -> None:
    """Carry out an approved decision: post exactly the ledger transactions it described (citing it), or
    adopt its parameter changes, target, exemption or estate change. Safe to retry.

    Example: devolve board --db sqlite:///gm.db enact P-0003
    """
    result = board.enact(ctx.obj["db"], proposal, on=_on(on))
    print_json(result) if json_output else _show(result)


@app.command("log")
@handles_errors
def log_command(ctx: typer.Context,
                show_all: Annotated[bool, typer.Option("--all", help="Include proposals not yet decided.")] = False,
                json_output: JsonOption = False) -> None:
    """The decision log: who proposed what, how the board voted, the outcome and what it enacted.

    Example: devolve board --db sqlite:///gm.db log --json
    """
    rows = board.decisions(ctx.obj["db"], include_open=show_all)
    if json_output:
        print_json(rows)
        return
    table = Table(title="Decision log")
    for column in ("id", "kind", "title", "status", "votes", "decided", "ledger"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["id"], r["kind"], r["title"], r["status"], str(r["votes"]),
                      f"{r['decided_on'] or ''} {r['decided_by'] or ''}".strip(),
                      ", ".join(str(s) for s in r["ledger_transactions"]) or "—")
    console.print(table)


@app.command("show")
@handles_errors
def show_command(ctx: typer.Context, proposal: IdArgument, json_output: JsonOption = False) -> None:
    """One proposal in full: evidence, financial effect, votes, tally and what it enacted.

    Example: devolve board --db sqlite:///gm.db show P-0002 --json
    """
    result = board.proposal(ctx.obj["db"], proposal)
    if json_output:
        print_json(result)
        return
    _show(result)
    for key, value in result["financial_effect"].items():
        console.print(f"  {key}: {value}")


@app.command("verify")
@handles_errors
def verify_command(ctx: typer.Context,
                   expect_hash: Annotated[str | None, typer.Option("--head-hash", metavar="HASH",
                                                                    help="A published head hash to check against.")] = None,
                   json_output: JsonOption = False) -> None:
    """Recompute the decision log's hash chain and check every enacted decision's ledger links.

    Example: devolve board --db sqlite:///gm.db verify --json
    """
    result = board.verify(ctx.obj["db"], expect_hash=expect_hash)
    print_verification(result, json_output)


@app.command("accountability")
@handles_errors
def accountability_command(ctx: typer.Context, data_dir: DataDirOption = None, json_output: JsonOption = False) -> None:
    """Every budget line and scheme with its accountable partner and officer, and the decisions on it.

    Example: devolve board --db sqlite:///gm.db accountability --json
    """
    rows = board.accountability(ctx.obj["db"], data_dir=data_dir)
    if json_output:
        print_json(rows)
        return
    table = Table(title="Accountability")
    for column in ("line", "what", "partner", "officer", "decisions"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["line"], r["what"], r["partner"], r["officer"], ", ".join(r["decisions"]) or "—")
    console.print(table)


@app.command("adopted")
@handles_errors
def adopted_command(ctx: typer.Context,
                    scenario: Annotated[Path | None, typer.Option(
                        "--scenario", metavar="FILE", help="Also write the adopted parameter changes as a scenario "
                                                          "file for `devolve forecast --scenario FILE`.")] = None,
                    json_output: JsonOption = False) -> None:
    """What enacted decisions adopted: parameter changes (the board's scenario), targets, exemptions,
    estate changes and scheme funding.

    Example: devolve board --db sqlite:///gm.db adopted --scenario board.yaml
    """
    result = board.adopted(ctx.obj["db"])
    if scenario is not None:
        document = board.adopted_scenario(ctx.obj["db"])
        if not document["changes"]:
            raise InputError("the board has adopted no parameter changes yet: there is no scenario to write")
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        write_atomically(scenario, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    if json_output:
        print_json(result)
        return
    for key, items in result.items():
        console.print(f"[bold]{key.replace('_', ' ')}[/]: {len(items)}")
        for item in items:
            console.print(f"  {item}")


@app.command("export")
@handles_errors
def export_command(ctx: typer.Context,
                   file: Annotated[Path, typer.Argument(help="Where to write: a .csv or .html file.", metavar="FILE")],
                   json_output: JsonOption = False) -> None:
    """Write the decision log as CSV or HTML, with its head hash.

    Example: devolve board --db sqlite:///gm.db export decisions.html
    """
    fmt = file.suffix.lower().lstrip(".").replace("htm", "html").replace("htmll", "html")
    text, summary = board.export_log(ctx.obj["db"], fmt)
    write_atomically(file, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    summary["file"] = str(file)
    print_json(summary) if json_output else console.print(f"Wrote {summary['decisions']} decisions to {file} "
                                                          f"(head hash {summary['head_hash']})")
