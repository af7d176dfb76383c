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


def render_report(summary: dict[str, Any], *, generated_by: str) -> str:
    """The report as an HTML string (no I/O)."""
    template = _environment().get_template("report.html.j2")
    return template.render(s=summary, charts=deal_charts(summary), plotly_js=plotly.offline.get_plotlyjs(),
                           generated_by=generated_by, summary_json=json.dumps(summary, default=str).replace("</", "<\\/"))


def write_report(summary: dict[str, Any], out_dir: Path, *, generated_by: str) -> dict[str, Path]:
    """Write report.html and summary.json into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / "report.html"
    json_path = out_dir / "summary.json"
    html_tmp = html_path.with_suffix(".html.part")
    html_tmp.write_text(render_report(summary, generated_by=generated_by), encoding="utf-8")
    html_tmp.replace(html_path)
    json_tmp = json_path.with_suffix(".json.part")
    json_tmp.write_text(json.dumps(summary, indent=2, default=str, ensure_ascii=False), encoding="utf-8")
    json_tmp.replace(json_path)
    return {"html": html_path, "json": json_path}
