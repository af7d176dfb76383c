"""A deal's small areas (2011 LSOAs) and their population by age band and sex.

Real when the official files are in the data folder; otherwise seeded synthetic areas constrained
to the district totals (population and number of areas) that the pack carries as cited facts.
Each column's provenance is recorded per source in ``data``: ``real`` or ``synthetic``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from devolve.data import readers
from devolve.domain.errors import DataSourceError, PackError, Problem
from devolve.domain.money import split_largest_remainder
from devolve.domain.records import District

BROAD_GROUPS = ("pop_0_15", "pop_16_59", "pop_60_plus")
SMALL_AREA_SCHEMA = {
    "code": pl.Utf8, "name": pl.Utf8, "district": pl.Utf8, "ccg": pl.Utf8, "msoa": pl.Utf8,
    "population": pl.Int64, "pop_0_15": pl.Int64, "pop_16_59": pl.Int64, "pop_60_plus": pl.Int64,
    "imd_rank": pl.Int64, "imd_decile": pl.Int64, "synthetic": pl.Boolean,
}


@dataclass(frozen=True)
class AgeBand:
    label: str
    low: int
    high: int | None  # inclusive; None = open

    @property
    def broad_group(self) -> str:
        if self.high is not None and self.high <= 15:
            return "pop_0_15"
        if self.high is not None and self.high <= 59 and self.low >= 16:
            return "pop_16_59"
        if self.low >= 60:
            return "pop_60_plus"
        raise ValueError(self.label)


def seed_for(*parts: str) -> int:
    """A stable seed from text (the deal id), so a synthetic pack is the same on every machine."""
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "little")


def _fail_district(district: District, line: int, expected: str, found: str) -> PackError:
    return PackError(Problem("districts.csv", "small_areas" if "areas" in expected else "population",
                             expected, found, line))


def real_small_areas(data_dir: Path, districts: list[District], district_lines: dict[str, int],
                     ccg_source: str | None, ccg_partner: dict[str, str]) -> tuple[pl.DataFrame, dict[str, str]] | None:
    """Small areas from the official files, or ``None`` when the population file is missing."""
    population_path = readers.locate("imd2019-population", data_dir)
    if population_path is None:
        return None
    codes = [d.code for d in districts]
    frame = readers.read_lsoa_population(population_path).filter(pl.col("district").is_in(codes))
    data = {"imd2019-population": "real"}
    counts = dict(frame.group_by("district").agg(pl.len(), pl.col("population").sum()).select(
        "district", pl.struct("len", "population")).iter_rows())
    for d in districts:
        got = counts.get(d.code)
        line = district_lines[d.code]
        if got is None:
            raise _fail_district(d, line, f"a district with small areas in {population_path.name}",
                                 f"no small areas for {d.code}")
        if got["len"] != d.small_areas:
            raise _fail_district(d, line, f"{got['len']} small areas (as in {population_path.name})",
                                 f"{d.small_areas}")
        if got["population"] != d.population:
            raise _fail_district(d, line, f"population {got['population']} (as in {population_path.name})",
                                 f"{d.population}")
    imd_path = readers.locate("imd2019-domains", data_dir)
    if imd_path is not None:
        imd = readers.read_imd_domains(imd_path).select("code", "imd_rank", "imd_decile")
        frame = frame.join(imd, on="code", how="left")
        data["imd2019-domains"] = "real"
    else:
        frame = frame.with_columns(_synthetic_imd(frame.height, "imd", codes))
        data["imd2019-domains"] = "synthetic"
    ccg_path = readers.locate(ccg_source, data_dir) if ccg_source else None
    if ccg_path is not None:
        lookup = readers.read_ccg_lookup(ccg_path).select("code", "ccg")
        frame = frame.join(lookup, on="code", how="left").with_columns(
            pl.col("ccg").replace_strict(ccg_partner, default=None).alias("ccg"))
        data[ccg_source] = "real"
    else:
        frame = frame.with_columns(pl.lit(None, pl.Utf8).alias("ccg"))
        if ccg_source:
            data[ccg_source] = "synthetic"
    msoa_path = readers.locate("ons-lsoa-msoa-lad", data_dir)
    if msoa_path is not None:
        frame = frame.join(readers.read_msoa_lookup(msoa_path).select("code", "msoa"), on="code", how="left")
        data["ons-lsoa-msoa-lad"] = "real"
    else:
        frame = frame.with_columns(pl.lit(None, pl.Utf8).alias("msoa"))
    frame = frame.with_columns(pl.lit(False).alias("synthetic"))
    return frame.select(list(SMALL_AREA_SCHEMA)).cast(SMALL_AREA_SCHEMA).sort("code"), data


def _synthetic_imd(n: int, salt: str, codes: list[str]) -> list[pl.Series]:
    rng = np.random.default_rng(seed_for(salt, *codes))
    rank = rng.integers(1, 32845, size=n)
    decile = np.minimum(10, (rank - 1) // 3285 + 1)
    return [pl.Series("imd_rank", rank, pl.Int64), pl.Series("imd_decile", decile, pl.Int64)]


def synthetic_small_areas(deal_id: str, districts: list[District], ccgs_by_district: dict[str, list[tuple[str, int]]],
                          broad_shares: dict[str, tuple[float, float, float]]) -> pl.DataFrame:
    """Seeded synthetic small areas: per district, exactly the pack's number of areas and population.

    Area sizes vary ±25% around the district mean; broad age groups follow the district's shares.
    """
    rng = np.random.default_rng(seed_for("small-areas", deal_id))
    columns: dict[str, list] = {k: [] for k in SMALL_AREA_SCHEMA}
    for d in districts:
        n = d.small_areas
        weights = rng.uniform(0.75, 1.25, size=n)
        pops = split_largest_remainder(d.population, weights)
        shares = broad_shares[d.code]
        for i, pop in enumerate(pops):
            groups = split_largest_remainder(pop, shares) if pop > 0 else [0, 0, 0]
            columns["code"].append(f"{d.code}S{i + 1:05d}")
            columns["name"].append(f"{d.name} {i // 4 + 1:03d}{'ABCD'[i % 4]} (synthetic)")
            columns["district"].append(d.code)
            columns["population"].append(pop)
            for key, value in zip(BROAD_GROUPS, groups):
                columns[key].append(value)
        ccgs = ccgs_by_district.get(d.code, [])
        assigned: list[str | None] = []
        for ccg, count in ccgs:
            assigned += [ccg] * count
        assigned = (assigned + [ccgs[-1][0] if ccgs else None] * n)[:n]
        columns["ccg"] += assigned
        columns["msoa"] += [f"{d.code}M{i // 5 + 1:04d}" for i in range(n)]
        columns["synthetic"] += [True] * n
    frame = pl.DataFrame({k: v for k, v in columns.items() if k not in ("imd_rank", "imd_decile")})
    frame = frame.with_columns(_synthetic_imd(frame.height, "imd-" + deal_id, [d.code for d in districts]))
    return frame.select(list(SMALL_AREA_SCHEMA)).cast(SMALL_AREA_SCHEMA)


def age_sex_profile(data_dir: Path | None, district_codes: list[str], bands: list[AgeBand],
                    national_profile: pl.DataFrame) -> tuple[pl.DataFrame, str]:
    """Share of each (age band, sex) within its broad group, per district.

    From ONS mid-2015 estimates by single year of age when present (``real``); otherwise the
    national profile carried by the national pack (derived from the same estimates for England).
    """
    path = readers.locate("ons-mye-2015-2016", data_dir) if data_dir else None
    if path is not None:
        try:
            mye = readers.read_mid_year_estimates(path).filter(
                (pl.col("mid_year") == 2015) & pl.col("district").is_in(district_codes))
        except DataSourceError:
            mye = None
        if mye is not None and mye.height:
            band_expr = pl.lit(None, pl.Utf8)
            for band in reversed(bands):
                upper = band.high if band.high is not None else 1000
                band_expr = pl.when((pl.col("age") >= band.low) & (pl.col("age") <= upper)).then(
                    pl.lit(band.label)).otherwise(band_expr)
            group_of = {b.label: b.broad_group for b in bands}
            counts = (mye.with_columns(band_expr.alias("age_band"))
                      .group_by("district", "age_band", "sex").agg(pl.col("population").sum())
                      .with_columns(pl.col("age_band").replace_strict(group_of).alias("broad_group")))
            profile = counts.with_columns(
                (pl.col("population") / pl.col("population").sum().over("district", "broad_group")).alias("share"))
            found = set(profile["district"].unique())
            missing = [c for c in district_codes if c not in found]
            profile = profile.select("district", "age_band", "sex", "broad_group", "share")
            if missing:
                profile = pl.concat([profile, _national_for(missing, national_profile)])
            return profile, "real"
    return _national_for(district_codes, national_profile), "synthetic"


def _national_for(codes: list[str], national_profile: pl.DataFrame) -> pl.DataFrame:
    return (pl.DataFrame({"district": codes}).join(national_profile, how="cross")
            .select("district", "age_band", "sex", "broad_group", "share"))


def district_broad_shares(mye_totals: pl.DataFrame | None,
                 national: tuple[float, float, float], codes: list[str]) -> dict[str, tuple[float, float, float]]:
    """Broad age-group shares per district: from ONS estimates when given, else the national shares."""
    shares = {code: national for code in codes}
    if mye_totals is not None:
        for code, young, adult, old in mye_totals.iter_rows():
            total = young + adult + old
            if total > 0:
                shares[code] = (young / total, adult / total, old / total)
    return shares


def population_by_age_sex(small_areas: pl.DataFrame, profile: pl.DataFrame) -> pl.DataFrame:
    """Area × age band × sex population (modelled): broad group count × district profile share."""
    long = small_areas.select("code", "district", *BROAD_GROUPS).unpivot(
        index=["code", "district"], on=list(BROAD_GROUPS), variable_name="broad_group", value_name="group_pop")
    return (long.join(profile, on=["district", "broad_group"], how="inner")
            .select(pl.col("code").alias("area"), "district", "age_band", "sex",
                    (pl.col("group_pop") * pl.col("share")).alias("population"))
            .sort("area", "age_band", "sex"))


# --- need indicators (deprivation domains and health) -------------------------------------------

#: Columns :func:`attach_need_indicators` adds to a deal's small areas. Ranks are IoD2019 domain
#: ranks (1 = most deprived of England's 32,844 LSOAs); numerators are File 8 counts (null where
#: the publisher suppressed a small count); the four health indicators are File 8's, where a
#: higher value means more illness, morbidity or premature death.
NEED_SCHEMA = {
    "income_rank": pl.Int64, "employment_rank": pl.Int64, "health_rank": pl.Int64,
    "income_numerator": pl.Int64, "employment_numerator": pl.Int64, "older_income_numerator": pl.Int64,
    "illness_ratio": pl.Float64, "acute_morbidity": pl.Float64, "mood_anxiety": pl.Float64, "ypll": pl.Float64,
}
_FILE8_COLUMNS = {
    "income_domain_numerator": "income_numerator",
    "employment_domain_numerator": "employment_numerator",
    "income_deprivation_affecting_older_people_index_idaopi_numerator": "older_income_numerator",
    "comparative_illness_and_disability_ratio_indicator": "illness_ratio",
    "acute_morbidity_indicator": "acute_morbidity",
    "mood_and_anxiety_disorders_indicator": "mood_anxiety",
    "years_of_potential_life_lost_indicator": "ypll",
}
IOD_AREAS = 32_844
# Shape of the synthetic indicators only (never used by a model): for each, England's
# population-weighted mean and standard deviation over the 32,844 LSOAs (IoD2019 File 8 divided by
# the File 6 denominators, computed by devolve), the correlation with the area's deprivation score
# that the real files show (about that of each with the IMD rank), the lowest value allowed, and
# the denominator column of a rate (None for the health indicators, which are not rates).
_SYNTHETIC_SHAPE = {
    "income_numerator": (0.1282, 0.0936, 0.90, 0.0, "population"),
    "employment_numerator": (0.0994, 0.0669, 0.87, 0.0, "pop_16_59"),
    "older_income_numerator": (0.1681, 0.1304, 0.80, 0.0, "pop_60_plus"),
    "illness_ratio": (116.82, 50.86, 0.87, 30.0, None),
    "acute_morbidity": (118.64, 28.82, 0.74, 40.0, None),
    "mood_anxiety": (-0.0446, 0.8142, 0.40, -3.5, None),
    "ypll": (57.06, 14.16, 0.70, 15.0, None),
}
_SYNTHETIC_RANK_CORRELATION = {"income_rank": 0.95, "employment_rank": 0.93, "health_rank": 0.85}
_LOGISTIC_SCALE = 3 ** 0.5 / np.pi  # a logistic variable with this scale has a standard deviation of one


def _deprivation_score(frame: pl.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """A standardised deprivation score per area (higher = more deprived) from its IMD rank, or
    from its decile (a random rank within it) where the rank is not known."""
    rank = frame["imd_rank"].to_numpy(allow_copy=True).astype(float) if "imd_rank" in frame.columns else None
    decile = frame["imd_decile"].fill_null(5).to_numpy().astype(float)
    from_decile = (decile - 1 + rng.uniform(0.0, 1.0, size=frame.height)) * IOD_AREAS / 10
    if rank is None:
        rank = from_decile
    else:
        rank = np.where(np.isnan(rank), from_decile, rank)
    share = np.clip((rank - 0.5) / IOD_AREAS, 1e-6, 1 - 1e-6)
    return -np.log(share / (1 - share)) * _LOGISTIC_SCALE


def synthetic_need_indicators(frame: pl.DataFrame, salt: str) -> pl.DataFrame:
    """Seeded synthetic domain ranks and File 8-like indicators, correlated with each area's IMD
    rank as the real files are. The same areas and salt give the same values on every machine."""
    rng = np.random.default_rng(seed_for("need-indicators", salt))
    score = _deprivation_score(frame, rng)
    n = frame.height
    columns: dict[str, np.ndarray] = {}
    for name, rho in _SYNTHETIC_RANK_CORRELATION.items():
        domain = rho * score + np.sqrt(1 - rho ** 2) * rng.standard_normal(n)
        share = 1 / (1 + np.exp(domain / _LOGISTIC_SCALE))
        columns[name] = np.clip(np.ceil(share * IOD_AREAS), 1, IOD_AREAS).astype(np.int64)
    for name, (mean, sd, rho, floor, denominator) in _SYNTHETIC_SHAPE.items():
        z = rho * score + np.sqrt(1 - rho ** 2) * rng.standard_normal(n)
        value = np.maximum(floor, mean + sd * z)
        if denominator is None:
            columns[name] = np.round(value, 3)
        else:
            count = value * frame[denominator].fill_null(0).to_numpy()
            columns[name] = (np.round(count / 5) * 5).astype(np.int64)  # File 8 counts are multiples of 5
    return pl.DataFrame({"code": frame["code"], **columns}).cast({"code": pl.Utf8, **NEED_SCHEMA})


def attach_need_indicators(frame: pl.DataFrame, data_dir: Path | None,
                           salt: str) -> tuple[pl.DataFrame, dict[str, str]]:
    """The small areas with the :data:`NEED_SCHEMA` columns, and where each source came from.

    Real when the official files are present and hold every area (real 2011 LSOA codes); otherwise
    seeded synthetic values (labelled ``synthetic``), so a deal always carries its need indicators.
    """
    origin: dict[str, str] = {}
    synthetic = None
    domains_path = readers.locate("imd2019-domains", data_dir) if data_dir else None
    indicators_path = readers.locate("imd2019-indicators", data_dir) if data_dir else None
    ranks = None
    if domains_path is not None:
        ranks = readers.read_imd_domains(domains_path).select("code", *_SYNTHETIC_RANK_CORRELATION)
        ranks = frame.select("code").join(ranks, on="code", how="left", maintain_order="left")
        if ranks.null_count().sum_horizontal().item() or ranks.height != frame.height:
            ranks = None
    if ranks is None:
        synthetic = synthetic_need_indicators(frame, salt)
        ranks = synthetic.select("code", *_SYNTHETIC_RANK_CORRELATION)
    else:
        origin["imd2019-domains"] = "real"
    values = None
    if indicators_path is not None:
        file8 = readers.read_indicators(indicators_path)
        missing = [c for c in _FILE8_COLUMNS if c not in file8.columns]
        if missing:
            raise DataSourceError(f"{indicators_path.name} has no column {missing[0]} (IoD2019 File 8)")
        file8 = file8.select("code", *[pl.col(src).alias(dst) for src, dst in _FILE8_COLUMNS.items()])
        found = frame.select("code").join(file8, on="code", how="semi").height
        if found == frame.height:
            values = frame.select("code").join(file8, on="code", how="left", maintain_order="left")
            origin["imd2019-indicators"] = "real"
    if values is None:
        synthetic = synthetic if synthetic is not None else synthetic_need_indicators(frame, salt)
        values = synthetic.select("code", *_FILE8_COLUMNS.values())
        origin["imd2019-indicators"] = "synthetic"
    need = ranks.join(values, on="code", how="left", maintain_order="left").cast(NEED_SCHEMA)
    return frame.join(need, on="code", how="left", maintain_order="left"), origin
