"""Use cases about deals: list, load, validate, summarise, create.

Functions here compute and return plain data (dicts, tables); writing files is left to
`devolve.interfaces.report` and the CLI.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from devolve.data.location import resolve_data_dir
from devolve.domain.errors import ParameterError
from devolve.domain.periods import FinancialYear
from devolve.domain.records import Deal, PartnerType
from devolve.packs import builder, loader


def list_deals() -> list[dict[str, Any]]:
    """The built-in deals, with name, start and years (read from each pack's identity)."""
    rows = []
    for deal_id in loader.builtin_deals():
        doc, ident = loader._read_identity(loader.BUILTIN_DIR / deal_id)
        rows.append({"id": deal_id, "name": ident["name"], "start": ident["start"].isoformat(),
                     "years": ident["years"]})
    return rows


def load(ref: str | Path, data_dir: str | Path | None = None) -> Deal:
    return loader.load_deal(ref, data_dir=data_dir)


def validate(ref: str | Path, data_dir: str | Path | None = None) -> dict[str, Any]:
    deal, report = loader.load_deal_with_report(ref, data_dir=data_dir)
    return {"ok": True, "deal": deal.id, "pack": report.pack, "data_dir": report.data_dir,
            "data_dir_reason": report.data_dir_reason,
            "stages": [{"stage": name, "seconds": round(sec, 4)} for name, sec in report.stages],
            "data": dict(deal.data)}


def deal_summary(deal: Deal) -> dict[str, Any]:
    """The `deals show --json` contract: identity, partners, places, money and data provenance."""
    counts = Counter(p.type.value for p in deal.partners)
    by_district = dict(deal.small_areas.group_by("district").agg(pl.col("population").sum()).iter_rows())
    contributions = []
    for p in deal.partners:
        for year, pence in sorted(p.contributions.items()):
            contributions.append({"partner": p.id, "name": p.name, "type": p.type.value,
                                  "year": year.label, "gbp": pence / 100})
    return {
        "id": deal.id,
        "name": deal.name,
        "description": deal.description,
        "start": deal.start.isoformat(),
        "end": deal.end.isoformat(),
        "years": deal.years,
        "financial_years": [y.label for y in deal.financial_years],
        "partner_counts": {t.value: counts.get(t.value, 0) for t in PartnerType},
        "partners": [{"id": p.id, "name": p.name, "type": p.type.value, "code": p.code,
                      "source": p.source, "note": p.note} for p in deal.partners],
        "districts": [{"code": d.code, "name": d.name, "population": int(by_district.get(d.code, 0)),
                       "small_areas": d.small_areas} for d in deal.districts],
        "population": deal.total_population,
        "small_areas": deal.small_areas.height,
        "pooled_budget_gbp": {y.label: deal.pooled_budget[y] / 100 for y in sorted(deal.pooled_budget)},
        "transformation_fund_gbp": sum(deal.transformation_fund.values()) / 100,
        "transformation_fund_by_year_gbp": {y.label: v / 100 for y, v in sorted(deal.transformation_fund.items())},
        "contributions": contributions,
        "service_lines": [s.id for s in deal.service_lines],
        "schemes": [{"id": s.id, "name": s.name, "investment_gbp": s.total_investment / 100,
                     "synthetic": s.synthetic} for s in deal.schemes],
        "board": {"name": deal.governance.board, "chair": deal.governance.chair,
                  "members": len(deal.governance.members), "voting_rule": deal.governance.voting_rule,
                  "risk_share": deal.governance.risk_share.get("method")},
        "priorities": list(deal.priorities),
        "facts": [{"id": f.id, "text": f.text, "value": f.value, "unit": f.unit,
                   "year": f.year.label if f.year else None, "source": f.source} for f in deal.facts],
        "neighbourhood_band": list(deal.neighbourhood_band),
        "data": dict(deal.data),
        "synthetic": list(deal.synthetic_items),
        "sources": dict(deal.sources),
        "pack": deal.pack_path,
    }


def parameter_table(deal: Deal, year: FinancialYear | None = None) -> list[dict[str, Any]]:
    """Every parameter with its value at the start of ``year`` (default: the deal's first year)."""
    when = (year or deal.financial_years[0]).start
    rows = []
    for path in deal.parameters:
        p = deal.parameters[path]
        try:
            value = p.at(when)
        except ParameterError:  # a rule not yet started, or ended: shown as None
            value = None
        rows.append({"path": path, "value": value, "unit": p.unit, "synthetic": p.synthetic,
                     "source": deal.sources.get(p.source, p.source), "description": p.description})
    return rows


def new_deal(deal_id: str, name: str, districts: list[str], start: date, out: Path | None,
             data_dir: str | Path | None = None) -> dict[str, Any]:
    folder, _ = resolve_data_dir(data_dir)
    target = out or Path("deals") / deal_id
    path = builder.write_new_pack(deal_id, name, districts, start, target, folder)
    deal = loader.load_deal(path, data_dir=folder)
    return {"id": deal.id, "path": str(path.resolve()), "districts": len(deal.districts),
            "small_areas": deal.small_areas.height, "population": deal.total_population}
