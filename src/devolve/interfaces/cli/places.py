"""`devolve neighbourhoods` and `devolve estate`: neighbourhoods of 30–50k residents, hubs and the shared estate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from devolve.domain.money import format_gbp
from devolve.interfaces.cli.common import DataDirOption, JsonOption, console, handles_errors, print_json
from devolve.packs.loader import load_deal

# The places service and its writers (geopandas, plotly, matplotlib) are imported inside the commands,
# so that every other `devolve` command starts without them.

DealArgument = Annotated[str, typer.Argument(help="A built-in deal id or a pack folder.", metavar="DEAL")]
MinOption = Annotated[int | None, typer.Option("--min", help="Fewest residents in a neighbourhood "
                                                             "(default: the deal's, usually 30,000).",
                                               show_default=False)]
MaxOption = Annotated[int | None, typer.Option("--max", help="Most residents in a neighbourhood "
                                                             "(default: the deal's, usually 50,000).",
                                               show_default=False)]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of the neighbourhood builder (same seed, same result).")]
StartOption = Annotated[str | None, typer.Option(
    "--start", help="Start from existing groupings and report how far the result moved: 'msoa', or a CSV file "
                    "with columns area,group (a draft).", show_default=False)]


def _build(deal_ref: str, data_dir, low, high, seed, start, quiet: bool, extra_stages: tuple[str, ...] = ()):
    from devolve.services import places

    stages = ("load the deal", *places.STAGES, *extra_stages)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=quiet) as bar:
        task = bar.add_task(stages[0], total=len(stages))

        def step(name: str) -> None:
            bar.update(task, description=name, advance=1)

        deal = load_deal(deal_ref, data_dir=data_dir)
        band = places.resolve_band(deal, low, high)
        result = places.build_neighbourhoods(deal, data_dir=data_dir, band=band, seed=seed, start=start,
                                             progress=step)
        return deal, result, step


@handles_errors
def neighbourhoods_command(
    deal: DealArgument,
    low: MinOption = None,
    high: MaxOption = None,
    seed: SeedOption = 0,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write the result: a file whose suffix picks the format (.csv assignment, .geojson, .gpkg, "
                      ".html map, .png map, .json), or a folder for all of them.", show_default=False)] = None,
    start: StartOption = None,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Group the deal's small areas into contiguous, compact neighbourhoods within a population band.

    Each neighbourhood lies inside one district; districts that cannot be split within the band are
    named with the reason, and the nearest feasible split is used. Hubs come from the deal's estate
    register (the building nearest its residents), or the centre when there is none.

    Example: devolve neighbourhoods greater-manchester-2016 --out out/neighbourhoods/
    """
    from devolve.interfaces.report.places import write_neighbourhoods

    _, result, _ = _build(deal, data_dir, low, high, seed, start, json_output)
    written = write_neighbourhoods(result, out) if out is not None else {}
    payload = result.to_json()
    if written:
        payload["written"] = {k: str(v.resolve()) for k, v in written.items()}
    if json_output:
        print_json(payload)
        return
    console.print(f"[bold]{result.deal.name}[/]: {payload['neighbourhoods']} neighbourhoods of "
                  f"{result.band[0]:,}–{result.band[1]:,} residents ({result.data} data)")
    console.print(f"within the band: {payload['within_band']}, contiguous: {payload['contiguous']}, "
                  f"population {payload['min_population']:,}–{payload['max_population']:,}, "
                  f"mean compactness (Polsby–Popper) {payload['mean_compactness']:.3f}")
    table = Table(title="By district")
    for column, justify in (("district", "left"), ("neighbourhoods", "right"), ("smallest", "right"),
                            ("largest", "right"), ("compactness", "right"), ("hubs in buildings", "right")):
        table.add_column(column, justify=justify)
    for r in result.by_district().iter_rows(named=True):
        table.add_row(f"{r['district_name']} ({r['district']})", str(r["neighbourhoods"]), f"{r['smallest']:,}",
                      f"{r['largest']:,}", f"{r['mean_compactness']:.3f}", str(r["hubs_in_buildings"]))
    console.print(table)
    if payload["estate_buildings"] and payload["estate_buildings_located"] < payload["estate_buildings"]:
        console.print(f"{payload['estate_buildings'] - payload['estate_buildings_located']} of the "
                      f"{payload['estate_buildings']} buildings of the estate register lie outside these small areas"
                      + (" (their boundaries are synthetic)" if result.data == "synthetic" else ""))
    if payload["estate_register"] == "synthetic" and payload["hubs_in_buildings"]:
        console.print("[red]Hubs are buildings of the pack's synthetic estate register[/] (an illustration, "
                      "not real buildings); use `devolve estate --register FILE` with a real one.")
    for item in payload["unsplittable_districts"]:
        console.print(f"[yellow]cannot split {item['name']} ({item['district']}) within the band:[/] {item['reason']}")
    for link in payload["island_links"]:
        console.print(f"island link in {link['district']}: {link['area']} → {link['to']} ({link['distance_m']:.0f} m)")
    if payload["start"]:
        st = payload["start"]
        console.print(f"moved from the starting groups: {st['moved_population']:,} residents "
                      f"({st['moved_share']:.1%}); {st['groups_split']} of {st['groups']} groups split")
    for key, path in written.items():
        console.print(f"wrote {key}: {path}")


@handles_errors
def estate_command(
    deal: DealArgument,
    register: Annotated[Path | None, typer.Option(
        "--register", help="Use this estate register (CSV, the pack's estate.csv format) instead of the pack's.",
        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder for hubs.csv, shared_buildings.csv, released_buildings.csv, moves.csv and "
                      "estate.json.", show_default=False)] = None,
    low: MinOption = None,
    high: MaxOption = None,
    seed: SeedOption = 0,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Choose a hub per neighbourhood and list buildings that could be shared or released, with savings.

    Services whose buildings sit in a neighbourhood move into its hub where there is room; the
    buildings they leave, and vacant ones, could be released. Savings are net running costs a year;
    receipts are capital, net of the costs of sale. Assumptions are the deal's estate parameters.

    Example: devolve estate greater-manchester-2016 --out out/estate/
    """
    from devolve.interfaces.report.places import write_estate
    from devolve.services import places

    loaded, result, step = _build(deal, data_dir, low, high, seed, None, json_output, ("plan the estate",))
    estate = places.estate_plan(loaded, result, register=register)
    step("plan the estate")
    written = write_estate(estate, out) if out is not None else {}
    payload = estate.to_json()
    if written:
        payload["written"] = {k: str(v.resolve()) for k, v in written.items()}
    if json_output:
        print_json(payload)
        return
    label = " [red](synthetic register)[/]" if estate.synthetic else ""
    console.print(f"[bold]{loaded.name}[/]: estate register {estate.register}{label}")
    console.print(f"{payload['buildings']} buildings ({payload['buildings_outside']} outside the deal's small areas); "
                  f"{payload['hubs_in_buildings']} of {payload['neighbourhoods']} hubs in a building")
    console.print(f"shared by several partners: {payload['shared_buildings']}; could be released: "
                  f"{payload['released_buildings']} ({payload['released_floor_area_m2']:,.0f} m²)")
    console.print(f"running-cost saving {format_gbp(round(payload['running_cost_saving_gbp_per_year'] * 100))} a year; "
                  f"capital receipts {format_gbp(round(payload['capital_receipts_gbp'] * 100))}")
    if payload["by_owner"]:
        table = Table(title="Released buildings by owner")
        for column, justify in (("owner", "left"), ("released", "right"), ("saving a year", "right"),
                                ("receipts", "right")):
            table.add_column(column, justify=justify)
        for row in payload["by_owner"]:
            table.add_row(row["owner"], str(row["buildings"]),
                          format_gbp(round(row["running_cost_saving_gbp_per_year"] * 100)),
                          format_gbp(round(row["capital_receipts_gbp"] * 100)))
        console.print(table)
    for key, path in written.items():
        console.print(f"wrote {key}: {path}")
