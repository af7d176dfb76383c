"""`devolve optimise`: choose the transformation portfolio under uncertainty (HiGHS MILP)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from devolve import __version__
from devolve.interfaces.cli.common import DataDirOption, JsonOption, console, handles_errors, print_json

if TYPE_CHECKING:
    from devolve.services.optimise import OptimiseResult


def _money(value: float | None) -> str:
    return "–" if value is None else f"£{value / 1e6:,.1f}m"


def _show(result: "OptimiseResult") -> None:
    j = result.to_json()
    gap = "–" if j["optimality_gap"] is None else f"{100 * j['optimality_gap']:.2f}%"
    console.print(f"[bold]{j['deal']}[/] — objective [bold]{j['objective']}[/], scenario {j['scenario']}, "
                  f"{j['runs']} runs (seed {j['seed']}); status {j['status']}, optimality gap {gap}")
    if j["synthetic"]:
        console.print(f"[yellow]Synthetic inputs:[/] {'; '.join(j['synthetic_inputs'])}. The results illustrate "
                      "the method.", soft_wrap=True)
    table = Table("scheme", "scale", "investment", "expected net benefit")
    for c in j["chosen"]:
        table.add_row(c["scheme"], f"{c['scale']:.2f}", _money(c["investment_gbp"]),
                      _money(c["expected_net_benefit_gbp"]))
    console.print(table)
    console.print(f"Fund {_money(j['fund_gbp'])}; invested {_money(j['investment_gbp'])}; expected five-year net "
                  f"benefit [bold]{_money(j['expected_net_benefit_gbp'])}[/]; probability of balance "
                  f"[bold]{100 * j['probability_of_balance']:.1f}%[/] (deal's own portfolio "
                  f"{100 * j['baseline_probability_of_balance']:.1f}%)")
    compare = Table("portfolio", "schemes", "investment", "expected net benefit", "P(balance)", "meets rules")
    for row in j["comparison"]:
        compare.add_row(row["portfolio"], str(row["schemes"]), _money(row["investment_gbp"]),
                        _money(row["expected_net_benefit_gbp"]), f"{100 * row['probability_of_balance']:.1f}%",
                        "yes" if row["meets_constraints"] else "no")
    console.print(compare)
    if j["frontier"]:
        frontier = Table("fund", "P(balance)", "expected net benefit", "status")
        for row in j["frontier"]:
            p = row["probability_of_balance"]
            frontier.add_row(_money(row["fund_gbp"]), "–" if p is None else f"{100 * p:.1f}%",
                             _money(row["expected_net_benefit_gbp"]), row["status"])
        console.print(frontier)


@handles_errors
def optimise_command(
    deal: Annotated[str, typer.Argument(help="A built-in deal id or a pack folder.", metavar="DEAL")],
    objective: Annotated[str, typer.Option(
        "--objective", help="benefit (expected five-year net benefit), balance (probability of balance over "
                            "five years) or min-fund (least fund reaching --target).", metavar="NAME")] = "benefit",
    fund: Annotated[float | None, typer.Option(
        "--fund", help="Total fund in pounds (default: the deal's transformation fund; the yearly limits "
                       "scale with it).", metavar="GBP")] = None,
    runs: Annotated[int, typer.Option("--runs", help="Forecast Monte Carlo runs to optimise over.",
                                      metavar="N")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the forecast runs.", metavar="S")] = 0,
    scenario: Annotated[str | None, typer.Option(
        "--scenario", help="Forecast scenario (default: the one in the pack's optimise.yaml, else the baseline).",
        metavar="NAME")] = None,
    candidates: Annotated[Path | None, typer.Option(
        "--candidates", help="YAML file of portfolio rules and extra candidate schemes (format: docs/method/"
                             "optimise.md).", metavar="FILE")] = None,
    target: Annotated[float | None, typer.Option(
        "--target", help="With min-fund: the probability of balance to reach (default from optimise.yaml).",
        metavar="P")] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds the solver may take per solve.",
                                              metavar="S")] = 60.0,
    gap: Annotated[float, typer.Option("--gap", help="Relative optimality gap at which the solver stops.",
                                       metavar="G")] = 0.001,
    no_frontier: Annotated[bool, typer.Option("--no-frontier", help="Skip the efficient frontier.")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder for optimise.html (charts), optimise.json and CSV tables.", metavar="DIR")] = None,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Choose which transformation schemes to fund, and at what scale, on the forecast's Monte Carlo
    runs: maximise expected net benefit or the probability of five-year balance, or find the least fund
    for a target probability; compared with the deal's own portfolio and one-at-a-time ranking.

    Example: devolve optimise greater-manchester-2016 --objective balance --runs 500 --out optimise/
    """
    from devolve.interfaces.report.optimise import write_optimise_report
    from devolve.services.optimise import optimise_portfolio

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True, disable=json_output) as progress:
        task = progress.add_task("forecast runs", total=runs)

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total,
                            description="forecast runs" if done < total else "solving")

        result = optimise_portfolio(deal, objective=objective, fund_gbp=fund, runs=runs, seed=seed, scenario=scenario,
                                    candidates_file=candidates, target=target, time_limit=time_limit,
                                    mip_rel_gap=gap, with_frontier=not no_frontier, data_dir=data_dir,
                                    progress=tick)
    payload = result.to_json()
    if out is not None:
        paths = write_optimise_report(result, out, generated_by=f"devolve {__version__}")
        payload["files"] = {key: str(path.resolve()) for key, path in paths.items()}
    if json_output:
        print_json(payload)
        return
    _show(result)
    if out is not None:
        console.print(f"[bold green]Written:[/] {payload['files']['html']}")
