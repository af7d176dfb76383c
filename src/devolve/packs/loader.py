"""Load and validate a deal pack: one call, an immutable :class:`Deal`, or one clear error.

The pipeline is a sequence of named, timed stages (read identity → partners → money → national
rules and overrides → schemes, governance, targets → small areas → checks). Any stage may raise a
:class:`PackError`; nothing is returned half-loaded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from devolve.data import readers
from devolve.data.location import resolve_data_dir
from devolve.domain.errors import InputError, PackError, Problem
from devolve.domain.parameters import UNITS, ParameterSet
from devolve.domain.periods import FinancialYear, financial_years
from devolve.domain.records import Deal, District, Fact, Partner, PartnerType
from devolve.packs import estate as estate_register
from devolve.packs import fields as f
from devolve.packs import sections
from devolve.packs import small_areas as areas
from devolve.packs.files import YamlDoc, read_csv, read_yaml

BUILTIN_DIR = Path(__file__).parent / "builtin"
NATIONAL = "national"
PARTNER_TYPES = tuple(t.value for t in PartnerType)
MAX_DISTRICT_POPULATION = 100_000_000  # bounds that keep a typo (an extra 000…) from exhausting memory
MAX_AREAS_PER_DISTRICT = 99_999
CCG_SOURCES = ("ons-lsoa-ccg-2016", "ons-lsoa-ccg-2017", "ons-lsoa-ccg-2018", "ons-lsoa-ccg-2019",
               "ons-lsoa-ccg-2020")


def builtin_deals() -> list[str]:
    return sorted(p.name for p in BUILTIN_DIR.iterdir() if (p / "deal.yaml").is_file() and p.name != NATIONAL)


def resolve_pack(ref: str | Path) -> Path:
    """A built-in deal id or a pack folder path → the pack folder."""
    path = Path(ref).expanduser()
    if path.is_dir():
        if not (path / "deal.yaml").is_file():
            raise PackError(Problem("deal.yaml", "(file)", "a deal.yaml in the pack folder", "no such file"), path)
        return path
    if isinstance(ref, str) and (BUILTIN_DIR / ref / "deal.yaml").is_file() and ref != NATIONAL:
        return BUILTIN_DIR / ref
    raise InputError(f"'{ref}' is neither a built-in deal ({', '.join(builtin_deals())}) nor a pack folder")


@dataclass
class LoadReport:
    """What the loader did: stage timings (seconds) and where data came from."""

    pack: str
    stages: list[tuple[str, float]] = field(default_factory=list)
    data_dir: str = ""
    data_dir_reason: str = ""

    def timed(self, name: str, work: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = work()
        self.stages.append((name, time.perf_counter() - started))
        return result


@dataclass(frozen=True)
class National:
    age_bands: tuple[areas.AgeBand, ...]
    broad_shares: tuple[float, float, float]
    age_profile: pl.DataFrame
    service_lines: dict
    activity_rates: pl.DataFrame
    parameters: dict
    targets: dict
    sources: dict


def _fail(doc: YamlDoc, key: str) -> Callable[[str, str], PackError]:
    return lambda expected, found: doc.fail(key, expected, found)


def read_national(pack: Path = BUILTIN_DIR / NATIONAL) -> National:
    doc = read_yaml(pack, "national.yaml")
    bands = []
    for i, item in enumerate(f.sequence(doc.data.get("age_bands"), _fail(doc, "age_bands"))):
        item = f.mapping(item, _fail(doc, f"age_bands.{i}"))
        high = item.get("high")
        band = areas.AgeBand(f.text(item.get("label"), _fail(doc, f"age_bands.{i}.label")),
                             f.integer(item.get("low"), _fail(doc, f"age_bands.{i}.low"), minimum=0),
                             None if high is None else f.integer(high, _fail(doc, f"age_bands.{i}.high")))
        bands.append(band)
    shares_doc = f.mapping(doc.data.get("broad_group_shares"), _fail(doc, "broad_group_shares"))
    shares = tuple(f.number(shares_doc.get(k), _fail(doc, f"broad_group_shares.{k}"), minimum=0, maximum=1)
                   for k in areas.BROAD_GROUPS)
    profile_rows = read_csv(pack, "age_profile.csv", ("age_band", "sex", "broad_group", "share", "source"))
    profile = pl.DataFrame([{"age_band": r.values["age_band"], "sex": r.values["sex"],
                             "broad_group": r.values["broad_group"],
                             "share": f.number(r.values["share"], lambda e, x, r=r: r.fail("share", e, x))}
                            for r in profile_rows])
    lines = sections.read_service_lines(pack, required=True)
    labels = tuple(b.label for b in bands)
    rates = sections.read_activity_rates(pack, lines, labels, required=True)
    return National(tuple(bands), shares, profile, lines, rates, sections.read_parameters(pack),
                    sections.read_targets(pack, "national"),
                    dict(f.mapping(doc.data.get("sources", {}), _fail(doc, "sources"))))


def _read_identity(pack: Path) -> tuple[YamlDoc, dict]:
    doc = read_yaml(pack, "deal.yaml")
    data = f.mapping(doc.data, lambda e, found: doc.fail("(document)", e, found))
    fail = lambda key: _fail(doc, key)  # noqa: E731
    start = f.iso_date(data.get("start"), fail("start"))
    if (start.month, start.day) != (4, 1):
        raise doc.fail("start", "the first day of a financial year (1 April)", start.isoformat())
    band = f.mapping(data.get("neighbourhoods", {"min_population": 30000, "max_population": 50000}),
                     fail("neighbourhoods"))
    low = f.integer(band.get("min_population"), fail("neighbourhoods.min_population"), minimum=1)
    high = f.integer(band.get("max_population"), fail("neighbourhoods.max_population"), minimum=1)
    if low > high:
        raise doc.fail("neighbourhoods.min_population", "a minimum no larger than the maximum",
                       f"{low} > {high}")
    spec = f.mapping(data.get("small_areas", {}), fail("small_areas"))
    ccg_source = spec.get("ccg_lookup")
    if ccg_source is not None:
        ccg_source = f.choice(ccg_source, CCG_SOURCES, fail("small_areas.ccg_lookup"))
    mode = f.choice(spec.get("from", "official_data"), ("official_data", "file"), fail("small_areas.from"))
    facts = []
    for i, item in enumerate(f.sequence(data.get("facts", []), fail("facts"))):
        item = f.mapping(item, fail(f"facts.{i}"))
        unit = f.text(item.get("unit"), fail(f"facts.{i}.unit"))
        if unit not in UNITS:
            raise doc.fail(f"facts.{i}.unit", f"a known unit ({', '.join(sorted(UNITS))})", f.show(unit))
        value = item.get("value")
        year = item.get("year")
        facts.append(Fact(f.identifier(item.get("id"), fail(f"facts.{i}.id")),
                          f.text(item.get("text"), fail(f"facts.{i}.text")),
                          None if value is None else f.number(value, fail(f"facts.{i}.value")), unit,
                          f.text(item.get("source"), fail(f"facts.{i}.source")),
                          None if year is None else f.financial_year(year, fail(f"facts.{i}.year"))))
    identity = {
        "id": f.identifier(data.get("id"), fail("id")),
        "name": f.text(data.get("name"), fail("name")),
        "description": f.text(data.get("description"), fail("description"), allow_empty=True),
        "inherits": f.choice(data.get("inherits", NATIONAL), (NATIONAL,), fail("inherits")),
        "start": start,
        "years": f.integer(data.get("years"), fail("years"), minimum=1, maximum=10),
        "band": (low, high),
        "priorities": tuple(f.text(p, fail(f"priorities.{i}"))
                            for i, p in enumerate(f.sequence(data.get("priorities", []), fail("priorities")))),
        "facts": tuple(facts),
        "sources": {str(k): f.text(v, fail(f"sources.{k}"))
                    for k, v in f.mapping(data.get("sources", {}), fail("sources")).items()},
        "synthetic": tuple(f.text(s, fail(f"synthetic.{i}"))
                           for i, s in enumerate(f.sequence(data.get("synthetic", []), fail("synthetic")))),
        "small_areas_mode": mode,
        "ccg_source": ccg_source,
    }
    return doc, identity


def _read_districts(pack: Path) -> tuple[list[District], dict[str, int]]:
    districts, lines = [], {}
    for row in read_csv(pack, "districts.csv", ("code", "name", "population", "small_areas", "source")):
        fail = lambda field: (lambda e, found: row.fail(field, e, found))  # noqa: E731
        code = f.identifier(row.values["code"], fail("code"))
        if code in lines:
            raise row.fail("code", "each district once", f"'{code}' again")
        lines[code] = row.line
        districts.append(District(code, f.text(row.values["name"], fail("name")),
                                  f.integer(row.values["population"], fail("population"), minimum=1,
                                            maximum=MAX_DISTRICT_POPULATION),
                                  f.integer(row.values["small_areas"], fail("small_areas"), minimum=1,
                                            maximum=MAX_AREAS_PER_DISTRICT),
                                  f.text(row.values["source"], fail("source"))))
    if not districts:
        raise PackError(Problem("districts.csv", "(rows)", "at least one district", "none"))
    return districts, lines


def _read_partners(pack: Path, district_codes: set[str]) -> dict[str, dict]:
    partners: dict[str, dict] = {}
    for row in read_csv(pack, "partners.csv", ("id", "name", "type", "code", "districts", "source"), ("note",)):
        fail = lambda field: (lambda e, found: row.fail(field, e, found))  # noqa: E731
        pid = f.identifier(row.values["id"], fail("id"))
        if pid in partners:
            raise row.fail("id", "each partner id once", f"'{pid}' again")
        covered = tuple(c.strip() for c in row.values["districts"].split(";") if c.strip())
        for code in covered:
            if code not in district_codes:
                raise row.fail("districts", f"district codes of this deal ({', '.join(sorted(district_codes))})",
                               f"'{code}'")
        partners[pid] = {"id": pid, "name": f.text(row.values["name"], fail("name")),
                         "type": PartnerType(f.choice(row.values["type"], PARTNER_TYPES, fail("type"))),
                         "code": row.values["code"], "districts": covered,
                         "source": f.text(row.values["source"], fail("source")),
                         "note": row.values.get("note", ""), "contributions": {}}
    if not partners:
        raise PackError(Problem("partners.csv", "(rows)", "at least one partner", "none"))
    return partners


def _read_budget(pack: Path, years: tuple[FinancialYear, ...]) -> tuple[dict, dict]:
    doc = read_yaml(pack, "budget.yaml")
    data = f.mapping(doc.data, _fail(doc, "(document)"))
    out = []
    for key in ("pooled_budget", "transformation_fund"):
        block = f.mapping(data.get(key), _fail(doc, key))
        f.text(block.get("source"), _fail(doc, f"{key}.source"))
        amounts = {}
        for label, amount in f.mapping(block.get("years_gbp"), _fail(doc, f"{key}.years_gbp")).items():
            year = f.financial_year(label, _fail(doc, f"{key}.years_gbp.{label}"))
            if year not in years:
                raise doc.fail(f"{key}.years_gbp.{label}", f"a year of the deal ({years[0]} to {years[-1]})",
                               f.show(label))
            amounts[year] = f.money(amount, _fail(doc, f"{key}.years_gbp.{label}"))
        if key == "pooled_budget":
            missing = [y.label for y in years if y not in amounts]
            if missing:
                raise doc.fail(f"{key}.years_gbp", "an amount for every year of the deal",
                               f"no amount for {', '.join(missing)}")
        if "total_gbp" in block:
            total = f.money(block["total_gbp"], _fail(doc, f"{key}.total_gbp"))
            if sum(amounts.values()) != total:
                raise doc.fail(f"{key}.years_gbp", f"yearly amounts adding up to total_gbp £{total / 100:,.2f}",
                               f"£{sum(amounts.values()) / 100:,.2f}")
        out.append(amounts)
    return out[0], out[1]


def _read_contributions(pack: Path, partners: dict[str, dict], years, pooled: dict) -> None:
    totals: dict[FinancialYear, int] = {}
    last_line: dict[FinancialYear, int] = {}
    for row in read_csv(pack, "contributions.csv", ("partner", "year", "amount_gbp", "source"), ("synthetic",)):
        fail = lambda field: (lambda e, found: row.fail(field, e, found))  # noqa: E731
        pid = row.values["partner"]
        if pid not in partners:
            raise row.fail("partner", "a partner id from partners.csv", f"'{pid}'")
        year = f.financial_year(row.values["year"], fail("year"))
        if year not in years:
            raise row.fail("year", f"a year of the deal ({years[0]} to {years[-1]})", f"'{row.values['year']}'")
        amount = f.money(row.values["amount_gbp"], fail("amount_gbp"))
        f.text(row.values["source"], fail("source"))
        f.boolean(row.values.get("synthetic", ""), fail("synthetic"))
        if year in partners[pid]["contributions"]:
            raise row.fail("year", f"one contribution per partner per year", f"{pid} {year} again")
        partners[pid]["contributions"][year] = amount
        totals[year] = totals.get(year, 0) + amount
        last_line[year] = row.line
    for year in years:
        if totals.get(year, 0) != pooled[year]:
            raise PackError(Problem("contributions.csv", "amount_gbp",
                                    f"contributions for {year} adding up to the pooled budget "
                                    f"£{pooled[year] / 100:,.2f} (budget.yaml)",
                                    f"£{totals.get(year, 0) / 100:,.2f}", last_line.get(year)))


def _read_district_ccgs(pack: Path, districts: dict[str, District], partners: dict[str, dict]) -> dict:
    result: dict[str, list[tuple[str, int]]] = {}
    first_line: dict[str, int] = {}
    if not (pack / "district_ccgs.csv").is_file():
        for p in partners.values():
            if p["type"] == PartnerType.COMMISSIONER and p["code"].startswith("E38"):
                for code in p["districts"]:
                    result.setdefault(code, []).append((p["id"], districts[code].small_areas))
        return result
    for row in read_csv(pack, "district_ccgs.csv", ("district", "ccg", "small_areas", "source")):
        fail = lambda field: (lambda e, found: row.fail(field, e, found))  # noqa: E731
        district = f.choice(row.values["district"], districts, fail("district"))
        ccg = f.choice(row.values["ccg"], partners, fail("ccg"))
        result.setdefault(district, []).append(
            (ccg, f.integer(row.values["small_areas"], fail("small_areas"), minimum=1)))
        first_line.setdefault(district, row.line)
    for code, pairs in result.items():
        if sum(n for _, n in pairs) != districts[code].small_areas:
            raise PackError(Problem("district_ccgs.csv", "small_areas",
                                    f"CCG counts adding up to the district's {districts[code].small_areas} areas "
                                    f"(districts.csv)", f"{sum(n for _, n in pairs)} for {code}",
                                    first_line[code]))
    return result


def _file_small_areas(pack: Path, districts: dict[str, District], partners: dict) -> pl.DataFrame:
    rows = read_csv(pack, "small_areas.csv",
                    ("code", "name", "district", "population", "pop_0_15", "pop_16_59", "pop_60_plus",
                     "imd_decile"), ("ccg", "msoa", "imd_rank", "synthetic"))
    seen: dict[str, str] = {}
    last_line: dict[str, int] = {}  # each district's last row: where a wrong district total shows
    records = []  # the rows with their numbers as read (so '1,800' becomes 1800 before the frame is built)
    for row in rows:
        code, district = row.values["code"], row.values["district"]
        if code in seen:
            expected = "each small area once" if seen[code] == district else "each small area in one district"
            raise row.fail("code", expected, f"'{code}' again (already in {seen[code]})")
        seen[code] = district
        if district not in districts:
            raise row.fail("district", "a district code from districts.csv", f"'{district}'")
        last_line[district] = row.line
        ccg = row.values.get("ccg", "")
        if ccg and ccg not in partners:
            raise row.fail("ccg", "a partner id from partners.csv", f"'{ccg}'")
        pops = [f.integer(row.values[k], lambda e, x, k=k: row.fail(k, e, x), minimum=0,
                          maximum=MAX_DISTRICT_POPULATION)
                for k in ("population", *areas.BROAD_GROUPS)]
        if sum(pops[1:]) != pops[0]:
            raise row.fail("population", "the sum of pop_0_15, pop_16_59 and pop_60_plus",
                           f"{pops[0]} (the three add up to {sum(pops[1:])})")
        record = dict(row.values, **{k: str(v) for k, v in zip(("population", *areas.BROAD_GROUPS), pops)})
        record["imd_decile"] = str(f.integer(row.values["imd_decile"], lambda e, x: row.fail("imd_decile", e, x),
                                             minimum=1, maximum=10))
        if row.values.get("imd_rank", ""):
            record["imd_rank"] = str(f.integer(row.values["imd_rank"], lambda e, x: row.fail("imd_rank", e, x),
                                               minimum=1, maximum=32_844))  # ranks of the IoD2019's 32,844 LSOAs
        f.boolean(row.values.get("synthetic", ""), lambda e, x: row.fail("synthetic", e, x))
        records.append(record)
    frame = pl.DataFrame(records, schema={c: pl.Utf8 for c in records[0]}) if records else None
    if frame is None:
        raise PackError(Problem("small_areas.csv", "(rows)", "at least one small area", "none"))
    for col in ("ccg", "msoa", "imd_rank"):
        if col not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Utf8).alias(col))
    frame = frame.with_columns(
        pl.col("synthetic").str.to_lowercase().is_in(["true", "yes", "1"]) if "synthetic" in frame.columns
        else pl.lit(True).alias("synthetic"),
        pl.col("ccg").replace("", None), pl.col("msoa").replace("", None), pl.col("imd_rank").replace("", None))
    frame = frame.select(list(areas.SMALL_AREA_SCHEMA)).cast(areas.SMALL_AREA_SCHEMA)
    sums = dict(frame.group_by("district").agg(pl.col("population").sum(), pl.len()).select(
        "district", pl.struct("population", "len")).iter_rows())
    for code, d in districts.items():
        got = sums.get(code, {"population": 0, "len": 0})
        if got["population"] != d.population or got["len"] != d.small_areas:
            raise PackError(Problem("small_areas.csv", "population",
                                    f"{d.small_areas} areas with {d.population} residents in {code} (districts.csv)",
                                    f"{got['len']} areas with {got['population']} residents",
                                    last_line.get(code)))
    return frame


def load_deal(ref: str | Path, *, data_dir: str | Path | None = None) -> Deal:
    """Load, validate and return an immutable :class:`Deal` (a built-in id or a pack folder)."""
    return load_deal_with_report(ref, data_dir=data_dir)[0]


def load_deal_with_report(ref: str | Path, *, data_dir: str | Path | None = None) -> tuple[Deal, LoadReport]:
    pack = resolve_pack(ref)
    folder, reason = resolve_data_dir(data_dir)
    report = LoadReport(str(pack), data_dir=str(folder), data_dir_reason=reason)
    try:
        deal = _load(pack, folder, report)
    except PackError as exc:
        raise PackError(exc.problem, pack) from None
    return deal, report


def _load(pack: Path, data_dir: Path, report: LoadReport) -> Deal:
    national = report.timed("national rules", read_national)
    _, ident = report.timed("identity", lambda: _read_identity(pack))
    years = financial_years(FinancialYear.containing(ident["start"]), ident["years"])
    districts_list, district_lines = report.timed("districts", lambda: _read_districts(pack))
    districts = {d.code: d for d in districts_list}
    partners = report.timed("partners", lambda: _read_partners(pack, set(districts)))
    pooled, fund = report.timed("budget", lambda: _read_budget(pack, years))
    report.timed("contributions", lambda: _read_contributions(pack, partners, years, pooled))

    def rules():
        lines = {**national.service_lines, **sections.read_service_lines(pack, required=False)}
        labels = tuple(b.label for b in national.age_bands)
        rates = sections.read_activity_rates(pack, lines, labels, required=False)
        if rates is not None:
            rates = pl.concat([national.activity_rates.join(rates.select("service_line", "age_band", "sex"),
                                                            on=["service_line", "age_band", "sex"], how="anti"),
                               rates])
        else:
            rates = national.activity_rates
        override_lines: dict[str, int] = {}
        overrides = sections.read_parameters(pack, override_lines)
        unknown = sorted(set(overrides) - set(national.parameters))
        if unknown:
            raise PackError(Problem(f"parameters/{unknown[0].split('.')[0]}.yaml", unknown[0],
                                    "a parameter of the national pack to override", f"'{unknown[0]}'",
                                    override_lines.get(unknown[0])))
        return lines, rates, ParameterSet(national.parameters).merged(overrides)

    service_lines, activity_rates, parameters = report.timed("national rules and overrides", rules)
    schemes = report.timed("schemes", lambda: sections.read_schemes(pack, years, service_lines, partners))
    committed = sum(s.total_investment for s in schemes)
    if fund and committed > sum(fund.values()):
        running = 0
        for at, scheme in enumerate(schemes):  # point at the scheme with which the total passes the fund
            running += scheme.total_investment
            if running > sum(fund.values()):
                break
        raise read_yaml(pack, "schemes.yaml").fail(
            f"schemes.{at}.investment_gbp",
            f"scheme investment within the transformation fund £{sum(fund.values()) / 100:,.0f}",
            f"£{committed / 100:,.0f} in all (the total passes the fund at scheme '{scheme.id}')")
    governance = report.timed("governance", lambda: sections.read_governance(pack, partners))
    targets = report.timed("targets", lambda: {**national.targets, **sections.read_targets(pack, "local")})
    ccgs = _read_district_ccgs(pack, districts, partners)

    def attach():
        codes = list(districts)
        data: dict[str, str] = {}
        if ident["small_areas_mode"] == "file":
            frame = _file_small_areas(pack, districts, partners)
            data["small-areas"] = "synthetic" if frame["synthetic"].any() else "real"
        else:
            ccg_partner = {}
            for p in partners.values():
                if p["type"] == PartnerType.COMMISSIONER and p["code"]:
                    ccg_partner[p["code"]] = p["id"]
            real = areas.real_small_areas(data_dir, districts_list, district_lines, ident["ccg_source"], ccg_partner)
            if real is not None:
                frame, data = real
            else:
                mye_totals = None
                shares = areas.district_broad_shares(mye_totals, national.broad_shares, codes)
                frame = areas.synthetic_small_areas(ident["id"], districts_list, ccgs, shares)
                data = {"imd2019-population": "synthetic", "imd2019-domains": "synthetic"}
                if ident["ccg_source"]:
                    data[ident["ccg_source"]] = "synthetic"
        frame, need_origin = areas.attach_need_indicators(frame, data_dir, ident["id"])
        data.update({k: v for k, v in need_origin.items() if data.get(k) != "synthetic"})
        profile, profile_origin = areas.age_sex_profile(data_dir, codes, list(national.age_bands),
                                                        national.age_profile)
        data["ons-mye-2015-2016"] = profile_origin
        return frame, areas.population_by_age_sex(frame, profile), data

    small, population, data = report.timed("small areas", attach)
    estate = report.timed("estate", lambda: estate_register.read_pack_estate(pack, partners))
    partner_records = tuple(Partner(p["id"], p["name"], p["type"], p["code"], p["districts"], p["source"],
                                    p["contributions"], p["note"]) for p in partners.values())
    synthetic_items = list(ident["synthetic"])
    synthetic_parameters = sorted(path for path in parameters if parameters[path].synthetic)
    if synthetic_parameters:
        synthetic_items.append(f"{len(synthetic_parameters)} of {len(parameters)} national or deal parameters "
                               f"({', '.join(synthetic_parameters)})")
    if bool(activity_rates["synthetic"].any()):
        synthetic_items.append("activity rates by age band and sex (activity_rates.csv; "
                               "see docs/method/activity-rates.md)")
    synthetic_items += [f"source {sid}: generated (official file not in {data_dir})"
                        for sid, origin in sorted(data.items()) if origin == "synthetic"]
    if estate["synthetic"].any():
        synthetic_items.append(f"estate register ({estate_register.FILE}): {int(estate['synthetic'].sum())} "
                               "synthetic buildings")
    return Deal(
        id=ident["id"], name=ident["name"], description=ident["description"], start=ident["start"],
        years=ident["years"], partners=partner_records, districts=tuple(districts_list), small_areas=small,
        population=population, age_bands=tuple(b.label for b in national.age_bands),
        pooled_budget=pooled, transformation_fund=fund, service_lines=tuple(service_lines.values()),
        activity_rates=activity_rates, schemes=schemes, governance=governance,
        targets=tuple(targets.values()), priorities=ident["priorities"], facts=ident["facts"],
        parameters=parameters, neighbourhood_band=ident["band"], data=data,
        sources={**national.sources, **ident["sources"]}, synthetic_items=tuple(synthetic_items),
        pack_path=str(pack), estate=estate,
    )


