"""The forecast written out: a fan chart of the gap, a waterfall of its drivers, the schemes, the
workforce, a map of places, Parquet of every run, an Excel summary and one HTML page.

Nothing here computes a figure: it lays out the tables of a
:class:`~devolve.services.forecast.ForecastResult`. Files are written to a temporary name and moved
into place, so a failure leaves no half-written file.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from devolve.domain.money import format_gbp
from devolve.services.forecast import ForecastResult
from devolve.interfaces.report.files import write_atomically as _atomic

BILLION = 1e9
MILLION = 1e6
MAX_MAP_PLACES = 5_000
SIMPLIFY_METRES = 30.0


def gbp(pounds: float) -> str:
    return format_gbp(int(round(pounds * 100)))


def _style(figure: go.Figure, title: str, synthetic: bool) -> go.Figure:
    label = " (synthetic inputs: see the list)" if synthetic else ""
    figure.update_layout(title=title + label, template="simple_white", height=420,
                         margin=dict(l=60, r=20, t=60, b=50), font=dict(family="Arial, sans-serif", size=13))
    return figure


# --- figures ---------------------------------------------------------------------------------------

def fan_chart(result: ForecastResult) -> go.Figure:
    """The gap each year: the P10–P90 band, the median and the central run."""
    y = result.years
    years = y["year"].to_list()
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=years, y=(y["gap_p90_gbp"] / MILLION).to_list(), line=dict(width=0),
                                name="P90", showlegend=False, hoverinfo="skip"))
    figure.add_trace(go.Scatter(x=years, y=(y["gap_p10_gbp"] / MILLION).to_list(), fill="tonexty",
                                fillcolor="rgba(200,80,60,0.25)", line=dict(width=0), name="P10 to P90"))
    figure.add_trace(go.Scatter(x=years, y=(y["gap_p50_gbp"] / MILLION).to_list(), line=dict(color="#b03a2e"),
                                name="median (P50)"))
    figure.add_trace(go.Scatter(x=years, y=(y["gap_central_gbp"] / MILLION).to_list(),
                                line=dict(color="#333", dash="dot"), name="central run"))
    figure.add_hline(y=0, line=dict(color="#888", width=1))
    figure.update_yaxes(title="gap (spend − income), £m")
    return _style(figure, f"Gap by year, {result.scenario.name} ({result.forecast.runs:,} runs)",
                  result.deal.is_synthetic or bool(result.synthetic_inputs))


def waterfall(result: ForecastResult) -> go.Figure:
    """The final year's gap built up from the first year's, driver by driver (central run)."""
    rows = result.decomposition.filter((pl.col("pence") != 0) | (pl.col("driver") == "first-year gap"))
    measures = ["absolute"] + ["relative"] * (rows.height - 1) + ["total"]
    names = rows["driver"].to_list() + [f"gap {result.years['year'][-1]}"]
    values = (rows["gbp"] / MILLION).to_list() + [float(result.decomposition["pence"].sum()) / 100 / MILLION]
    figure = go.Figure(go.Waterfall(x=names, y=values, measure=measures,
                                    text=[f"{v:,.0f}" for v in values], textposition="outside",
                                    increasing=dict(marker=dict(color="#b03a2e")),
                                    decreasing=dict(marker=dict(color="#2e86c1")),
                                    totals=dict(marker=dict(color="#555"))))
    figure.update_yaxes(title="£m")
    return _style(figure, f"What drives the {result.years['year'][-1]} gap (central run)",
                  bool(result.synthetic_inputs))


def scheme_chart(result: ForecastResult) -> go.Figure:
    s = result.forecast.schemes
    figure = go.Figure(go.Bar(
        x=s["id"].to_list(), y=(s["net_benefit_p50_gbp"] / MILLION).to_list(),
        error_y=dict(type="data", symmetric=False,
                     array=((s["net_benefit_p90_gbp"] - s["net_benefit_p50_gbp"]) / MILLION).to_list(),
                     arrayminus=((s["net_benefit_p50_gbp"] - s["net_benefit_p10_gbp"]) / MILLION).to_list()),
        marker_color="#2e86c1", name="net benefit P50 (P10–P90)"))
    figure.update_yaxes(title="net benefit over the years, £m")
    return _style(figure, "Schemes: net benefit after investment and substitution",
                  bool(s["synthetic"].any()) if s.height else False)


def workforce_chart(result: ForecastResult) -> go.Figure:
    w = result.forecast.workforce.filter(pl.col("year") == result.years["year"][-1])
    figure = go.Figure()
    figure.add_trace(go.Bar(x=w["competency"].to_list(), y=w["demand_fte"].to_list(), name="FTE needed (P50)",
                            error_y=dict(type="data", symmetric=False,
                                         array=(w["demand_p90_fte"] - w["demand_fte"]).to_list(),
                                         arrayminus=(w["demand_fte"] - w["demand_p10_fte"]).to_list())))
    figure.add_trace(go.Bar(x=w["competency"].to_list(), y=w["supply_fte"].to_list(), name="FTE in post"))
    figure.update_layout(barmode="group")
    figure.update_yaxes(title="full-time equivalents")
    return _style(figure, f"Workforce by competency, {result.years['year'][-1]}", True)


def place_map(result: ForecastResult, shapes) -> go.Figure | None:
    """Growth in service spend by place (central run), or ``None`` without shapes or with too many."""
    places = result.forecast.places
    if shapes is None or places.height > MAX_MAP_PLACES or len(shapes) == 0:
        return None
    simplified = shapes.copy()
    simplified["geometry"] = simplified.geometry.simplify(SIMPLIFY_METRES)
    geojson = json.loads(simplified.to_crs("EPSG:4326").to_json())
    for feature in geojson["features"]:
        feature["id"] = feature["properties"]["id"]
    figure = go.Figure(go.Choropleth(
        geojson=geojson, locations=places["place"].to_list(), z=(places["spend_growth"] * 100).to_list(),
        featureidkey="id", colorscale="Reds", marker_line_width=0.2, colorbar=dict(title="% growth"),
        text=[f"{p}: {gbp(a)} → {gbp(b)}" for p, a, b in places.select("place", "spend_first_gbp",
                                                                           "spend_last_gbp").iter_rows()]))
    figure.update_geos(fitbounds="locations", visible=False)
    level = places["level"][0]
    return _style(figure, f"Growth in service spend by {level}, {result.years['year'][0]} to "
                          f"{result.years['year'][-1]} (central run)", result.deal.is_synthetic)


def figures(result: ForecastResult, shapes=None) -> dict[str, go.Figure]:
    out = {"gap_fan": fan_chart(result), "gap_waterfall": waterfall(result), "schemes": scheme_chart(result),
           "workforce": workforce_chart(result)}
    chart = place_map(result, shapes)
    if chart is not None:
        out["places_map"] = chart
    return out


def figures_html(result: ForecastResult, shapes=None) -> dict[str, str]:
    """Plotly divs without the plotly.js bundle, for embedding in a page that loads it once."""
    return {name: figure.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})
            for name, figure in figures(result, shapes).items()}


# --- files -----------------------------------------------------------------------------------------

def write_json(result: ForecastResult, path: Path) -> Path:
    text = json.dumps(result.to_json(), indent=2, ensure_ascii=False, default=str) + "\n"
    return _atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_runs(result: ForecastResult, path: Path) -> Path:
    """Every run and year, with the deal, scenario and seed on each row (Parquet)."""
    frame = result.runs.with_columns(pl.lit(result.deal.id).alias("deal"), pl.lit(result.scenario.name).alias("scenario"),
                                     pl.lit(result.forecast.seed).alias("seed"))
    return _atomic(path, lambda tmp: frame.write_parquet(tmp))


def write_places(result: ForecastResult, path: Path) -> Path:
    return _atomic(path, lambda tmp: result.forecast.places.write_csv(tmp))


def _sheet(book, title: str, frame: pl.DataFrame) -> None:
    sheet = book.create_sheet(title)
    sheet.append(frame.columns)
    for row in frame.iter_rows():
        sheet.append([value if not isinstance(value, (list, dict)) else json.dumps(value) for value in row])
    sheet.freeze_panes = "A2"


def write_workbook(result: ForecastResult, path: Path, *, generated_by: str) -> Path:
    """An Excel summary: headline, years, decomposition, schemes, levers, activity, workforce, inputs."""
    from openpyxl import Workbook

    def build(tmp: Path) -> None:
        book = Workbook()
        head = book.active
        head.title = "Summary"
        payload = result.to_json()
        for key in ("deal", "scenario", "scenario_description", "runs", "seed", "probability_of_balance",
                    "probability_within_carry_forward_limits", "final_year", "data"):
            head.append([key, payload[key] if not isinstance(payload[key], (list, dict)) else json.dumps(payload[key])])
        head.append(["generated by", generated_by])
        head.append(["calibration factor (P50)", payload["calibration"]["factor_p50"]])
        head.append(["calibrated parameters", "; ".join(payload["calibration"]["calibrated_parameters"])])
        f = result.forecast
        for title, frame in (("Years", f.years), ("Decomposition", f.decomposition), ("Schemes", f.schemes),
                             ("Levers", f.levers), ("Activity", f.activity), ("Activity by line", f.activity_lines),
                             ("Workforce", f.workforce), ("Workforce cover", f.workforce_cover),
                             ("Published figures", pl.DataFrame(result.published_comparison()) if
                              result.published_comparison() else pl.DataFrame({"fact": []}))):
            _sheet(book, title, frame)
        notes = book.create_sheet("Inputs")
        notes.append(["synthetic inputs (labelled in the pack)"])
        for item in result.synthetic_inputs:
            notes.append([item])
        notes.append([])
        notes.append(["notes"])
        for item in payload["notes"]:
            notes.append([item])
        book.save(tmp)

    return _atomic(path, build)


def write_html(result: ForecastResult, charts: dict[str, str], path: Path, *, generated_by: str) -> Path:
    """One self-contained page (plotly.js inlined once) with the charts and the headline tables."""
    import plotly.offline

    payload = result.to_json()
    rows = "".join(
        f"<tr><td>{html.escape(y['year'])}</td><td>{gbp(y['budget_gbp'])}</td><td>{gbp(y['spend_p50_gbp'])}</td>"
        f"<td>{gbp(y['gap_p10_gbp'])} to {gbp(y['gap_p90_gbp'])}</td><td>{gbp(y['gap_p50_gbp'])}</td>"
        f"<td>{gbp(y['cumulative_gap_p50_gbp'])}</td></tr>" for y in payload["years"])
    synthetic = "".join(f"<li>{html.escape(item)}</li>" for item in result.synthetic_inputs)
    published = "".join(
        f"<li>{html.escape(p['text'])} ({html.escape(p['year'])}): published {gbp(p['published_gbp'])}, "
        f"this scenario's median gap {gbp(p['modelled_gap_p50_gbp'])} (compare with scenario "
        f"'{html.escape(p['compare_with_scenario'])}')</li>" for p in payload["published_figures"])
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Forecast: {html.escape(result.deal.name)} ({html.escape(result.scenario.name)})</title>
<script>{plotly.offline.get_plotlyjs()}</script>
<style>body{{font-family:Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ddd;padding:4px 10px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}.note{{color:#555}}</style></head><body>
<h1>{html.escape(result.deal.name)}: five-year forecast</h1>
<p>Scenario <b>{html.escape(result.scenario.name)}</b>: {html.escape(result.scenario.description or 'the deal as written')}.
{result.forecast.runs:,} Monte Carlo runs from seed {result.forecast.seed} (run 0 is the central run).
Probability that the plan balances over the years: <b>{payload['probability_of_balance']:.0%}</b>.</p>
<table><tr><th>year</th><th>budget</th><th>spend (P50)</th><th>gap P10 to P90</th><th>gap (P50)</th>
<th>cumulative gap (P50)</th></tr>{rows}</table>
{''.join(f'<section>{div}</section>' for div in charts.values())}
<h2>Published figures</h2><ul>{published or '<li>none carried by this deal</li>'}</ul>
<h2>Synthetic inputs</h2><p class="note">These inputs are not cited facts; every figure that uses them is
synthetic in part.</p><ul>{synthetic}</ul>
<p class="note">Generated by {html.escape(generated_by)}. Method: docs/method/forecast.md and docs/method/fiscal.md.</p>
</body></html>
"""
    return _atomic(path, lambda tmp: tmp.write_text(page, encoding="utf-8"))


def write_outputs(result: ForecastResult, out: Path, *, generated_by: str, shapes=None) -> dict[str, Path]:
    """Every output into the folder ``out``."""
    out = Path(out)
    charts = figures_html(result, shapes)
    return {
        "json": write_json(result, out / "forecast.json"),
        "runs": write_runs(result, out / "forecast_runs.parquet"),
        "places": write_places(result, out / "forecast_places.csv"),
        "workbook": write_workbook(result, out / "forecast.xlsx", generated_by=generated_by),
        "html": write_html(result, charts, out / "forecast.html", generated_by=generated_by),
    }
