"""HTML for outcomes and inequalities: SPC charts with Making Data Count icons (each with its words,
never colour alone), SII charts across deprivation deciles, the indicators page and the page that
compares deals. Everything here presents numbers the services computed; nothing is computed here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.offline
from jinja2 import Environment, select_autoescape

NHS_BLUE, ORANGE, GREY, DARK = "#005eb8", "#ed8b00", "#7f7f7f", "#0b0c0c"
VARIATION_ICON = {  # letter, arrow, colour, words
    "common_cause": ("~", "", GREY, "Common cause variation"),
    "improvement_high": ("H", "↑", NHS_BLUE, "Special cause: improvement (higher)"),
    "improvement_low": ("L", "↓", NHS_BLUE, "Special cause: improvement (lower)"),
    "concern_high": ("H", "↑", ORANGE, "Special cause: concern (higher)"),
    "concern_low": ("L", "↓", ORANGE, "Special cause: concern (lower)"),
}
ASSURANCE_ICON = {
    "consistently_pass": ("P", NHS_BLUE, "Assurance: consistently passes the target"),
    "consistently_fail": ("F", ORANGE, "Assurance: consistently fails the target"),
    "hit_and_miss": ("?", GREY, "Assurance: hit and miss"),
    "no_target": ("–", "#b1b4b6", "No target"),
}
POINT_STYLE = {  # marker symbol and colour by the variation a point shows; the legend says which
    "common_cause": ("circle", GREY, "common cause"),
    "improvement_high": ("triangle-up", NHS_BLUE, "special cause: improvement"),
    "improvement_low": ("triangle-down", NHS_BLUE, "special cause: improvement"),
    "concern_high": ("diamond", ORANGE, "special cause: concern"),
    "concern_low": ("diamond", ORANGE, "special cause: concern"),
}
STATUS_MARK = {"green": "✔ meets", "amber": "▲ near", "red": "✖ misses", "no target": "– no target",
               "exempt": "○ exempt", "not computable": "? not computable"}


def variation_icon(kind: str | None) -> str:
    """An inline SVG icon for an SPC variation result, followed by its words."""
    if kind is None:
        return '<span class="icon-text">no chart</span>'
    letter, arrow, colour, words = VARIATION_ICON[kind]
    return (f'<span class="icon"><svg width="34" height="34" viewBox="0 0 34 34" role="img" aria-label="{words}">'
            f'<circle cx="17" cy="17" r="15" fill="{colour}" stroke="{DARK}" stroke-width="1"/>'
            f'<text x="17" y="22" text-anchor="middle" font-size="14" font-weight="bold" fill="#fff">'
            f'{letter}{arrow}</text></svg><span class="icon-text">{words}</span></span>')


def assurance_icon(kind: str | None) -> str:
    if kind is None:
        return '<span class="icon-text">no chart</span>'
    letter, colour, words = ASSURANCE_ICON[kind]
    return (f'<span class="icon"><svg width="34" height="34" viewBox="0 0 34 34" role="img" aria-label="{words}">'
            f'<rect x="2" y="2" width="30" height="30" rx="15" fill="#fff" stroke="{colour}" stroke-width="4"/>'
            f'<text x="17" y="22" text-anchor="middle" font-size="15" font-weight="bold" fill="{DARK}">{letter}'
            f'</text></svg><span class="icon-text">{words}</span></span>')


def _div(figure: go.Figure, title: str, height: int = 380) -> str:
    figure.update_layout(title=dict(text=title, font=dict(size=14)), margin=dict(l=55, r=20, t=45, b=40),
                         height=height, font=dict(family="Arial, sans-serif", size=12), template="simple_white",
                         legend=dict(orientation="h", y=-0.32, yanchor="top"))
    return figure.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})


def spc_figure(spc: dict[str, Any], name: str, unit: str) -> go.Figure:
    chart = spc["chart"]
    months = spc["months"]
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=months, y=spc["observed"], mode="lines", line=dict(color="#b1b4b6"),
                                name="monthly value (synthetic)", hoverinfo="skip"))
    if chart:
        points = chart["points"]
        for key in ("common_cause", "improvement_high", "improvement_low", "concern_high", "concern_low"):
            picked = [i for i, p in enumerate(points) if p["variation"] == key]
            if not picked:
                continue
            symbol, colour, words = POINT_STYLE[key]
            figure.add_trace(go.Scatter(
                x=[months[i] for i in picked], y=[points[i]["value"] for i in picked], mode="markers",
                marker=dict(symbol=symbol, color=colour, size=9, line=dict(color=DARK, width=1)),
                name=words, text=[spc["rule_text"].get(points[i]["rule"], "") for i in picked],
                hovertemplate="%{x}: %{y:.4g}<br>%{text}<extra>" + words + "</extra>"))
        lines = ((chart["mean"], "mean", "solid"), (chart["upper_limit"], "upper process limit", "dash"),
                 (chart["lower_limit"], "lower process limit", "dash"))
        for value, label, dash in lines:
            figure.add_trace(go.Scatter(x=[months[0], months[-1]], y=[value, value], mode="lines",
                                        line=dict(color=DARK if label == "mean" else GREY, dash=dash, width=1.5),
                                        name=label))
    figure.add_trace(go.Scatter(x=months, y=spc["expected"], mode="lines",
                                line=dict(color=NHS_BLUE, dash="dot", width=1), name="modelled expected value"))
    if any(t is not None for t in spc["targets"]):
        figure.add_trace(go.Scatter(x=months, y=spc["targets"], mode="lines", line=dict(color="#d5281b", width=2,
                                                                                      shape="hv", dash="dashdot"),
                                    name="target in force"))
    figure.update_layout(yaxis_title=unit.replace("_", " "))
    return figure


def sii_figure(inequality: dict[str, Any], unit: str) -> go.Figure:
    deciles = inequality["deciles"]
    x = [d["decile"] for d in deciles]
    figure = go.Figure(go.Bar(
        x=x, y=[d["value"] for d in deciles], marker_color="#41b6e6", name="decile value (synthetic)",
        error_y=dict(type="data", symmetric=False, array=[(d["upper"] or 0) - d["value"] for d in deciles],
                     arrayminus=[d["value"] - (d["lower"] or 0) for d in deciles], color=DARK)))
    if inequality.get("sii") is not None:
        fitted = [inequality["fitted_most_deprived"] + inequality["sii"] * d["rank_midpoint"] for d in deciles]
        figure.add_trace(go.Scatter(x=x, y=fitted, mode="lines+markers", line=dict(color=DARK, dash="dash"),
                                    marker=dict(symbol="x"), name="slope index of inequality (fitted line)"))
    figure.update_layout(xaxis=dict(title="deprivation decile (1 = most deprived, 10 = least deprived)", dtick=1),
                         yaxis_title=unit.replace("_", " "))
    return figure


def figures_html(result: Any) -> dict[str, str]:
    """Plotly divs (no bundled script) for the main report: ``spc_<indicator>`` and ``sii_<indicator>``."""
    data = result.to_json() if hasattr(result, "to_json") else result
    names = {i["id"]: (i["name"], i["unit"]) for i in data["indicators"]}
    out = {}
    for spc in data["spc"]:
        name, unit = names[spc["indicator"]]
        out[f"spc_{spc['indicator']}"] = _div(spc_figure({**spc, "rule_text": spc.get("rules", {})}, name, unit),
                                              "SPC chart (synthetic monthly series)", height=430)
    for ineq in data["inequalities"]:
        name, unit = names[ineq["indicator"]]
        out[f"sii_{ineq['indicator']}"] = _div(sii_figure(ineq, unit), "By deprivation decile (synthetic)",
                                               height=430)
    return out


_PAGE = """<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
 body { font-family: Arial, Helvetica, sans-serif; color: #0b0c0c; margin: 0; line-height: 1.45; }
 header { background: #005eb8; color: #fff; padding: 1.1rem 2rem; } header h1 { margin: 0 0 .3rem 0; }
 main { max-width: 1200px; margin: 0 auto; padding: 1rem 2rem 3rem; }
 h2 { border-bottom: 3px solid #005eb8; padding-bottom: .2rem; margin-top: 2rem; }
 table { border-collapse: collapse; width: 100%; margin: .8rem 0; font-size: .92rem; }
 th, td { text-align: left; padding: .3rem .45rem; border-bottom: 1px solid #b1b4b6; vertical-align: top; }
 th { background: #f3f2f1; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
 .banner { border: 3px solid #8a2b00; background: #fff4e5; padding: .6rem .9rem; margin: 1rem 0; }
 .tag { display: inline-block; padding: 0 .35rem; border: 1px solid; font-size: .8rem; font-weight: bold; }
 .national { color: #005eb8; } .local { color: #00703c; } .exempt { color: #8a2b00; }
 .icon { display: inline-flex; align-items: center; gap: .35rem; margin-right: .8rem; }
 .icon-text { font-size: .88rem; } .note { color: #505a5f; font-size: .9rem; }
 .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; } @media (max-width: 900px) { .pair { grid-template-columns: 1fr; } }
</style>
<script>{{ plotly_js | safe }}</script></head>
<body><header><h1>{{ title }}</h1><div>{{ subtitle }}</div></header><main>
{{ body | safe }}
<p class="note">Generated by {{ generated_by }}.</p>
<script type="application/json" id="data">{{ data_json | safe }}</script>
</main></body></html>
"""

_INDICATORS = """
<div class="banner"><strong>Synthetic figures.</strong> {{ d.synthetic_note[11:] if d.synthetic_note.startswith("synthetic: ") else d.synthetic_note }}.
Delayed transfers come from the {{ d.delayed_transfers_from }}.</div>
<h2 id="indicators">Indicators and the targets that apply ({{ d.as_of }})</h2>
<table><thead><tr><th scope="col">Indicator</th><th scope="col" class="num">Value</th><th scope="col" class="num">95% interval</th>
<th scope="col" class="num">Target</th><th scope="col">Rule</th><th scope="col">Status</th><th scope="col">Why this rule</th></tr></thead><tbody>
{% for i in d.indicators %}<tr><td>{{ i.name }} <span class="tag">synthetic</span></td><td class="num">{{ fmt(i.value) }}</td>
<td class="num">{{ fmt(i.ci[0]) }} to {{ fmt(i.ci[1]) }}</td><td class="num">{{ fmt(i.target) }}</td>
<td><span class="tag {{ i.target_source }}">{{ i.target_source }}</span></td><td>{{ mark(i.status) }} ({{ i.status_text }})</td>
<td class="note">{{ i.reason }}</td></tr>{% endfor %}</tbody></table>
<h3>National rules devolve cannot compute (no data)</h3>
<table><thead><tr><th scope="col">Measure</th><th scope="col">Rule</th><th scope="col" class="num">Value</th><th scope="col">Applies as</th><th scope="col">Why</th></tr></thead><tbody>
{% for r in d.rules %}<tr><td>{{ r.measure }}</td><td>{{ r.rule or "none" }}</td><td class="num">{{ fmt(r.value) }}</td>
<td><span class="tag {{ r.target_source }}">{{ r.target_source }}</span></td><td class="note">{{ r.reason }}</td></tr>{% endfor %}</tbody></table>
<h3>Directives: the Better Care Fund minimum</h3>
<table><thead><tr><th scope="col">Year</th><th scope="col" class="num">Required (estimate, £)</th><th scope="col" class="num">Pooled (£)</th><th scope="col">Status</th><th scope="col">Why</th></tr></thead><tbody>
{% for c in d.directives %}<tr><td>{{ c.year }}</td><td class="num">{{ money(c.required_gbp) }}</td><td class="num">{{ money(c.actual_gbp) }}</td>
<td>{{ c.status }}</td><td class="note">{{ c.reason }}</td></tr>{% endfor %}</tbody></table>
<h2 id="inequalities">Inequalities across deprivation deciles ({{ d.decile_basis }} deciles)</h2>
<p class="note">SII: the fitted value at the least deprived end minus the most deprived end (negative: higher in more deprived areas).
RII: the SII as a share of the mean. Intervals: {{ d.inequalities[0].ci_method if d.inequalities and d.inequalities[0].ci_method else "analytic" }}.</p>
<table><thead><tr><th scope="col">Indicator</th><th scope="col" class="num">SII</th><th scope="col" class="num">95% interval</th><th scope="col" class="num">RII</th>
<th scope="col" class="num">Most deprived fifth</th><th scope="col" class="num">Least deprived fifth</th><th scope="col" class="num">Gap</th></tr></thead><tbody>
{% for q in d.inequalities %}<tr><td>{{ names[q.indicator] }}</td><td class="num">{{ fmt(q.sii) }}</td>
<td class="num">{% if q.sii_ci %}{{ fmt(q.sii_ci[0]) }} to {{ fmt(q.sii_ci[1]) }}{% endif %}</td><td class="num">{{ fmt(q.rii) }}</td>
<td class="num">{{ fmt(q.quintile_gap.most_deprived_quintile if q.quintile_gap else None) }}</td>
<td class="num">{{ fmt(q.quintile_gap.least_deprived_quintile if q.quintile_gap else None) }}</td>
<td class="num">{{ fmt(q.quintile_gap.gap if q.quintile_gap else None) }}</td></tr>{% endfor %}</tbody></table>
<h2 id="monitoring">Monitoring: SPC charts (synthetic monthly series) and inequality charts</h2>
{% for i in d.indicators %}<h3>{{ i.name }}</h3>
<p>{{ variation(i.spc.variation) | safe }} {{ assurance(i.spc.assurance) | safe }}</p>
<div class="pair"><div>{{ charts['spc_' ~ i.id] | safe }}</div><div>{{ charts['sii_' ~ i.id] | safe }}</div></div>{% endfor %}
<h2 id="units">By {{ d.level }}</h2>
{% for i in d.indicators %}<h3>{{ i.name }}</h3>
<table><thead><tr><th scope="col">{{ d.level | capitalize }}</th><th scope="col" class="num">Value</th><th scope="col">Status</th>
<th scope="col" class="num">SII</th><th scope="col" class="num">RII</th><th scope="col">Variation</th><th scope="col">Assurance</th></tr></thead><tbody>
{% for u in d.units if u.indicator == i.id %}<tr><td>{{ u.name }}</td><td class="num">{{ fmt(u.value) }}</td><td>{{ mark(u.status) }}</td>
<td class="num">{{ fmt(u.inequality_sii) }}</td><td class="num">{{ fmt(u.inequality_rii) }}</td>
<td>{{ variation(u.spc.variation) | safe }}</td><td>{{ assurance(u.spc.assurance) | safe }}</td></tr>{% endfor %}</tbody></table>{% endfor %}
<h2 id="schemes">How each scheme changes the indicators and their inequality (central effect, full size)</h2>
<table><thead><tr><th scope="col">Scheme</th><th scope="col">Indicator</th><th scope="col" class="num">Before</th><th scope="col" class="num">After</th>
<th scope="col" class="num">SII before</th><th scope="col" class="num">SII after</th><th scope="col" class="num">RII before</th><th scope="col" class="num">RII after</th></tr></thead><tbody>
{% for s in d.schemes if s.value_before != s.value_after %}<tr><td>{{ s.name }}</td><td>{{ names[s.indicator] }}</td><td class="num">{{ fmt(s.value_before) }}</td>
<td class="num">{{ fmt(s.value_after) }}</td><td class="num">{{ fmt(s.sii_before) }}</td><td class="num">{{ fmt(s.sii_after) }}</td>
<td class="num">{{ fmt(s.rii_before) }}</td><td class="num">{{ fmt(s.rii_after) }}</td></tr>{% endfor %}</tbody></table>
<p class="note">Schemes with no effect on an indicator are left out. Standard population: {% for s in d.standard_populations.values() %}{{ s.name }} ({{ s.source }}){% endfor %}.</p>
"""

_COMPARE = """
<div class="banner"><strong>Modelled figures are synthetic.</strong> Indicator values, inequality indices and the pooled share of
spend are modelled (see each deal's synthetic items); the forecast gap is shown only where the forecast engine ran.</div>
<h2 id="side-by-side">Side by side</h2>
<table><thead><tr><th scope="col">Measure</th>{% for d in c.deals %}<th scope="col" class="num">{{ d.name }}</th>{% endfor %}</tr></thead><tbody>
{% for row in c.table %}<tr><td>{{ row.label }}</td>
{% for v in row["values"] %}<td class="num">{{ cell(v, row.kind) }}{% if row.synthetic[loop.index0] %} <span class="tag">synthetic</span>{% endif %}</td>{% endfor %}</tr>{% endfor %}</tbody></table>
<h2 id="readiness">Readiness</h2>
{% for d in c.deals %}<h3>{{ d.name }}</h3><ul>
<li>Pooled share of health and care spend: {{ pct(d.readiness.pooled_share_of_spend.value) }} (estimate; {{ d.readiness.pooled_share_of_spend.basis }}{% if d.readiness.pooled_share_of_spend.synthetic %}, synthetic{% endif %})</li>
<li>Governance: {{ d.readiness.governance.board }}, {{ d.readiness.governance.members }} members, {{ d.readiness.governance.voting_rule | replace("_", " ") }};
rules {{ "assumed (synthetic)" if d.readiness.governance.rules_synthetic else "cited" }}. <span class="note">{{ d.readiness.governance.source }}</span></li>
<li>Data completeness: {{ d.readiness.data_completeness.real_sources }} of {{ d.readiness.data_completeness.sources }} sources real.</li>
<li>Financial position: {{ d.financial_text }}</li></ul>{% endfor %}
<h2 id="charts">Charts</h2>
{% for key, chart in charts.items() %}<div>{{ chart | safe }}</div>{% endfor %}
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:,.1f}"
    return f"{value:.3g}" if magnitude >= 0.001 or value == 0 else f"{value:.2e}"


def _money(value: Any) -> str:
    return "–" if value is None else f"£{value:,.0f}"


def _pct(value: Any) -> str:
    return "–" if value is None else f"{value:.1%}"


def cell(value: Any, kind: str) -> str:
    """A side-by-side table value shown by its kind (count, gbp, share, number, text)."""
    if value is None or isinstance(value, str):
        return "–" if value is None else value
    return {"count": lambda v: f"{v:,.0f}", "gbp": _money, "share": _pct}.get(kind, _fmt)(value)


def _env() -> Environment:
    env = Environment(autoescape=select_autoescape(default_for_string=True, default=True))
    env.globals.update(fmt=_fmt, money=_money, pct=_pct, cell=cell, mark=lambda s: STATUS_MARK.get(s, s),
                       variation=variation_icon, assurance=assurance_icon)
    return env


def _page(title: str, subtitle: str, body: str, data: dict, generated_by: str) -> str:
    return _env().from_string(_PAGE).render(title=title, subtitle=subtitle, body=body, generated_by=generated_by,
                                            plotly_js=plotly.offline.get_plotlyjs(),
                                            data_json=json.dumps(data, default=str).replace("</", "<\\/"))


def render_indicators_body(data: dict[str, Any]) -> str:
    """The indicators section (tables, SPC and inequality charts; no plotly.js), for a page that
    loads plotly.js itself (the report's page below, the web app's)."""
    names = {i["id"]: i["name"] for i in data["indicators"]}
    return _env().from_string(_INDICATORS).render(d=data, names=names, charts=figures_html(data))


def render_indicators_page(data: dict[str, Any], *, generated_by: str) -> str:
    """The indicators page (one self-contained HTML file that opens offline) from `indicators --json`."""
    body = render_indicators_body(data)
    subtitle = (f"{data['level']} level · as at {data['as_of']} · {data['decile_basis']} deprivation deciles · "
                f"seed {data['seed']}")
    return _page(f"{data['name']}: outcomes and inequalities", subtitle, body, data, generated_by)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_text(text, encoding="utf-8")
    part.replace(path)


def write_indicators_report(data: dict[str, Any], out_dir: Path, *, generated_by: str) -> dict[str, Path]:
    """Write indicators.html and indicators.json into ``out_dir`` (each via a temporary file)."""
    html = render_indicators_page(data, generated_by=generated_by)
    paths = {"html": out_dir / "indicators.html", "json": out_dir / "indicators.json"}
    _write(paths["json"], json.dumps(data, indent=2, default=str, ensure_ascii=False))
    _write(paths["html"], html)
    return paths


def compare_charts(data: dict[str, Any]) -> dict[str, str]:
    deals = data["deals"]
    names = [d["name"] for d in deals]
    charts = {}
    spend = go.Figure(go.Bar(x=names, y=[d["readiness"]["spend"]["spend_per_head_gbp"] for d in deals],
                             marker_color=NHS_BLUE, text=[_money(d["readiness"]["spend"]["spend_per_head_gbp"])
                                                          for d in deals], textposition="outside"))
    spend.update_layout(yaxis_title="£ per resident, first year")
    charts["spend"] = _div(spend, "Pooled budget per resident")
    ids = [i["id"] for i in deals[0]["indicators"]]
    labels = {i["id"]: i["name"] for i in deals[0]["indicators"]}
    rii = go.Figure([go.Bar(name=d["name"], y=[labels[i] for i in ids], orientation="h",
                            x=[next((q["rii"] for q in d["inequalities"] if q["indicator"] == i), None) for i in ids])
                     for d in deals])
    rii.update_layout(barmode="group", xaxis_title="relative index of inequality (SII / mean; below 0: higher in "
                                                   "more deprived areas)", yaxis=dict(automargin=True))
    charts["rii"] = _div(rii, "Relative index of inequality by indicator (synthetic)", height=560)
    gaps = [d for d in deals if d["forecast"]["available"]]
    if gaps:
        gap = go.Figure([go.Scatter(x=[y["year"] for y in d["forecast"]["years"]],
                                    y=[y["gap_p50_gbp"] / 1e6 for y in d["forecast"]["years"]], mode="lines+markers",
                                    name=d["name"]) for d in gaps])
        gap.update_layout(yaxis_title="£ million (median of runs)")
        charts["gap"] = _div(gap, "Forecast gap by year (spend − income)")
    return charts


def render_compare_page(data: dict[str, Any], *, generated_by: str) -> str:
    body = _env().from_string(_COMPARE).render(c=data, charts=compare_charts(data))
    return _page("Comparing deals", " · ".join(d["name"] for d in data["deals"]), body, data, generated_by)


def write_compare_page(data: dict[str, Any], path: Path, *, generated_by: str) -> Path:
    """Write the comparison as one self-contained HTML file (via a temporary file)."""
    _write(path, render_compare_page(data, generated_by=generated_by))
    return path
