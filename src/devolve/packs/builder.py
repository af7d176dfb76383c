"""Write a working deal pack for any set of English districts from the official data
(`devolve deals new`). The same code drew the districts and CCGs of the built-in packs.

What the data give (cited): districts with their populations and number of small areas, the CCGs
that cover them, the councils and the combined authority. What they do not give is labelled
synthetic in the pack: the pooled budget and contributions (scaled per head from Greater
Manchester's cited £6bn for its mid-2015 population), the transformation fund, and the board's rules.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import yaml

from devolve.data import readers
from devolve.data.registry import SOURCES
from devolve.domain.errors import DataSourceError, InputError
from devolve.domain.money import split_largest_remainder
from devolve.domain.periods import FinancialYear, financial_years

GM_POOLED_GBP = 6_000_000_000
GM_POPULATION_MID2015 = 2_752_015
GM_FUND_GBP = 450_000_000
POPULATION_SOURCE = ("MHCLG English Indices of Deprivation 2019, File 6 population denominators "
                     "(ONS mid-2015, excluding prisoners): sum of the district's LSOAs")


@dataclass(frozen=True)
class RealDistricts:
    districts: pl.DataFrame        # code, name, population, small_areas
    district_ccgs: pl.DataFrame    # district, ccg, ccg_ods, ccg_name, small_areas, population
    combined_authority: tuple[str, str] | None
    ccg_source: str


def ccg_source_for(start: date) -> str:
    """The LSOA→CCG lookup edition in force at the deal's start (April editions 2016–2020)."""
    year = min(max(start.year if start.month >= 4 else start.year - 1, 2016), 2020)
    return f"ons-lsoa-ccg-{year}"


def read_real_districts(codes: list[str], data_dir: Path, start: date) -> RealDistricts:
    population_path = readers.locate("imd2019-population", data_dir)
    if population_path is None:
        raise DataSourceError(
            f"the IoD2019 population denominators are not in {data_dir}: run `devolve data fetch` "
            "or `devolve data import PATH` (see `devolve data status`)")
    areas = readers.read_lsoa_population(population_path)
    unknown = [c for c in codes if c not in set(areas["district"].unique())]
    if unknown:
        raise InputError(f"unknown district code(s) {', '.join(unknown)}: expected 2019 codes of English "
                         "districts such as E08000003 (Manchester), as in the IoD2019 files")
    areas = areas.filter(pl.col("district").is_in(codes))
    names = dict(areas.select("district", "district_name").unique("district").iter_rows())
    districts = (areas.group_by("district").agg(pl.col("population").sum(), pl.len().alias("small_areas"))
                 .with_columns(pl.col("district").replace_strict(names).alias("name"))
                 .rename({"district": "code"})
                 .with_columns(pl.col("code").cast(pl.Enum(codes)).alias("_order")).sort("_order")
                 .select("code", "name", "population", "small_areas"))
    source = ccg_source_for(start)
    ccg_path = readers.locate(source, data_dir)
    if ccg_path is None:
        raise DataSourceError(f"the LSOA to CCG lookup ({SOURCES[source].title}) is not in {data_dir}")
    lookup = readers.read_ccg_lookup(ccg_path)
    joined = areas.join(lookup, on="code", how="left")
    district_ccgs = (joined.group_by("district", "ccg", "ccg_ods", "ccg_name")
                     .agg(pl.len().alias("small_areas"), pl.col("population").sum())
                     .sort("district", "ccg"))
    combined = None
    ca_path = readers.locate("ons-lad-combined-authority-2019", data_dir)
    if ca_path is not None:
        ca = readers.read_combined_authorities(ca_path).filter(pl.col("district").is_in(codes))
        pairs = set(ca.select("combined_authority", "combined_authority_name").iter_rows())
        if ca.height == len(codes) and len(pairs) == 1:
            combined = pairs.pop()
    return RealDistricts(districts, district_ccgs, combined, source)


def slug(text: str) -> str:
    cleaned = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    while "--" in cleaned:
        cleaned = cleaned.replace("--", "-")
    return cleaned.strip("-")


def ccg_partner_id(ods: str, name: str) -> str:
    short = name.replace("NHS ", "").replace(" CCG", "")
    return f"ccg-{ods.lower()}-{slug(short)}"[:60]


def council_partner_id(name: str) -> str:
    return f"la-{slug(name)}"


def default_governance(board: str, partners: list[dict], source: str) -> dict:
    """Default board rules for a new pack (labelled synthetic through ``source``): every partner a
    member, double majority of councils and NHS commissioners, pro-rata risk share."""
    councils = [p["id"] for p in partners if p["type"] == "local_authority"]
    return {
        "board": board, "chair": "to be appointed",
        "members": [p["id"] for p in partners],
        "voting_rule": "double_majority",
        "double_majority_groups": [["local_authority", "combined_authority"], ["commissioner", "national_body"]],
        "quorum": 0.5, "reserved_matters": ["adopt_exemption"], "national_consent": "nhs-england",
        "delegation_limit_gbp": 1_000_000, "host_partner": councils[0], "pool_manager": councils[0],
        "risk_share": {"method": "pro_rata"}, "carry_forward_limit": 0.02,
        "source": source,
    }


def _csv(rows: list[dict], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    return buffer.getvalue()


def write_new_pack(deal_id: str, name: str, codes: list[str], start: date, out: Path, data_dir: Path,
                   years: int = 5) -> Path:
    """Write a complete pack folder for ``codes`` and return its path. Refuses to overwrite."""
    if not codes:
        raise InputError("give at least one district code (--districts E08000001,E08000002)")
    if len(set(codes)) != len(codes):
        raise InputError("a district code is given twice in --districts")
    if (start.month, start.day) != (4, 1):
        raise InputError(f"--start {start.isoformat()} is not 1 April (deals run in financial years)")
    if out.exists() and any(out.iterdir()):
        raise InputError(f"{out} already exists and is not empty: choose another --out")
    real = read_real_districts(codes, data_dir, start)
    fy = financial_years(FinancialYear.containing(start), years)
    population = int(real.districts["population"].sum())
    per_head = GM_POOLED_GBP / GM_POPULATION_MID2015
    pooled = int(round(population * per_head / 1_000_000)) * 1_000_000
    fund = int(round(population * GM_FUND_GBP / GM_POPULATION_MID2015 / 1_000_000)) * 1_000_000
    gm_note = ("synthetic: scaled per head of mid-2015 population from Greater Manchester's cited "
               "£6bn a year for 2,752,015 residents")

    partners = [{"id": "nhs-england", "name": "NHS England", "type": "national_body", "code": "",
                 "districts": "", "source": "NHS England: national commissioner and party to every deal"}]
    if real.combined_authority:
        ca_code, ca_name = real.combined_authority
        partners.append({"id": f"ca-{slug(ca_name)}", "name": f"{ca_name} Combined Authority",
                         "type": "combined_authority", "code": ca_code, "districts": ";".join(codes),
                         "source": SOURCES["ons-lad-combined-authority-2019"].citation})
    for row in real.districts.iter_rows(named=True):
        partners.append({"id": council_partner_id(row["name"]), "name": f"{row['name']} Council",
                         "type": "local_authority", "code": row["code"], "districts": row["code"],
                         "source": "ONS district code; the council is the district's local authority"})
    ccg_rows = []
    for (ccg, ods, ccg_name), group in real.district_ccgs.group_by(["ccg", "ccg_ods", "ccg_name"], maintain_order=True):
        pid = ccg_partner_id(ods, ccg_name)
        partners.append({"id": pid, "name": ccg_name, "type": "commissioner", "code": ccg,
                         "districts": ";".join(group["district"].to_list()),
                         "source": SOURCES[real.ccg_source].citation})
        for r in group.iter_rows(named=True):
            ccg_rows.append({"district": r["district"], "ccg": pid, "small_areas": r["small_areas"],
                             "population": r["population"]})

    contributors = [p for p in partners if p["type"] in ("national_body", "commissioner", "local_authority")]
    weights = []
    ccg_pop = {}
    for r in ccg_rows:
        ccg_pop[r["ccg"]] = ccg_pop.get(r["ccg"], 0) + r["population"]
    district_pop = dict(real.districts.select("code", "population").iter_rows())
    for p in contributors:
        if p["type"] == "national_body":
            weights.append(0.20 * population)
        elif p["type"] == "commissioner":
            weights.append(0.60 * ccg_pop[p["id"]])
        else:
            weights.append(0.20 * district_pop[p["code"]])
    contributions = []
    for year in fy:
        for p, amount in zip(contributors, split_largest_remainder(pooled, weights)):
            contributions.append({"partner": p["id"], "year": year.label, "amount_gbp": amount,
                                  "source": "synthetic: the pooled budget split 20% NHS England, 60% CCGs and "
                                            "20% councils, each by resident population",
                                  "synthetic": "true"})
    out.mkdir(parents=True, exist_ok=True)
    (out / "districts.csv").write_text(_csv(
        [{**r, "source": POPULATION_SOURCE} for r in real.districts.iter_rows(named=True)],
        ["code", "name", "population", "small_areas", "source"]))
    (out / "district_ccgs.csv").write_text(_csv(
        [{**r, "source": SOURCES[real.ccg_source].citation} for r in ccg_rows],
        ["district", "ccg", "small_areas", "source"]))
    (out / "partners.csv").write_text(_csv(partners, ["id", "name", "type", "code", "districts", "source", "note"]))
    (out / "contributions.csv").write_text(_csv(contributions, ["partner", "year", "amount_gbp", "source", "synthetic"]))
    fund_years = split_largest_remainder(fund, [1.0] * len(fy))
    budget = {
        "pooled_budget": {"source": gm_note, "synthetic": True, "years_gbp": {y.label: pooled for y in fy}},
        "transformation_fund": {"source": "synthetic: scaled per head from Greater Manchester's cited £450m "
                                          "over five years, spread evenly", "synthetic": True,
                                "total_gbp": fund, "years_gbp": {y.label: a for y, a in zip(fy, fund_years)}},
    }
    (out / "budget.yaml").write_text(yaml.safe_dump(budget, sort_keys=False, allow_unicode=True))
    governance = default_governance(f"{name} partnership board", partners,
                                    "synthetic: default rules written by `devolve deals new`; replace them "
                                    "with the partnership's agreed terms of reference")
    (out / "governance.yaml").write_text(yaml.safe_dump(governance, sort_keys=False, allow_unicode=True))
    deal = {
        "id": deal_id, "name": name,
        "description": f"Made by `devolve deals new` from the official data for {len(codes)} district(s).",
        "inherits": "national", "start": start.isoformat(), "years": years,
        "neighbourhoods": {"min_population": 30000, "max_population": 50000},
        "small_areas": {"from": "official_data", "ccg_lookup": real.ccg_source},
        "synthetic": ["pooled budget, contributions and transformation fund (scaled per head from Greater Manchester)",
                      "board rules (defaults)"],
        "sources": {"gm-6bn": "Greater Manchester: about £6bn a year of health and social care spending "
                              "(Lords Hansard, 12 January 2016)"},
    }
    (out / "deal.yaml").write_text(yaml.safe_dump(deal, sort_keys=False, allow_unicode=True))
    return out
