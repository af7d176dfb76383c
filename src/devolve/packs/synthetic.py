"""Synthetic deal packs of any size, up to all of England, for tests and benchmarks.

:func:`write_synthetic_pack` writes a complete, valid pack folder (the same files as
``devolve deals new`` plus its own ``small_areas.csv``) from one seed: the same seed gives the
same files byte for byte. Nothing in it is a real place or a cited figure, and every part says so:
district codes start ``S9`` (``S90000001``…), CCG codes ``S38``, provider codes ``S9R``; partners'
sources, contributions, small areas, budget and board rules are all marked synthetic.

Sizes follow England's shape: small areas of 1,000–2,500 residents (about 1,500, like 2011 LSOAs),
split about 19% / 58% / 23% into ages 0–15, 16–59 and 60+; CCGs covering one to three districts; one
NHS provider for about every three districts; a pooled budget of about £2,180 a head a year (Greater
Manchester's £6bn for 2.75m residents) and a transformation fund of 7.5% of one year's pool.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from devolve.domain.errors import InputError
from devolve.domain.money import split_largest_remainder
from devolve.domain.periods import FinancialYear, financial_years
from devolve.domain.records import Deal
from devolve.packs.builder import default_governance
from devolve.packs.loader import load_deal

POOLED_GBP_PER_HEAD = 2_180
FUND_SHARE_OF_ONE_YEAR = 0.075
FUND_YEARS = 5
AREA_POPULATION = (1_000, 2_500)          # inclusive range of a small area's residents
YOUNG_SHARE = (0.14, 0.24)                # ages 0-15, mean 19%
OLD_SHARE = (0.17, 0.29)                  # ages 60+, mean 23%; 16-59 takes the rest (about 58%)
IMD_AREAS = 32_844                        # ranks run 1..32,844 as in the English IoD2019
DISTRICTS_PER_PROVIDER = 3
MAX_DISTRICTS = 9_999_999
MAX_AREAS_PER_DISTRICT = 99_999
CONTRIBUTION_SOURCE = ("synthetic: the pooled budget split 20% NHS England, 60% CCGs and 20% councils, "
                       "each by resident population")
SMALL_AREA_COLUMNS = ("code", "name", "district", "ccg", "msoa", "population", "pop_0_15", "pop_16_59",
                      "pop_60_plus", "imd_rank", "imd_decile", "synthetic")


def _check(districts: int, areas_per_district: int | None, total_areas: int | None, start: date,
           years: int) -> None:
    if not 1 <= districts <= MAX_DISTRICTS:
        raise InputError(f"districts must be between 1 and {MAX_DISTRICTS:,}; got {districts}")
    if (areas_per_district is None) == (total_areas is None):
        raise InputError("give exactly one of areas_per_district and total_areas")
    if areas_per_district is not None and not 1 <= areas_per_district <= MAX_AREAS_PER_DISTRICT:
        raise InputError(f"areas_per_district must be between 1 and {MAX_AREAS_PER_DISTRICT:,}; "
                         f"got {areas_per_district}")
    if total_areas is not None and not districts <= total_areas <= districts * MAX_AREAS_PER_DISTRICT:
        raise InputError(f"total_areas must be between one and {MAX_AREAS_PER_DISTRICT:,} per district "
                         f"({districts:,} to {districts * MAX_AREAS_PER_DISTRICT:,}); got {total_areas}")
    if (start.month, start.day) != (4, 1):
        raise InputError(f"start {start.isoformat()} is not 1 April (deals run in financial years)")
    if not 1 <= years <= 10:
        raise InputError(f"years must be between 1 and 10; got {years}")


def _area_counts(rng: np.random.Generator, districts: int, areas_per_district: int | None,
                 total_areas: int | None) -> np.ndarray:
    """Small areas per district: a fixed number, or ``total_areas`` shared unevenly (at least one each)."""
    if areas_per_district is not None:
        return np.full(districts, areas_per_district, dtype=np.int64)
    spare = split_largest_remainder(total_areas - districts, rng.uniform(0.5, 1.5, size=districts))
    counts = np.asarray(spare, dtype=np.int64) + 1
    if counts.max() > MAX_AREAS_PER_DISTRICT:  # extreme totals only: share evenly to keep 5-digit codes
        counts = np.asarray(split_largest_remainder(total_areas, np.ones(districts)), dtype=np.int64)
    return counts


def _ccg_groups(rng: np.random.Generator, districts: int) -> list[tuple[int, int]]:
    """Consecutive runs of districts (start, stop), each covered by one CCG: one to three districts."""
    sizes = rng.integers(1, 4, size=districts)
    groups, first = [], 0
    for size in sizes:
        if first >= districts:
            break
        groups.append((first, min(first + int(size), districts)))
        first += int(size)
    return groups


def _small_areas(rng: np.random.Generator, codes: list[str], names: list[str], counts: np.ndarray,
                 ccg_of_district: list[str]) -> pl.DataFrame:
    """All small areas, built column-wise (no Python loop over areas)."""
    n = int(counts.sum())
    district_index = np.repeat(np.arange(len(codes)), counts)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    number = np.arange(n) - np.repeat(starts, counts) + 1  # 1-based within the district
    population = rng.integers(AREA_POPULATION[0], AREA_POPULATION[1] + 1, size=n)
    young = np.rint(population * rng.uniform(*YOUNG_SHARE, size=n)).astype(np.int64)
    old = np.rint(population * rng.uniform(*OLD_SHARE, size=n)).astype(np.int64)
    rank = rng.integers(1, IMD_AREAS + 1, size=n)
    frame = pl.DataFrame({
        "district": pl.Series(codes, dtype=pl.Utf8).gather(district_index),
        "district_name": pl.Series(names, dtype=pl.Utf8).gather(district_index),
        "ccg": pl.Series(ccg_of_district, dtype=pl.Utf8).gather(district_index),
        "number": number, "population": population, "pop_0_15": young, "pop_60_plus": old, "imd_rank": rank,
    })
    digits = pl.col("number").cast(pl.Utf8).str.zfill(5)
    return frame.select(
        pl.concat_str(pl.col("district"), pl.lit("A"), digits).alias("code"),
        pl.concat_str(pl.col("district_name"), pl.lit(" area "), digits, pl.lit(" (synthetic)")).alias("name"),
        "district", "ccg",
        pl.concat_str(pl.col("district"), pl.lit("M"),
                      ((pl.col("number") - 1) // 5 + 1).cast(pl.Utf8).str.zfill(4)).alias("msoa"),
        "population", "pop_0_15",
        (pl.col("population") - pl.col("pop_0_15") - pl.col("pop_60_plus")).alias("pop_16_59"),
        "pop_60_plus", "imd_rank",
        pl.min_horizontal((pl.col("imd_rank") - 1) * 10 // IMD_AREAS + 1, pl.lit(10)).alias("imd_decile"),
        pl.lit(True).alias("synthetic"),
    ).select(SMALL_AREA_COLUMNS)


def _partners(codes: list[str], names: list[str], ccg_groups: list[tuple[int, int]]) -> list[dict]:
    partners = [{"id": "nhs-england", "name": "NHS England", "type": "national_body", "code": "",
                 "districts": "", "source": "synthetic: NHS England, party to every deal", "note": ""}]
    for code, name in zip(codes, names):
        partners.append({"id": f"la-{code.lower()}", "name": f"{name} Council", "type": "local_authority",
                         "code": code, "districts": code,
                         "source": "synthetic: the council of a synthetic district", "note": ""})
    for i, (first, stop) in enumerate(ccg_groups, start=1):
        partners.append({"id": f"ccg-s38{i:06d}", "name": f"NHS Synthetic CCG {i:03d}", "type": "commissioner",
                         "code": f"S38{i:06d}", "districts": ";".join(codes[first:stop]),
                         "source": "synthetic: a CCG covering one to three synthetic districts", "note": ""})
    providers = max(1, round(len(codes) / DISTRICTS_PER_PROVIDER))
    for i, block in enumerate(np.array_split(np.arange(len(codes)), providers), start=1):
        partners.append({"id": f"provider-s9r{i:04d}", "name": f"Synthetic NHS Trust {i:03d}",
                         "type": "nhs_provider", "code": f"S9R{i:04d}",
                         "districts": ";".join(codes[j] for j in block),
                         "source": "synthetic: an NHS provider serving about three synthetic districts",
                         "note": ""})
    return partners


def _contributions(partners: list[dict], district_pop: dict[str, int], pooled: int,
                   years: tuple[FinancialYear, ...]) -> pl.DataFrame:
    """Each year's pool split 20% / 60% / 20% (NHS England / CCGs / councils) by population; exact."""
    total = sum(district_pop.values())
    contributors, weights = [], []
    for p in partners:
        covered = sum(district_pop[c] for c in p["districts"].split(";") if c)
        share = {"national_body": 0.20 * total, "commissioner": 0.60 * covered,
                 "local_authority": 0.20 * covered}.get(p["type"])
        if share is not None:
            contributors.append(p["id"])
            weights.append(share)
    amounts = split_largest_remainder(pooled, weights)
    return pl.DataFrame({
        "partner": contributors * len(years),
        "year": [y.label for y in years for _ in contributors],
        "amount_gbp": amounts * len(years),
        "source": [CONTRIBUTION_SOURCE] * (len(contributors) * len(years)),
        "synthetic": [True] * (len(contributors) * len(years)),
    })


def _yaml(path: Path, data: dict) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def write_synthetic_pack(out: Path, *, districts: int, areas_per_district: int | None = None,
                         total_areas: int | None = None, seed: int = 0, start: date = date(2016, 4, 1),
                         years: int = 5, deal_id: str | None = None) -> Path:
    """Write a complete synthetic pack into ``out`` (created; refused if not empty) and return it.

    Give exactly one of ``areas_per_district`` (every district the same) and ``total_areas``
    (shared unevenly, at least one per district). The same arguments write the same bytes.
    """
    _check(districts, areas_per_district, total_areas, start, years)
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise InputError(f"{out} already exists and is not empty: choose another folder")
    rng = np.random.default_rng(seed)
    width = max(3, len(str(districts)))
    codes = [f"S9{i:07d}" for i in range(1, districts + 1)]
    names = [f"Synthetic District {i:0{width}d}" for i in range(1, districts + 1)]
    counts = _area_counts(rng, districts, areas_per_district, total_areas)
    groups = _ccg_groups(rng, districts)
    partners = _partners(codes, names, groups)
    ccg_ids = [p["id"] for p in partners if p["type"] == "commissioner"]
    ccg_of_district = [ccg_ids[k] for k, (first, stop) in enumerate(groups) for _ in range(first, stop)]
    small = _small_areas(rng, codes, names, counts, ccg_of_district)

    district_table = (small.group_by("district", maintain_order=True)
                      .agg(pl.col("population").sum(), pl.len().alias("small_areas"))
                      .rename({"district": "code"})
                      .with_columns(pl.Series("name", names))
                      .select("code", "name", "population", "small_areas",
                              pl.lit("synthetic: the sum of the district's synthetic small areas").alias("source")))
    district_pop = dict(zip(codes, district_table["population"].to_list()))
    population = sum(district_pop.values())
    fy = financial_years(FinancialYear.containing(start), years)
    pooled = max(1, round(population * POOLED_GBP_PER_HEAD / 1_000)) * 1_000
    fund = round(pooled * FUND_SHARE_OF_ONE_YEAR)
    fund_years = fy[:FUND_YEARS]
    deal_id = deal_id or f"synthetic-{districts}d-{int(counts.sum())}a-seed{seed}"

    out.mkdir(parents=True, exist_ok=True)
    district_table.write_csv(out / "districts.csv")
    (district_table.select(pl.col("code").alias("district"), pl.Series("ccg", ccg_of_district),
                           "small_areas", pl.lit("synthetic: each synthetic district lies in one CCG").alias("source"))
     .write_csv(out / "district_ccgs.csv"))
    pl.DataFrame(partners).select("id", "name", "type", "code", "districts", "source", "note").write_csv(
        out / "partners.csv")
    _contributions(partners, district_pop, pooled, fy).write_csv(out / "contributions.csv")
    small.write_csv(out / "small_areas.csv")
    _yaml(out / "budget.yaml", {
        "pooled_budget": {"source": f"synthetic: £{POOLED_GBP_PER_HEAD:,} a head a year (about Greater "
                                    "Manchester's £6bn for 2,752,015 residents)", "synthetic": True,
                          "years_gbp": {y.label: pooled for y in fy}},
        "transformation_fund": {"source": "synthetic: 7.5% of one year's pooled budget (as Greater Manchester's "
                                          "£450m against £6bn), spread evenly over up to five years",
                                "synthetic": True, "total_gbp": fund,
                                "years_gbp": {y.label: a for y, a in zip(
                                    fund_years, split_largest_remainder(fund, [1.0] * len(fund_years)))}},
    })
    _yaml(out / "governance.yaml", default_governance(
        f"Synthetic partnership board ({deal_id})", partners,
        "synthetic: default board rules, as written by `devolve deals new`"))
    _yaml(out / "deal.yaml", {
        "id": deal_id,
        "name": f"Synthetic deal: {districts:,} district(s), {int(counts.sum()):,} small areas (seed {seed})",
        "description": "Generated by devolve.packs.synthetic for tests and benchmarks. No real place or "
                       "cited figure: every part of it is synthetic.",
        "inherits": "national", "start": start.isoformat(), "years": years,
        "neighbourhoods": {"min_population": 30000, "max_population": 50000},
        "small_areas": {"from": "file"},
        "synthetic": ["districts, CCGs, NHS providers and councils (generated, codes S9…, S38…, S9R…)",
                      "small areas: populations, age groups and IMD ranks (generated)",
                      "pooled budget, contributions and transformation fund (per head, generated)",
                      "board rules (defaults)"],
    })
    return out


def generate_deal(*, districts: int, areas_per_district: int | None = None, total_areas: int | None = None,
                  seed: int = 0, start: date = date(2016, 4, 1), years: int = 5, deal_id: str | None = None,
                  data_dir: str | Path | None = None) -> Deal:
    """Write a synthetic pack into a temporary folder, load it and return the :class:`Deal`.

    The folder is removed afterwards (the deal is held in memory; its ``pack_path`` no longer
    exists). Without ``data_dir`` an empty folder stands in for the official data, so the deal is
    the same on every machine (the national age profile splits the broad age groups).
    """
    with tempfile.TemporaryDirectory(prefix="devolve-synthetic-") as tmp:
        pack = write_synthetic_pack(Path(tmp) / "pack", districts=districts, areas_per_district=areas_per_district,
                                    total_areas=total_areas, seed=seed, start=start, years=years, deal_id=deal_id)
        empty = Path(tmp) / "no-official-data"
        empty.mkdir()
        return load_deal(pack, data_dir=data_dir if data_dir is not None else empty)
