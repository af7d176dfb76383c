"""`devolve forecast`: the five-year plan — demand, cost, workforce and balance, with uncertainty."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from devolve import __version__
from devolve.interfaces.cli.common import DataDirOption, JsonOption, console, handles_errors, print_json
from devolve.interfaces.report import forecast as report
from devolve.services import forecast as service
from devolve.services.deals import load


def _show(result: service.ForecastResult, written: dict[str, Path]) -> None:
    payload = result.to_json()
    console.print(f"[bold]{result.deal.name}[/]: scenario [bold]{result.scenario.name}[/], "
                  f"{payload['runs']:,} runs, seed {payload['seed']} ({payload['execution']}, "
                  f"{payload['seconds']:.1f} s)", highlight=False)
    years = Table(title="£m: budget, median spend, the gap's P10, P50 and P90, and the cumulative gap (P50)",
                  box=box.SIMPLE_HEAD, padding=(0, 1))
    for column in ("year", "budget", "spend", "gap P10", "gap P50", "gap P90", "cum. gap", "P(over)"):
        years.add_column(column, justify="left" if column == "year" else "right", no_wrap=True)
    millions = lambda pounds: f"{pounds / 1e6 + 0.0:,.0f}"  # noqa: E731
    for y in payload["years"]:
        years.add_row(y["year"], millions(y["budget_gbp"]), millions(y["spend_p50_gbp"]),
                      millions(y["gap_p10_gbp"]), millions(y["gap_p50_gbp"]), millions(y["gap_p90_gbp"]),
                      millions(y["cumulative_gap_p50_gbp"]), f"{y['probability_overspend']:.0%}")
    console.print(years)
    console.print(f"Probability the plan balances over the {len(payload['years'])} years: "
                  f"[bold]{payload['probability_of_balance']:.0%}[/] (within the carry-forward limit every year: "
                  f"{payload['probability_within_carry_forward_limits']:.0%})", highlight=False)
    drivers = Table(title=f"What drives the {payload['final_year']} gap (central run; adds up exactly)",
                    box=box.SIMPLE_HEAD, padding=(0, 1))
    drivers.add_column("driver")
    drivers.add_column("£", justify="right")
    for row in payload["decomposition"]:
        if row["gbp"] != 0 or row["driver"] == "first-year gap":
            drivers.add_row(row["driver"], report.gbp(row["gbp"]))
    drivers.add_row(f"gap {payload['final_year']}", report.gbp(payload["decomposition_total_gbp"]), style="bold")
    console.print(drivers)
    schemes = Table(title="Schemes (net benefit after investment and substitution)", box=box.SIMPLE_HEAD,
                    padding=(0, 1))
    for column in ("scheme", "investment", "net P10", "net P50", "net P90", "ROI P50"):
        schemes.add_column(column, justify="left" if column == "scheme" else "right", no_wrap=True)
    for s in payload["schemes"]:
        schemes.add_row(s["id"] + (" *" if s["synthetic"] else ""), report.gbp(s["investment_gbp"]),
                        report.gbp(s["net_benefit_p10_gbp"]), report.gbp(s["net_benefit_p50_gbp"]),
                        report.gbp(s["net_benefit_p90_gbp"]), "-" if s["roi_p50"] is None else f"{s['roi_p50']:.2f}")
    console.print(schemes)
    last = payload["activity"][-1]
    console.print(f"{last['year']}: admissions avoided {last['admissions_avoided_p50'] + 0.0:,.0f}, bed days saved "
                  f"{last['bed_days_saved_p50'] + 0.0:,.0f}, people supported at home "
                  f"{last['people_supported_at_home_p50'] + 0.0:,.0f} (P50)", highlight=False)
    short = [w for w in payload["workforce"] if w["year"] == payload["final_year"] and w["gap_after_cover_fte"] > 0]
    if short:
        console.print(f"Workforce gaps in {payload['final_year']} after cross-cover (FTE): " + ", ".join(
            f"{w['competency']} {w['gap_after_cover_fte']:,.0f}" for w in short), highlight=False)
    for item in payload["published_figures"]:
        console.print(f"Published: {item['text']} — {report.gbp(item['published_gbp'])}; this scenario's median "
                      f"gap {report.gbp(item['modelled_gap_p50_gbp'])} (compare with '{item['compare_with_scenario']}')",
                      highlight=False, soft_wrap=True)
    if payload["calibration"]["calibrated_parameters"]:
        console.print("Calibrated, not cited: " + ", ".join(payload["calibration"]["calibrated_parameters"]),
                      highlight=False, soft_wrap=True)
    console.print(f"[red]* synthetic[/]: {len(result.synthetic_inputs)} inputs are synthetic "
                  f"(see --json synthetic_inputs); data: {payload['data']}", highlight=False)
    for name, path in written.items():
        console.print(f"wrote {name}: {path}", highlight=False)


@handles_errors
def forecast_command(
    deal: Annotated[str, typer.Argument(help="A built-in deal id or a pack folder.", metavar="DEAL")],
    scenario: Annotated[list[str] | None, typer.Option(
        "--scenario", help="A scenario of the deal's pack by name (do-nothing, plan, health-tax, rates-discount) "
                           "or a YAML file of parameter changes; repeat to combine.", show_default=False)] = None,
    runs: Annotated[int, typer.Option("--runs", help="Monte Carlo runs (run 0 is the central run).")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every run's random numbers.")] = 0,
    workers: Annotated[int | None, typer.Option("--workers", help="Run on a local Dask cluster of N worker processes.",
                                                show_default=False)] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Run on an existing Dask cluster "
                                                  "(scheduler address, e.g. tcp://10.0.0.5:8786).",
                                                  show_default=False)] = None,
    neighbourhoods: Annotated[Path | None, typer.Option(
        "--neighbourhoods", help="CSV of area,neighbourhood to group the places by.", show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the outputs: forecast.json, .html, .xlsx, "
                                             "places CSV and every run as Parquet.", show_default=False)] = None,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Forecast five years of demand, cost, workforce and balance, with uncertainty, schemes and levers.

    Monte Carlo runs are vectorised and reproducible: the same seed gives the same numbers on one
    worker or many.

    Example: devolve forecast greater-manchester-2016 --scenario plan --runs 1000 --out out/forecast
    """
    service.check_arguments(runs=runs, seed=seed, workers=workers, scheduler=scheduler)
    assignment = service.read_neighbourhoods(neighbourhoods) if neighbourhoods is not None else None
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True, disable=json_output) as progress:
        task = progress.add_task("load and validate the deal", total=runs)
        loaded = load(deal, data_dir)
        progress.update(task, description="Monte Carlo runs")

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = service.run_forecast(loaded, scenario=scenario or None, runs=runs, seed=seed, workers=workers,
                                      scheduler=scheduler, progress=advance, neighbourhoods=assignment,
                                      data_dir=data_dir)
        written: dict[str, Path] = {}
        if out is not None:
            progress.update(task, description="write the outputs")
            written = report.write_outputs(result, out, generated_by=f"devolve {__version__}",
                                           shapes=service.place_shapes(result, data_dir))
    if json_output:
        payload = result.to_json()
        if written:
            payload["outputs"] = {name: str(path.resolve()) for name, path in written.items()}
        print_json(payload)
        return
    _show(result, written)
