"""How ready a deal is to run a pooled budget: a short, factual summary for comparing deals.

Four questions (The King's Fund asked who is accountable for the money and warned that few areas
are ready): how much of the area's health and care spending is pooled; whether governance is in
place (and cited or assumed); how complete the data are (real official files or synthetic
stand-ins); and the financial position (the forecast gap when a forecast is available, and any
cited gap the pack carries). Nothing here is a score: each answer is shown with its basis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from devolve.domain.errors import ParameterError
from devolve.domain.records import Deal
from devolve.engines.indicators.definitions import IndicatorError

SPEND_PARAMETER = "indicators.health_and_care_spend_per_head"


@dataclass(frozen=True)
class Readiness:
    deal: str
    population: int
    most_deprived_fifth_share: float        # residents in England's most deprived 20% of areas
    deprivation_data: str                   # real | synthetic
    first_year: str
    pooled_budget_gbp: float
    pooled_budget_synthetic: bool           # the pack lists its pooled budget among its synthetic items
    spend_per_head_gbp: float
    estimated_total_spend_gbp: float
    pooled_share: float
    pooled_share_synthetic: bool
    board: str
    board_members: int
    voting_rule: str
    reserved_matters: int
    national_consent: str | None
    governance_rules_synthetic: bool
    governance_source: str
    data_sources_real: int
    data_sources: int
    data_origin: dict
    forecast_gap: dict | None               # from the forecast engine when available
    forecast_note: str
    cited_financial_facts: tuple[dict, ...]

    @property
    def data_completeness(self) -> float:
        return self.data_sources_real / self.data_sources if self.data_sources else 0.0

    def to_json(self) -> dict:
        return {
            "deal": self.deal, "population": self.population,
            "need": {"most_deprived_fifth_share": self.most_deprived_fifth_share,
                     "basis": "share of residents living in England's most deprived 20% of small areas (IMD 2019)",
                     "deprivation_data": self.deprivation_data},
            "spend": {"first_year": self.first_year, "pooled_budget_gbp": self.pooled_budget_gbp,
                      "spend_per_head_gbp": self.spend_per_head_gbp, "synthetic": self.pooled_budget_synthetic},
            "pooled_share_of_spend": {"value": self.pooled_share,
                                      "estimated_total_spend_gbp": self.estimated_total_spend_gbp,
                                      "synthetic": self.pooled_share_synthetic,
                                      "basis": f"pooled budget / (residents × {SPEND_PARAMETER})"},
            "governance": {"board": self.board, "members": self.board_members, "voting_rule": self.voting_rule,
                           "reserved_matters": self.reserved_matters, "national_consent": self.national_consent,
                           "rules_synthetic": self.governance_rules_synthetic, "source": self.governance_source},
            "data_completeness": {"real_sources": self.data_sources_real, "sources": self.data_sources,
                                  "share_real": self.data_completeness, "origin": self.data_origin},
            "financial_position": {"forecast_gap": self.forecast_gap, "note": self.forecast_note,
                                   "cited": list(self.cited_financial_facts)},
        }


def readiness(deal: Deal, when: date, forecast_gap: dict | None, forecast_note: str) -> Readiness:
    population = deal.total_population
    if population <= 0:
        raise IndicatorError(f"deal '{deal.id}' has no residents")
    first = deal.financial_years[0]
    pooled = deal.pooled_budget[first] / 100
    try:
        per_head = float(deal.parameters.at(SPEND_PARAMETER, when))
    except ParameterError as exc:
        raise IndicatorError(f"readiness: {exc}") from None
    total_spend = per_head * population
    areas = deal.small_areas
    deprived = float(areas.filter(pl.col("imd_decile") <= 2)["population"].sum()) / population
    source = deal.governance.source
    cited = tuple({"id": f.id, "text": f.text, "value_gbp": f.value, "year": f.year.label if f.year else None,
                   "source": deal.sources.get(f.source, f.source)}
                  for f in deal.facts
                  if f.unit == "GBP" and f.value is not None
                  and any(word in f"{f.id} {f.text}".lower() for word in ("gap", "deficit", "surplus")))
    return Readiness(
        deal=deal.id, population=population, most_deprived_fifth_share=deprived,
        deprivation_data=deal.data.get("imd2019-domains", "synthetic"), first_year=first.label,
        pooled_budget_gbp=pooled,
        pooled_budget_synthetic=any("pooled budget" in item.lower() for item in deal.synthetic_items),
        spend_per_head_gbp=pooled / population, estimated_total_spend_gbp=total_spend,
        pooled_share=pooled / total_spend, pooled_share_synthetic=deal.parameters[SPEND_PARAMETER].synthetic,
        board=deal.governance.board, board_members=len(deal.governance.members),
        voting_rule=deal.governance.voting_rule, reserved_matters=len(deal.governance.reserved_matters),
        national_consent=deal.governance.national_consent,
        governance_rules_synthetic="synthetic" in source.lower(), governance_source=source,
        data_sources_real=sum(1 for v in deal.data.values() if v == "real"), data_sources=len(deal.data),
        data_origin=dict(deal.data), forecast_gap=forecast_gap, forecast_note=forecast_note,
        cited_financial_facts=cited)
