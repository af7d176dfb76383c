"""Who is accountable for each budget line and scheme: the partner and its accountable officer.

* a service × district budget line: social care lines — the district's council; NHS lines
  (hospital, community, mental health, primary care, prescribing) — the district's clinical
  commissioning group (the first, by id, where a district has several);
* a scheme: the partner the deal pack names as accountable for it;
* the risk reserve: the pool manager.

The officer is the accountable role the deal's ``governance.yaml`` names for that kind of partner.
"""

from __future__ import annotations

from devolve.domain.records import Deal
from devolve.governance.records import BoardRules


def _first(deal: Deal, kind: str, district: str) -> str | None:
    ids = sorted(p.id for p in deal.partners if p.type.value == kind and district in p.districts)
    return ids[0] if ids else None


def accountable_for(deal: Deal, rules: BoardRules, line: str) -> dict[str, str]:
    """``{"partner", "officer"}`` accountable for budget line ``line`` (e.g. ``Pool:home_care_hour:E08000001``)."""
    parts = line.split(":")
    partner: str | None = None
    if parts[0] == "Schemes" and len(parts) == 2:
        scheme = next((s for s in deal.schemes if s.id == parts[1]), None)
        partner = scheme.accountable_partner if scheme is not None else None
    elif parts[0] == "Pool" and len(parts) >= 3 and parts[1] != "Transfers":
        setting = next((s.setting for s in deal.service_lines if s.id == parts[1]), None)
        kind = "local_authority" if setting == "social_care" else "commissioner"
        partner = _first(deal, kind, parts[2])
    partner = partner or deal.governance.pool_manager
    types = {p.id: p.type.value for p in deal.partners}
    return {"partner": partner, "officer": rules.accountable_officers.get(types.get(partner, "other"),
                                                                          "accountable officer")}


def accountability_table(deal: Deal, rules: BoardRules) -> list[dict[str, str]]:
    """Every budget line (service × district) and scheme, with its accountable partner and officer."""
    names = {p.id: p.name for p in deal.partners}
    rows = []
    for service in deal.service_lines:
        for district in deal.districts:
            line = f"Pool:{service.id}:{district.code}"
            who = accountable_for(deal, rules, line)
            rows.append({"line": line, "what": f"{service.id} in {district.name}", **who,
                         "partner_name": names.get(who["partner"], who["partner"])})
    for scheme in deal.schemes:
        line = f"Schemes:{scheme.id}"
        who = accountable_for(deal, rules, line)
        rows.append({"line": line, "what": scheme.name, **who, "partner_name": names.get(who["partner"], who["partner"])})
    who = accountable_for(deal, rules, "Pool:Transfers:RiskReserve")
    rows.append({"line": "Pool:Transfers:RiskReserve", "what": "risk reserve", **who,
                 "partner_name": names.get(who["partner"], who["partner"])})
    return rows
