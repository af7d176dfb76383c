"""`devolve flow`: simulate hospital discharge into home care, reablement and care homes.

The flow engine (Numba) and its report (Plotly) are imported when the command runs, so other
commands do not pay for loading them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from devolve import __version__, services
from devolve.interfaces.cli.common import DataDirOption, JsonOption, console, handles_errors, print_json

if TYPE_CHECKING:
    from devolve.services.flow import FlowResult


def _show(result: "FlowResult") -> None:
    j = result.to_json()
    ci = j["delayed_days_ci"]
    console.print(f"[bold]{j['area']}[/] — {j['days']} days from {j['start']}, {j['replications']} replications, "
                  f"{j['admissions_per_year']:,.0f} emergency admissions a year, {j['acute_beds']} acute beds")
    if j["synthetic"]:
        console.print(f"[yellow]Synthetic inputs ({len(j['synthetic_inputs'])}):[/] "
                      f"{'; '.join(j['synthetic_summary'])}. The results illustrate the method.", soft_wrap=True)
    interval = "" if ci is None else f" (95% CI {ci[0]:,.0f} to {ci[1]:,.0f})"
    console.print(f"Delayed bed days: [bold]{j['delayed_days_mean']:,.0f}[/]{interval}; occupied beds "
                  f"{j['occupancy_mean']:,.1f} ({100 * j['occupancy_rate_mean']:.1f}%); length of stay "
                  f"{j['length_of_stay_mean']:.2f} days")
    table = Table("pathway", "capacity", "offered load", "utilisation", "mean wait (days)", "delayed bed days")
    for p in j["pathways"]:
        utilisation = "–" if p["utilisation"] is None else f"{100 * p['utilisation']:.1f}%"
        wait = "–" if p["wait_days_mean"] is None else f"{p['wait_days_mean']:.2f}"
        table.add_row(p["label"], str(p["capacity"]), f"{p['offered_load']:,.1f}", utilisation, wait,
                      f"{p['delayed_days_mean']:,.0f}")
    console.print(table)
    cost = j["cost_gbp"]
    console.print(f"Cost: hospital bed days £{cost['hospital_bed_days']:,.0f} "
                  f"(delayed £{cost['delayed_bed_days']:,.0f}), community capacity "
                  f"£{cost['community_capacity']:,.0f}, total £{cost['total']:,.0f}")
    plan = j.get("capacity_plan")
    if plan:
        best = plan["least_cost_mix"]
        if best is None:
            console.print(f"[red]No verified mix met the target[/] of {plan['target_delayed_days']:,.0f} "
                          "delayed bed days.")
        else:
            caps = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in best["capacities"].items())
            console.print(f"Least-cost mix for ≤ {100 * plan['target_fraction']:.0f}% of today's delayed days "
                          f"({plan['target_delayed_days']:,.0f}): [bold]{caps}[/] → {best['delayed_days_mean']:,.0f} "
                          f"delayed bed days, total £{best['total_cost_gbp']:,.0f}")


@handles_errors
def flow_command(
    deal: Annotated[str, typer.Argument(help="A built-in deal id or a pack folder.", metavar="DEAL")],
    district: Annotated[str | None, typer.Option(
        "--district", help="District code (default: the whole deal as one system).", metavar="CODE")] = None,
    days: Annotated[int, typer.Option("--days", help="Days to measure, after the warm-up.", metavar="N")] = 365,
    replications: Annotated[int, typer.Option("--replications", help="Independent replications.", metavar="N")] = 1000,
    capacity: Annotated[Path | None, typer.Option("--capacity", metavar="FILE",
                                                  help="YAML file of capacities: acute_beds, home_support, "
                                                       "bedded_reablement, care_home (any subset).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (the same seed gives the same result).",
                                      metavar="S")] = 0,
    sweep: Annotated[bool, typer.Option("--sweep", help="Also sweep each pathway's capacity and find the least-cost "
                                                        "mix meeting --target.")] = False,
    target: Annotated[float, typer.Option("--target", help="With --sweep: delayed days as a fraction of today's.",
                                          metavar="F")] = 0.5,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for flow.html (charts), flow.json and CSV tables.",
                                             metavar="DIR")] = None,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Simulate emergency admissions and discharge into home care, reablement and care homes:
    bed occupancy, delayed days, waits and costs, with 95% intervals over replications.

    Example: devolve flow greater-manchester-2016 --district E08000001 --replications 200 --out flow/
    """
    from devolve.interfaces.report.flow import write_flow_report
    from devolve.services.flow import plan_discharge_capacity, read_capacity_file, simulate_discharge

    capacities = read_capacity_file(capacity) if capacity is not None else None
    loaded = services.load(deal, data_dir)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=json_output, disable=json_output) as progress:
        task = progress.add_task("simulating" if not sweep else "sweeping capacity", total=None)

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        if sweep:
            result = plan_discharge_capacity(loaded, district=district, days=days, replications=replications,
                                             capacity=capacities, seed=seed, target_fraction=target, progress=tick)
        else:
            result = simulate_discharge(loaded, district=district, days=days, replications=replications,
                                        capacity=capacities, seed=seed, progress=tick)
    payload = result.to_json()
    if out is not None:
        paths = write_flow_report(result, out, generated_by=f"devolve {__version__}")
        payload["files"] = {key: str(path.resolve()) for key, path in paths.items()}
    if json_output:
        print_json(payload)
        return
    _show(result)
    if out is not None:
        console.print(f"[bold green]Written:[/] {payload['files']['html']}")
