"""Readers for the parts of a pack beyond its identity: parameters, service lines, activity rates,
schemes, governance and targets. Each returns frozen records or raises a :class:`PackError`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from devolve.domain.errors import PackError, Problem
from devolve.domain.parameters import UNITS, Parameter
from devolve.domain.periods import FinancialYear
from devolve.domain.records import GovernanceRules, PartnerType, Scheme, SchemeEffect, ServiceLine, Target
from devolve.packs import fields as f
from devolve.packs.files import YamlDoc, read_csv, read_yaml

VOTING_RULES = ("consensus", "simple_majority", "weighted_majority", "double_majority")
RISK_SHARE_METHODS = ("none", "pro_rata", "fixed_shares", "overspend_order")
PROPOSAL_KINDS = ("fund_scheme", "virement", "change_parameter", "adopt_target", "adopt_exemption",
                  "estate_change")
SETTINGS = ("hospital", "primary_care", "community", "mental_health", "prescribing", "social_care")
DIRECTIONS = ("higher_is_better", "lower_is_better")
PARTNER_TYPES = tuple(t.value for t in PartnerType)


# --- parameters ---------------------------------------------------------------------------------

def _walk_parameters(doc: YamlDoc, node, path: str, out: dict[str, Parameter]) -> None:
    fail_here = lambda field: (lambda e, found: doc.fail(field, e, found))  # noqa: E731
    if isinstance(node, dict) and "values" in node:
        unit = f.text(node.get("unit"), fail_here(f"{path}.unit"))
        if unit not in UNITS:
            raise doc.fail(f"{path}.unit", f"a known unit ({', '.join(sorted(UNITS))})", f.show(unit))
        source = f.text(node.get("source"), fail_here(f"{path}.source"))
        description = f.text(node.get("description"), fail_here(f"{path}.description"))
        synthetic = f.boolean(node.get("synthetic", False), fail_here(f"{path}.synthetic"))
        raw_values = f.mapping(node["values"], fail_here(f"{path}.values"))
        if not raw_values:
            raise doc.fail(f"{path}.values", "at least one dated value", "none")
        values: list[tuple[date, object]] = []
        for key, value in raw_values.items():
            when = f.iso_date(key, fail_here(f"{path}.values.{key}"))
            if values and when <= values[-1][0]:
                raise doc.fail(f"{path}.values.{key}", "dates in increasing order, each once",
                               f"{when.isoformat()} after {values[-1][0].isoformat()}")
            if value is not None and not isinstance(value, (int, float, bool, str)):
                raise doc.fail(f"{path}.values.{key}", "a single value (or null to end the rule)",
                               f.show(value))
            if unit not in ("text", "bool") and value is not None:
                value = f.number(value, fail_here(f"{path}.values.{key}"))
            values.append((when, value))
        extra = set(node) - {"values", "unit", "source", "description", "synthetic", "reference"}
        if extra:
            key = sorted(extra)[0]
            raise doc.fail(f"{path}.{key}", "only description, unit, source, synthetic, values", f.show(key))
        out[path] = Parameter(path, description, unit, source, tuple(values), synthetic)
        return
    if isinstance(node, dict):
        for key, child in node.items():
            _walk_parameters(doc, child, f"{path}.{key}" if path else str(key), out)
        return
    raise doc.fail(path, "a parameter (with description, unit, source and values) or a group of them",
                   f.show(node))


def read_parameters(pack: Path, lines: dict[str, int] | None = None) -> dict[str, Parameter]:
    """All ``parameters/*.yaml`` files; a file's stem is the first part of each path.

    ``lines``, when given, receives the line of each parameter in its file (for later errors).
    """
    folder = pack / "parameters"
    out: dict[str, Parameter] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.yaml")):
        try:
            doc = read_yaml(pack, f"parameters/{path.name}")
        except PackError as exc:  # keys named as everywhere else: the file's stem first (unit_costs.x)
            p = exc.problem
            field = p.field if p.field.startswith("(") else f"{path.stem}.{p.field}"
            raise PackError(Problem(p.file, field, p.expected, p.found, p.line), exc.pack) from None
        named = YamlDoc(f"parameters/{path.name}", doc.data,
                        {f"{path.stem}.{k}" if k else path.stem: v for k, v in doc.lines.items()})
        before = set(out)
        _walk_parameters(named, doc.data, path.stem, out)
        if lines is not None:
            lines.update({key: named.line_of(key) for key in set(out) - before})
    return out


# --- service lines and activity rates ----------------------------------------------------------

def read_service_lines(pack: Path, *, required: bool) -> dict[str, ServiceLine]:
    if not (pack / "service_lines.csv").is_file() and not required:
        return {}
    lines: dict[str, ServiceLine] = {}
    for row in read_csv(pack, "service_lines.csv", ("id", "name", "setting", "activity_unit", "source")):
        fail = lambda field: (lambda e, found: row.fail(field, e, found))  # noqa: E731
        line_id = f.identifier(row.values["id"], fail("id"))
        if line_id in lines:
            raise row.fail("id", "each service line once", f"'{line_id}' again")
        lines[line_id] = ServiceLine(line_id, f.text(row.values["name"], fail("name")),
                                     f.choice(row.values["setting"], SETTINGS, fail("setting")),
                                     f.text(row.values["activity_unit"], fail("activity_unit")),
                                     f.text(row.values["source"], fail("source")))
    return lines


def read_activity_rates(pack: Path, service_lines, age_bands, *, required: bool) -> pl.DataFrame | None:
    if not (pack / "activity_rates.csv").is_file() and not required:
        return None
    records = []
    seen = set()
    for row in read_csv(pack, "activity_rates.csv",
                        ("service_line", "age_band", "sex", "rate_per_1000", "source"), ("synthetic",)):
        fail = lambda field: (lambda e, found: row.fail(field, e, found))  # noqa: E731
        line = f.choice(row.values["service_line"], service_lines, fail("service_line"))
        band = f.choice(row.values["age_band"], age_bands, fail("age_band"))
        sex = f.choice(row.values["sex"], ("F", "M"), fail("sex"))
        rate = f.number(row.values["rate_per_1000"], fail("rate_per_1000"), minimum=0)
        key = (line, band, sex)
        if key in seen:
            raise row.fail("service_line", "each service line, age band and sex once", f"{key} again")
        seen.add(key)
        records.append({"service_line": line, "age_band": band, "sex": sex, "rate_per_1000": rate,
                        "source": f.text(row.values["source"], fail("source")),
                        "synthetic": f.boolean(row.values.get("synthetic", ""), fail("synthetic"))})
    return pl.DataFrame(records, schema={"service_line": pl.Utf8, "age_band": pl.Utf8, "sex": pl.Utf8,
                                         "rate_per_1000": pl.Float64, "source": pl.Utf8,
                                         "synthetic": pl.Boolean})


# --- schemes ------------------------------------------------------------------------------------

def read_schemes(pack: Path, years: tuple[FinancialYear, ...], service_lines, partners) -> tuple[Scheme, ...]:
    doc = read_yaml(pack, "schemes.yaml", required=False)
    if doc is None:
        return ()
    data = f.mapping(doc.data, lambda e, found: doc.fail("(document)", e, found))
    items = f.sequence(data.get("schemes", []), lambda e, found: doc.fail("schemes", e, found))
    schemes: list[Scheme] = []
    for i, item in enumerate(items):
        at = f"schemes.{i}"
        fail = lambda field: (lambda e, found: doc.fail(f"{at}.{field}", e, found))  # noqa: E731
        item = f.mapping(item, lambda e, found: doc.fail(at, e, found))
        scheme_id = f.identifier(item.get("id"), fail("id"))
        if any(s.id == scheme_id for s in schemes):
            raise doc.fail(f"{at}.id", "each scheme id once", f"'{scheme_id}' again")
        investment = {}
        for key, amount in f.mapping(item.get("investment_gbp"), fail("investment_gbp")).items():
            year = f.financial_year(key, fail(f"investment_gbp.{key}"))
            if year not in years:
                raise doc.fail(f"{at}.investment_gbp.{key}",
                               f"a year of the deal ({years[0]} to {years[-1]})", f.show(key))
            investment[year] = f.money(amount, fail(f"investment_gbp.{key}"))
        effects = []
        for j, effect in enumerate(f.sequence(item.get("effects", []), fail("effects"))):
            eat = f"effects.{j}"
            effect = f.mapping(effect, fail(eat))
            efail = lambda field: fail(f"{eat}.{field}")  # noqa: E731
            low = f.number(effect.get("low"), efail("low"), minimum=-1.0, maximum=1.0)
            high = f.number(effect.get("high"), efail("high"), minimum=-1.0, maximum=1.0)
            if low > high:
                raise doc.fail(f"{at}.{eat}.low", "low no greater than high (an 80% interval)",
                               f"low {low:g} > high {high:g}")
            substitute = effect.get("substitute")
            if substitute is not None:
                substitute = f.choice(substitute, service_lines, efail("substitute"))
            effects.append(SchemeEffect(
                f.choice(effect.get("service_line"), service_lines, efail("service_line")),
                f.integer(effect.get("min_age", 0), efail("min_age"), minimum=0, maximum=120),
                low, high,
                f.integer(effect.get("ramp_years", 1), efail("ramp_years"), minimum=0, maximum=10),
                f.integer(effect.get("lag_years", 0), efail("lag_years"), minimum=0, maximum=10),
                substitute,
                f.number(effect.get("substitute_ratio", 0.0), efail("substitute_ratio"), minimum=0),
            ))
        accountable = item.get("accountable_partner")
        if accountable is not None:
            accountable = f.choice(accountable, partners, fail("accountable_partner"))
        schemes.append(Scheme(
            scheme_id, f.text(item.get("name"), fail("name")), f.text(item.get("category"), fail("category")),
            f.integer(item.get("priority", 1), fail("priority"), minimum=1, maximum=4),
            investment, tuple(effects), f.text(item.get("source"), fail("source")),
            f.boolean(item.get("synthetic", False), fail("synthetic")), accountable))
    return tuple(schemes)


# --- governance ---------------------------------------------------------------------------------

def read_governance(pack: Path, partners: dict) -> GovernanceRules:
    doc = read_yaml(pack, "governance.yaml")
    data = f.mapping(doc.data, lambda e, found: doc.fail("(document)", e, found))
    fail = lambda field: (lambda e, found: doc.fail(field, e, found))  # noqa: E731
    members = []
    for i, member in enumerate(f.sequence(data.get("members"), fail("members"))):
        member = f.choice(member, partners, fail(f"members.{i}"))
        if member in members:
            raise doc.fail(f"members.{i}", "each member once", f"'{member}' again")
        members.append(member)
    if not members:
        raise doc.fail("members", "at least one board member", "none")
    rule = f.choice(data.get("voting_rule"), VOTING_RULES, fail("voting_rule"))
    weights = {}
    for key, weight in f.mapping(data.get("weights", {}), fail("weights")).items():
        f.choice(key, members, fail(f"weights.{key}"))
        weights[key] = f.number(weight, fail(f"weights.{key}"), minimum=0)
    if rule == "weighted_majority" and not weights:
        raise doc.fail("weights", "voting weights for the weighted majority rule", "none")
    groups = []
    for i, group in enumerate(f.sequence(data.get("double_majority_groups", []), fail("double_majority_groups"))):
        groups.append(tuple(f.choice(kind, PARTNER_TYPES, fail(f"double_majority_groups.{i}.{j}"))
                            for j, kind in enumerate(f.sequence(group, fail(f"double_majority_groups.{i}")))))
    if rule == "double_majority" and len(groups) != 2:
        raise doc.fail("double_majority_groups", "two groups of partner types", f"{len(groups)} group(s)")
    reserved = tuple(f.choice(k, PROPOSAL_KINDS, fail(f"reserved_matters.{i}"))
                     for i, k in enumerate(f.sequence(data.get("reserved_matters", []), fail("reserved_matters"))))
    consent = data.get("national_consent")
    if consent is not None:
        consent = f.choice(consent, partners, fail("national_consent"))
    risk = f.mapping(data.get("risk_share"), fail("risk_share"))
    method = f.choice(risk.get("method"), RISK_SHARE_METHODS, fail("risk_share.method"))
    if method == "fixed_shares":
        shares = f.mapping(risk.get("shares"), fail("risk_share.shares"))
        total = 0.0
        for key, share in shares.items():
            f.choice(key, partners, fail(f"risk_share.shares.{key}"))
            total += f.number(share, fail(f"risk_share.shares.{key}"), minimum=0, maximum=1)
        if abs(total - 1.0) > 1e-9:
            raise doc.fail("risk_share.shares", "shares that add up to 1", f"a total of {total:g}")
    roles = {}
    for key in ("representatives", "accountable_officers"):
        roles[key] = {}
        for kind, title in f.mapping(data.get(key, {}), fail(key)).items():
            f.choice(kind, PARTNER_TYPES, fail(f"{key}.{kind}"))
            roles[key][kind] = f.text(title, fail(f"{key}.{kind}"))
    return GovernanceRules(
        board=f.text(data.get("board"), fail("board")),
        chair=f.text(data.get("chair"), fail("chair")),
        members=tuple(members),
        voting_rule=rule,
        quorum=f.number(data.get("quorum"), fail("quorum"), minimum=0, maximum=1),
        reserved_matters=reserved,
        national_consent=consent,
        delegation_limit=f.money(data.get("delegation_limit_gbp"), fail("delegation_limit_gbp")),
        host_partner=f.choice(data.get("host_partner"), partners, fail("host_partner")),
        pool_manager=f.choice(data.get("pool_manager"), partners, fail("pool_manager")),
        risk_share=dict(risk),
        carry_forward_limit=f.number(data.get("carry_forward_limit"), fail("carry_forward_limit"),
                                     minimum=0, maximum=1),
        weights=weights,
        double_majority_groups=tuple(groups),
        source=f.text(data.get("source"), fail("source")),
        representatives=roles["representatives"],
        accountable_officers=roles["accountable_officers"],
    )


# --- targets ------------------------------------------------------------------------------------

def read_targets(pack: Path, scope_default: str) -> dict[str, Target]:
    doc = read_yaml(pack, "targets.yaml", required=False)
    if doc is None:
        return {}
    targets: dict[str, Target] = {}
    data = f.mapping(doc.data, lambda e, found: doc.fail("(document)", e, found))
    for i, item in enumerate(f.sequence(data.get("targets", []), lambda e, found: doc.fail("targets", e, found))):
        at = f"targets.{i}"
        fail = lambda field: (lambda e, found: doc.fail(f"{at}.{field}", e, found))  # noqa: E731
        item = f.mapping(item, lambda e, found: doc.fail(at, e, found))
        target_id = f.identifier(item.get("id"), fail("id"))
        if target_id in targets:
            raise doc.fail(f"{at}.id", "each target id once", f"'{target_id}' again")
        unit = f.text(item.get("unit"), fail("unit"))
        if unit not in UNITS:
            raise doc.fail(f"{at}.unit", f"a known unit ({', '.join(sorted(UNITS))})", f.show(unit))
        start = item.get("start")
        targets[target_id] = Target(
            target_id, f.text(item.get("indicator"), fail("indicator")),
            f.number(item.get("value"), fail("value")), unit,
            f.choice(item.get("direction"), DIRECTIONS, fail("direction")),
            f.choice(item.get("scope", scope_default), ("national", "local"), fail("scope")),
            f.text(item.get("source"), fail("source")),
            f.boolean(item.get("exempt", False), fail("exempt")),
            f.iso_date(start, fail("start")) if start is not None else None,
        )
    return targets


def fail_at(file: str, field: str, expected: str, found: str, line: int | None = None) -> PackError:
    return PackError(Problem(file, field, expected, found, line))
