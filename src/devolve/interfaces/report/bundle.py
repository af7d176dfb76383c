"""Write the main job's files: the HTML report, summary.json, an Excel workbook, a GeoPackage and
GeoJSON of the neighbourhoods, and Parquet files of every table. Each file is written to a temporary
name and moved into place, so a failed run leaves no half-written file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
from openpyxl import Workbook

from devolve.interfaces.report import places as places_report
from devolve.interfaces.report.html import render_run_report
from devolve.services.pipeline import RunResult
from devolve.interfaces.report.files import write_atomically as _atomic


def tables(result: RunResult) -> dict[str, pl.DataFrame]:
    """The run's tables by name (also the workbook's sheets and the Parquet files)."""
    out: dict[str, pl.DataFrame] = {}
    deal = result.summary
    out["partners"] = pl.DataFrame(deal["partners"])
    out["contributions"] = pl.DataFrame(deal["contributions"])
    out["districts"] = pl.DataFrame(deal["districts"])
    if result.neighbourhoods is not None:
        out["neighbourhoods"] = result.neighbourhoods.summary
        out["small_area_neighbourhood"] = result.neighbourhoods.assignment
    if result.allocation is not None:
        out["allocation_district"] = result.allocation.table
        out["allocation_path"] = result.allocation.path
    if result.allocation_neighbourhoods is not None:
        out["allocation_neighbourhood"] = result.allocation_neighbourhoods.table
    for name, forecast in result.forecasts.items():
        key = name.replace("-", "_")
        out[f"forecast_{key}_years"] = forecast.years
        out[f"forecast_{key}_decomposition"] = forecast.decomposition
        out[f"forecast_{key}_runs"] = forecast.runs
    if result.indicators is not None:
        out["indicators"] = pl.DataFrame([{k: v for k, v in row.items() if not isinstance(v, (list, dict))}
                                          for row in result.indicators.to_json()["indicators"]])
    if result.flow is not None:
        out["flow_pathways"] = pl.DataFrame(result.flow.to_json()["pathways"])
    if result.portfolio is not None:
        out["portfolio"] = pl.DataFrame(result.portfolio.to_json()["chosen"])
    if result.board is not None and result.board["decisions"]:
        out["board_decisions"] = pl.DataFrame([
            {"id": d["id"], "kind": d["kind"], "title": d["title"], "proposer": d["proposer"], "status": d["status"],
             "outcome": d["outcome"], "votes": d["votes"], "decided_on": d["decided_on"], "decided_by": d["decided_by"],
             "enacted": d["enacted"], "amount_gbp": d["amount_gbp"],
             "ledger_transactions": ", ".join(str(t) for t in d["ledger_transactions"]),
             "reasons": "; ".join(d["reasons"]), "synthetic": d["synthetic"]} for d in result.board["decisions"]])
    return out


def _cell(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    if value is not None and not isinstance(value, (int, float, str, bool)):
        return str(value)
    return value


def write_workbook(result: RunResult, path: Path, *, generated_by: str) -> Path:
    """One sheet per table (runs of the Monte Carlo forecast go to Parquet, not Excel)."""
    book = Workbook()
    readme = book.active
    readme.title = "README"
    readme.append([f"{result.summary['name']} — devolve run ({generated_by})"])
    readme.append(["Each sheet is one table of the run; summary.json and the HTML report explain them."])
    readme.append(["Synthetic parts of this deal (not published facts):"])
    for item in result.summary["synthetic"]:
        readme.append(["", item])
    readme.append(["Data sources used:"])
    for source, origin in result.summary["data"].items():
        readme.append(["", source, origin])
    for name, frame in tables(result).items():
        if name.endswith("_runs"):
            continue
        sheet = book.create_sheet(name[:31])
        sheet.append(frame.columns)
        for row in frame.iter_rows():
            sheet.append([_cell(v) for v in row])
        sheet.freeze_panes = "A2"
    return _atomic(path, lambda tmp: book.save(tmp))


def write_run(result: RunResult, out_dir: Path, *, generated_by: str) -> dict[str, Path]:
    """Write every file of the run into ``out_dir``; return their paths by kind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    html = render_run_report(result, generated_by=generated_by)
    paths["html"] = _atomic(out_dir / "report.html", lambda tmp: tmp.write_text(html, encoding="utf-8"))
    payload = json.dumps(result.to_json(), indent=2, default=str, ensure_ascii=False)
    paths["json"] = _atomic(out_dir / "summary.json", lambda tmp: tmp.write_text(payload, encoding="utf-8"))
    paths["workbook"] = write_workbook(result, out_dir / "devolve.xlsx", generated_by=generated_by)
    if result.neighbourhoods is not None:
        paths["geopackage"] = places_report.write_geopackage(result.neighbourhoods, out_dir / "neighbourhoods.gpkg")
        paths["geojson"] = places_report.write_geojson(result.neighbourhoods, out_dir / "neighbourhoods.geojson")
    parquet = out_dir / "parquet"
    parquet.mkdir(exist_ok=True)
    for name, frame in tables(result).items():
        _atomic(parquet / f"{name}.parquet", lambda tmp, frame=frame: frame.write_parquet(tmp))
    paths["parquet"] = parquet
    return paths
