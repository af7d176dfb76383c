"""Render the main job's report as one self-contained HTML file.

Charts use Plotly's bundled JavaScript, inlined once, so the file opens offline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.offline
from jinja2 import Environment, FileSystemLoader, select_autoescape

from devolve.domain.money import format_gbp
from devolve.interfaces.report import flow as flow_report
from devolve.interfaces.report import forecast as forecast_report
from devolve.interfaces.report import indicators as indicators_report
from devolve.interfaces.report import optimise as optimise_report
from devolve.interfaces.report import places as places_report

TEMPLATES = Path(__file__).parent / "templates"


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters["gbp"] = lambda pounds: format_gbp(int(round(pounds * 100)))
    env.filters["thousands"] = lambda n: f"{int(n):,}"
    return env


def _figure_html(figure: go.Figure, title: str) -> str:
    figure.update_layout(title=title, margin=dict(l=40, r=20, t=50, b=40), height=380,
                         font=dict(family="Arial, sans-serif", size=13), template="simple_white")
    return figure.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})


def deal_charts(summary: dict[str, Any]) -> dict[str, str]:
    """Charts for the deal section: contributions by partner type and year; residents by district."""
    by_type: dict[str, dict[str, float]] = {}
    for row in summary["contributions"]:
        by_type.setdefault(row["type"], {}).setdefault(row["year"], 0.0)
        by_type[row["type"]][row["year"]] += row["gbp"]
    years = summary["financial_years"]
    contributions = go.Figure([go.Bar(name=kind.replace("_", " "), x=years,
                                      y=[by_type[kind].get(y, 0) / 1e6 for y in years])
                               for kind in sorted(by_type)])
    contributions.update_layout(barmode="stack", yaxis_title="£ million")
    districts = sorted(summary["districts"], key=lambda d: d["population"])
    residents = go.Figure(go.Bar(x=[d["population"] for d in districts], y=[d["name"] for d in districts],
                                 orientation="h", marker_color="#005eb8"))
    residents.update_layout(xaxis_title="residents (mid-2015)")
    return {
        "contributions": _figure_html(contributions, "Contributions to the pooled budget by partner type"),
        "residents": _figure_html(residents, "Residents by district"),
    }


def allocation_chart(result: Any) -> str:
    """Distance from target by district (a bar each; the sign and the label say over or under)."""
    rows = sorted(result.to_json()["items"], key=lambda item: item["distance_from_target"])
    figure = go.Figure(go.Bar(
        x=[round(100 * item["distance_from_target"], 2) for item in rows], y=[item["name"] for item in rows],
        orientation="h", marker_color=["#d5281b" if item["distance_from_target"] < 0 else "#005eb8" for item in rows],
        text=[f"{100 * item['distance_from_target']:+.1f}% ({'under' if item['distance_from_target'] < 0 else 'over'})"
              for item in rows], textposition="auto"))
    figure.update_layout(xaxis_title="current allocation vs target (%)")
    return _figure_html(figure, f"Distance from target, {result.to_json()['year']}")


def render_run_report(result: Any, *, generated_by: str) -> str:
    """The main job's report as one HTML string (no I/O): every stage that ran, with its charts."""
    summary = result.summary
    data = result.to_json()
    charts = dict(deal_charts(summary))
    if result.neighbourhoods is not None:
        charts["neighbourhoods"] = places_report.map_figure_html(result.neighbourhoods)
    if result.allocation is not None:
        charts["allocation"] = allocation_chart(result.allocation)
    forecast_charts = {name: forecast_report.figures_html(f) for name, f in result.forecasts.items()}
    indicator_charts = indicators_report.figures_html(result.indicators) if result.indicators else {}
    flow_charts = flow_report.figures_html(result.flow) if result.flow else {}
    portfolio_charts = optimise_report.figures_html(result.portfolio) if result.portfolio else {}
    template = _environment().get_template("report.html.j2")
    return template.render(s=summary, d=data, charts=charts, forecast_charts=forecast_charts,
                           indicator_charts=indicator_charts, flow_charts=flow_charts,
                           portfolio_charts=portfolio_charts, plotly_js=plotly.offline.get_plotlyjs(),
                           generated_by=generated_by,
                           summary_json=json.dumps(summary, default=str).replace("</", "<\\/"))
