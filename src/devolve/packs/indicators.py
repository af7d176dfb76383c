"""Read the indicators catalogue: the national pack's indicators.yaml and rulebook (targets.yaml),
and a deal's own indicators.yaml and targets.yaml on top.

A deal's indicator with a national id replaces the national definition; a new id adds one. A deal's
target with a national rule's id replaces that rule for the deal (a local target, or an exemption
with ``exempt: true``); a new id is a local target for the indicator named by ``measure``.
Every problem is a :class:`PackError` naming the file, line, field, what was expected and found.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from devolve.domain.errors import PackError
from devolve.engines.indicators.definitions import (DIRECTIONS, INDICATOR_UNITS, QUANTITIES, AgeRange, Catalogue,
                                                    Indicator, IndicatorError, Measure, Rule, StandardPopulation)
from devolve.packs import fields as f
from devolve.packs import sections
from devolve.packs.files import YamlDoc, read_yaml
from devolve.packs.loader import BUILTIN_DIR, NATIONAL

RULE_KINDS = ("target", "directive")
SCALES = ("per_head_of_england",)
MEASURE_KEYS = ("activity", "population", "quantity")


def _fail(doc: YamlDoc, key: str):
    return lambda expected, found: doc.fail(key, expected, found)


def _measure(doc: YamlDoc, at: str, node, service_lines: Iterable[str] | None) -> Measure:
    node = f.mapping(node, _fail(doc, at))
    given = [k for k in MEASURE_KEYS if k in node]
    if len(given) != 1:
        raise doc.fail(at, "exactly one of activity, population or quantity",
                       ", ".join(given) if given else "none of them")
    extra = set(node) - {*MEASURE_KEYS, "min_age", "max_age"}
    if extra:
        raise doc.fail(f"{at}.{sorted(extra)[0]}", "only activity/population/quantity, min_age and max_age",
                       f.show(sorted(extra)[0]))
    kind = given[0]
    if kind == "population":
        if f.boolean(node["population"], _fail(doc, f"{at}.population")) is not True:
            raise doc.fail(f"{at}.population", "true", f.show(node["population"]))
        name = "population"
    elif kind == "quantity":
        name = f.choice(node["quantity"], QUANTITIES, _fail(doc, f"{at}.quantity"))
    else:
        lines = tuple(service_lines) if service_lines is not None else None
        name = (f.choice(node["activity"], lines, _fail(doc, f"{at}.activity")) if lines
                else f.identifier(node["activity"], _fail(doc, f"{at}.activity")))
    low = f.integer(node.get("min_age", 0), _fail(doc, f"{at}.min_age"), minimum=0, maximum=120)
    high = node.get("max_age")
    if high is not None:
        high = f.integer(high, _fail(doc, f"{at}.max_age"), minimum=low, maximum=120)
    return Measure(kind, name, AgeRange(low, high))


def _indicator(doc: YamlDoc, at: str, node, service_lines) -> Indicator:
    node = f.mapping(node, _fail(doc, at))
    fail = lambda key: _fail(doc, f"{at}.{key}")  # noqa: E731
    known = {"id", "name", "definition", "numerator", "denominator", "per", "standardisation", "direction",
             "unit", "source"}
    extra = set(node) - known
    if extra:
        raise doc.fail(f"{at}.{sorted(extra)[0]}", f"one of {', '.join(sorted(known))}", f.show(sorted(extra)[0]))
    standardisation = f.mapping(node.get("standardisation", {"method": "none"}), fail("standardisation"))
    method = f.choice(standardisation.get("method"), ("none", "direct"), fail("standardisation.method"))
    standard = None
    if method == "direct":
        standard = f.identifier(standardisation.get("standard"), fail("standardisation.standard"))
    try:
        return Indicator(
            id=f.identifier(node.get("id"), fail("id")),
            name=f.text(node.get("name"), fail("name")),
            definition=f.text(node.get("definition"), fail("definition")),
            numerator=_measure(doc, f"{at}.numerator", node.get("numerator"), service_lines),
            denominator=_measure(doc, f"{at}.denominator", node.get("denominator"), service_lines),
            per=f.number(node.get("per"), fail("per"), minimum=1e-12),
            standardisation=method,
            standard=standard,
            direction=f.choice(node.get("direction"), DIRECTIONS, fail("direction")),
            unit=f.choice(node.get("unit"), tuple(INDICATOR_UNITS), fail("unit")),
            source=f.text(node.get("source"), fail("source")),
        )
    except IndicatorError as exc:
        raise doc.fail(at, "a consistent indicator definition", str(exc)) from None


def _standard(doc: YamlDoc, at: str, key: str, node) -> StandardPopulation:
    node = f.mapping(node, _fail(doc, at))
    groups = []
    items = f.sequence(node.get("groups"), _fail(doc, f"{at}.groups"))
    if not items:
        raise doc.fail(f"{at}.groups", "at least one age group with a weight", "none")
    next_low = 0
    for i, item in enumerate(items):
        gat = f"{at}.groups.{i}"
        item = f.mapping(item, _fail(doc, gat))
        low = f.integer(item.get("low"), _fail(doc, f"{gat}.low"), minimum=0, maximum=120)
        if low != next_low:
            raise doc.fail(f"{gat}.low", f"groups in age order without gaps or overlaps (next age {next_low})",
                           str(low))
        high = item.get("high")
        if high is not None:
            high = f.integer(high, _fail(doc, f"{gat}.high"), minimum=low, maximum=120)
        elif i != len(items) - 1:
            raise doc.fail(f"{gat}.high", "an upper age (only the last group may be open)", "nothing")
        weight = f.number(item.get("weight"), _fail(doc, f"{gat}.weight"), minimum=0)
        groups.append((AgeRange(low, high), weight))
        next_low = (high or 0) + 1
    if groups[-1][0].high is not None:
        raise doc.fail(f"{at}.groups.{len(items) - 1}.high", "an open last group (high: null) covering all older ages",
                       str(groups[-1][0].high))
    return StandardPopulation(key, f.text(node.get("name"), _fail(doc, f"{at}.name")),
                              f.text(node.get("source"), _fail(doc, f"{at}.source")), tuple(groups))


def read_indicator_file(pack: Path, *, required: bool, service_lines: Iterable[str] | None = None
                        ) -> tuple[list[Indicator], dict[str, StandardPopulation], dict[str, str]]:
    """The indicators, standard populations and sources of ``pack/indicators.yaml``."""
    doc = read_yaml(pack, "indicators.yaml", required=required)
    if doc is None:
        return [], {}, {}
    data = f.mapping(doc.data, _fail(doc, "(document)"))
    extra = set(data) - {"indicators", "standard_populations", "sources"}
    if extra:
        raise doc.fail(sorted(extra)[0], "indicators, standard_populations or sources", f.show(sorted(extra)[0]))
    given = f.mapping(data.get("standard_populations", {}), _fail(doc, "standard_populations"))
    standards = {str(k): _standard(doc, f"standard_populations.{k}", str(k), v) for k, v in given.items()}
    lines = None if service_lines is None else list(service_lines)
    indicators: list[Indicator] = []
    for i, node in enumerate(f.sequence(data.get("indicators", []), _fail(doc, "indicators"))):
        indicator = _indicator(doc, f"indicators.{i}", node, lines)
        if any(x.id == indicator.id for x in indicators):
            raise doc.fail(f"indicators.{i}.id", "each indicator id once", f"'{indicator.id}' again")
        indicators.append(indicator)
    sources = {str(k): f.text(v, _fail(doc, f"sources.{k}"))
               for k, v in f.mapping(data.get("sources", {}), _fail(doc, "sources")).items()}
    return indicators, standards, sources


def read_rules(pack: Path, scope: str, national: dict[str, Rule] | None = None,
               measures: Iterable[str] | None = None) -> list[Rule]:
    """Rules of ``pack/targets.yaml``: the loader's validated targets plus the keys only the
    indicators engine reads (measure, kind, end, scale). ``national``: the national rules by id, whose
    measure and kind a deal's same-id rule inherits. ``measures``: the measures a rule may name."""
    known = None if measures is None else sorted(set(measures))
    targets = sections.read_targets(pack, scope)
    doc = read_yaml(pack, "targets.yaml", required=False)
    if doc is None:
        return []
    items = f.sequence(f.mapping(doc.data, _fail(doc, "(document)")).get("targets", []), _fail(doc, "targets"))
    rules = []
    origin = f"{'national rulebook' if scope == 'national' else 'the deal'}'s targets.yaml"
    for i, item in enumerate(items):
        at = f"targets.{i}"
        target = targets[item["id"]]
        inherited = (national or {}).get(target.id)
        measure = item.get("measure", inherited.measure if inherited else None)
        if measure is not None:
            measure = (f.choice(measure, known, _fail(doc, f"{at}.measure")) if known
                       else f.identifier(measure, _fail(doc, f"{at}.measure")))
        elif scope == "national":
            raise doc.fail(f"{at}.measure", "the indicator or quantity the rule is about", "nothing")
        kind = f.choice(item.get("kind", inherited.kind if inherited else "target"), RULE_KINDS,
                        _fail(doc, f"{at}.kind"))
        end = item.get("end", inherited.end if inherited and "start" not in item else None)
        if end is not None:
            end = f.iso_date(end, _fail(doc, f"{at}.end")) if not hasattr(end, "year") else end
            if target.start is not None and end <= target.start:
                raise doc.fail(f"{at}.end", f"a date after the start {target.start.isoformat()}", end.isoformat())
        scale = item.get("scale", inherited.scale if inherited else None)
        if scale is not None:
            scale = f.choice(scale, SCALES, _fail(doc, f"{at}.scale"))
        start = target.start if target.start is not None or inherited is None else inherited.start
        rules.append(Rule(target.id, measure, kind, target.indicator, target.value, target.unit, target.direction,
                          target.scope, target.source, target.exempt, start, end, scale, origin))
    return rules


def read_catalogue(deal_pack: Path | None = None, *, national_pack: Path = BUILTIN_DIR / NATIONAL,
                   service_lines: Iterable[str] | None = None) -> Catalogue:
    """The national catalogue with a deal pack's indicators.yaml and targets.yaml on top."""
    lines = None if service_lines is None else list(service_lines)
    indicators, standards, sources = read_indicator_file(national_pack, required=True, service_lines=lines)
    national_rules = read_rules(national_pack, "national")
    local_rules: list[Rule] = []
    if deal_pack is not None:
        try:
            own, own_standards, own_sources = read_indicator_file(deal_pack, required=False, service_lines=lines)
            replaced_ids = {i.id for i in own}
            measures = ({i.id for i in indicators} | replaced_ids | {r.measure for r in national_rules if r.measure})
            local_rules = read_rules(deal_pack, "local", {r.id: r for r in national_rules}, measures)
        except PackError as exc:
            raise PackError(exc.problem, deal_pack) from None
        replaced = {i.id: i for i in own}
        indicators = [replaced.pop(i.id, i) for i in indicators] + list(replaced.values())
        standards = {**standards, **own_standards}
        sources = {**sources, **own_sources}
    try:
        return Catalogue(tuple(indicators), standards, tuple(national_rules), tuple(local_rules), sources)
    except IndicatorError as exc:
        where = "indicators.yaml" + (f" of {deal_pack}" if deal_pack else "")
        raise IndicatorError(f"{where}: {exc}") from None
