"""Compare deals side by side: population, need, spend per head, the forecast gap, indicators and
inequalities, and a readiness summary (pooled share of spend, governance, data, financial position).

Computing only: the page is written by :mod:`devolve.interfaces.report.indicators`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devolve.domain.errors import DevolveError, InputError
from devolve.domain.records import Deal
from devolve.engines.indicators import readiness
from devolve.packs import loader
from devolve.services.indicators import IndicatorsResult, compute_indicators, projected_indicators

Progress = Callable[[str], None]
MAX_DEALS = 12


def forecast_gap(deal: Deal, *, runs: int, seed: int, data_dir: str | Path | None) -> dict[str, Any]:
    """The forecast engine's gap by year (median and 10th/90th percentiles of its runs), when this
    installation has the forecast service; otherwise ``available: false`` and why. Never estimated here."""
    try:
        forecast = importlib.import_module("devolve.services.forecast")
    except ModuleNotFoundError as exc:
        if exc.name != "devolve.services.forecast":
            raise
        return {"available": False, "note": "not available: this installation has no forecast engine", "years": []}
    try:
        result = forecast.run_forecast(deal, runs=runs, seed=seed, data_dir=data_dir)
    except DevolveError as exc:
        return {"available": False, "note": f"not available: the forecast could not run ({exc})", "years": []}
    out = result.to_json()
    years = [{"year": y["year"], "gap_p10_gbp": y["gap_p10_gbp"], "gap_p50_gbp": y["gap_p50_gbp"],
              "gap_p90_gbp": y["gap_p90_gbp"]} for y in out["years"]]
    final = years[-1]
    return {"available": True, "runs": out["runs"], "seed": out["seed"], "scenario": out["scenario"],
            "years": years, "final_year": final["year"], "final_year_gap_p50_gbp": final["gap_p50_gbp"],
            "probability_of_balance": out["probability_of_balance"],
            "note": (f"forecast engine, scenario '{out['scenario']}', {out['runs']} runs from seed {out['seed']}; "
                     "spend − income, positive = overspend"),
            "synthetic": bool(out["synthetic_inputs"]), "synthetic_inputs": out["synthetic_inputs"],
            "population": result.forecast.population}


@dataclass(frozen=True)
class DealComparison:
    deal: Deal
    indicators: IndicatorsResult
    forecast: dict[str, Any]       # without the population projection (see ``projected``)
    readiness: dict[str, Any]
    projected: dict[str, Any] | None = None   # indicators in the forecast's final year

    def to_json(self) -> dict[str, Any]:
        data = self.indicators.to_json()
        deal = self.deal
        gap = self.forecast
        if gap["available"]:
            financial = (f"forecast gap in {gap['final_year']}: £{gap['final_year_gap_p50_gbp'] / 1e6:,.0f}m (median), "
                         f"probability of balance {gap['probability_of_balance']:.0%}")
        else:
            financial = gap["note"]
        cited = self.readiness["financial_position"]["cited"]
        if cited:
            financial += "; cited: " + "; ".join(f"{c['text']} (£{c['value_gbp'] / 1e6:,.0f}m)" for c in cited)
        return {
            "id": deal.id, "name": deal.name, "start": deal.start.isoformat(), "years": deal.years,
            "districts": len(deal.districts), "small_areas": deal.small_areas.height,
            "population": deal.total_population, "synthetic_items": list(deal.synthetic_items),
            "indicators": [{k: i[k] for k in ("id", "name", "value", "unit", "target", "target_source", "status",
                                              "synthetic")} for i in data["indicators"]],
            "inequalities": [{k: q[k] for k in ("indicator", "sii", "sii_ci", "rii")} for q in data["inequalities"]],
            "forecast": gap, "readiness": self.readiness, "financial_text": financial,
            "projected": self.projected,
        }


@dataclass(frozen=True)
class CompareResult:
    deals: tuple[DealComparison, ...]

    def to_json(self) -> dict[str, Any]:
        deals = [d.to_json() for d in self.deals]
        return {"deals": deals, "table": comparison_table(deals)}


def _row(label: str, kind: str, values: list, synthetic: bool | list[bool] = False) -> dict[str, Any]:
    """A table row; ``synthetic``: per value (or for all values) whether it is synthetic."""
    flags = list(synthetic) if isinstance(synthetic, list) else [bool(synthetic)] * len(values)
    return {"label": label, "kind": kind, "values": values, "synthetic": flags}


def comparison_table(deals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the side-by-side table (raw values; ``kind`` says how to show them)."""
    rows = [
        _row("Start", "text", [d["start"] for d in deals]),
        _row("Districts", "count", [d["districts"] for d in deals]),
        _row("Small areas (LSOAs)", "count", [d["small_areas"] for d in deals]),
        _row("Residents (mid-2015)", "count", [d["population"] for d in deals]),
        _row("Residents in England's most deprived fifth of areas", "share",
             [d["readiness"]["need"]["most_deprived_fifth_share"] for d in deals],
             [d["readiness"]["need"]["deprivation_data"] == "synthetic" for d in deals]),
        _row("Pooled budget, first year", "gbp", [d["readiness"]["spend"]["pooled_budget_gbp"] for d in deals],
             [d["readiness"]["spend"]["synthetic"] for d in deals]),
        _row("Pooled budget per resident", "gbp", [d["readiness"]["spend"]["spend_per_head_gbp"] for d in deals],
             [d["readiness"]["spend"]["synthetic"] for d in deals]),
        _row("Pooled share of health and care spend (estimate)", "share",
             [d["readiness"]["pooled_share_of_spend"]["value"] for d in deals],
             [d["readiness"]["pooled_share_of_spend"]["synthetic"] for d in deals]),
        _row("Forecast gap, final year (median)", "gbp",
             [d["forecast"]["final_year_gap_p50_gbp"] if d["forecast"]["available"] else "not available"
              for d in deals], [d["forecast"].get("synthetic", False) for d in deals]),
        _row("Probability the plan balances", "share",
             [d["forecast"]["probability_of_balance"] if d["forecast"]["available"] else "not available"
              for d in deals], [d["forecast"].get("synthetic", False) for d in deals]),
        _row("Board members", "count", [d["readiness"]["governance"]["members"] for d in deals]),
        _row("Governance rules", "text", ["assumed (synthetic)" if d["readiness"]["governance"]["rules_synthetic"]
                                          else "cited" for d in deals]),
        _row("Data sources that are real", "share",
             [d["readiness"]["data_completeness"]["share_real"] for d in deals]),
    ]
    first = deals[0]
    for i, indicator in enumerate(first["indicators"]):
        rows.append(_row(f"{indicator['name']} ({indicator['unit'].replace('_', ' ')})", "number",
                         [d["indicators"][i]["value"] for d in deals],
                         [d["indicators"][i]["synthetic"] for d in deals]))
        rows.append(_row("  in the forecast's final year (projected)", "number",
                         [(d["projected"]["indicators"][i]["value"] if d["projected"] else "not available")
                          for d in deals], [d["projected"] is not None for d in deals]))
        rows.append(_row("  target applied (national / local / exempt)", "text",
                         [d["indicators"][i]["target_source"] for d in deals]))
        flags = [d["indicators"][i]["synthetic"] for d in deals]
        rows.append(_row("  SII across deprivation deciles", "number",
                         [d["inequalities"][i]["sii"] for d in deals], flags))
        rows.append(_row("  RII (SII / mean)", "number", [d["inequalities"][i]["rii"] for d in deals], flags))
    return rows


def compare_deals(refs: Sequence[str | Path], data_dir: str | Path | None = None, *, seed: int = 0,
                  runs: int = 200, progress: Progress | None = None) -> CompareResult:
    """Load each deal and compare them. Two to twelve deals; the same indicators for each."""
    if len(refs) < 2:
        raise InputError("compare needs at least two deals (built-in ids or pack folders)")
    if len(refs) > MAX_DEALS:
        raise InputError(f"compare takes at most {MAX_DEALS} deals at a time; got {len(refs)}")
    step = progress or (lambda _name: None)
    deals: list[Deal] = []
    for ref in refs:
        step(f"load {ref}")
        deal = loader.load_deal(ref, data_dir=data_dir)
        if any(d.id == deal.id for d in deals):
            raise InputError(f"deal '{deal.id}' is given twice")
        deals.append(deal)
    out = []
    for deal in deals:
        step(f"indicators for {deal.id}")
        result = compute_indicators(deal, seed=seed, data_dir=data_dir)
        step(f"forecast for {deal.id}")
        gap = forecast_gap(deal, runs=runs, seed=seed, data_dir=data_dir)
        projection = gap.pop("population", None)
        projected = (projected_indicators(deal, projection, gap["final_year"], seed=seed)
                     if projection is not None else None)
        summary = readiness(deal, deal.start, gap if gap["available"] else None, gap["note"]).to_json()
        out.append(DealComparison(deal, result, gap, summary, projected))
    ids = [tuple(i["id"] for i in d.indicators.to_json()["indicators"]) for d in out]
    if len(set(ids)) != 1:
        raise InputError("the deals define different indicators (their own indicators.yaml); compare needs the "
                         "same set")
    return CompareResult(tuple(out))
