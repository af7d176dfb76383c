"""Read a deal's portfolio rules (``optimise.yaml`` in the pack) or a user's candidates file.

Both files share one format (every key optional)::

    scenario: plan                      # the forecast scenario the schemes are judged under
    target_probability_of_balance: 0.8  # for the min-fund objective
    source: "synthetic: ..."            # where the rules come from
    synthetic: true
    candidates:                         # per scheme: how it may be chosen
      - {scheme: reablement, scalable: true, min_scale: 0.5, max_scale: 2.0}
      - {scheme: falls, required: true, districts: [E08000001]}
    dependencies: [{scheme: neighbourhood-teams, needs: digital}]
    exclusions: [{schemes: [a, b]}]
    fairness_floors:
      - {partner: gm-vcse, min_share: 0.05}      # or {district: E08000003, min_share: 0.02}
    yearly_cash_limits_gbp: {2016/17: 90000000, ...}   # default: the deal's transformation fund by year
    schemes: [...]                      # user file only: extra schemes, in the format of schemes.yaml

Every problem is a :class:`PackError` naming the file, line, field, what was expected and found.
Schemes not listed under ``candidates`` are all-or-nothing, not required, attributed to their
accountable partner and to every district in proportion to its population.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devolve.domain.errors import PackError, Problem
from devolve.domain.periods import FinancialYear
from devolve.domain.records import Deal, Scheme, SchemeEffect
from devolve.packs import fields as f
from devolve.packs.files import YamlDoc, read_yaml

OPTIMISE_FILE = "optimise.yaml"
TOP_KEYS = ("scenario", "target_probability_of_balance", "source", "synthetic", "candidates", "dependencies",
            "exclusions", "fairness_floors", "yearly_cash_limits_gbp", "schemes")
CANDIDATE_KEYS = ("scheme", "scalable", "min_scale", "max_scale", "required", "districts")


@dataclass(frozen=True)
class CandidateRule:
    scheme: str
    scalable: bool = False
    min_scale: float = 1.0
    max_scale: float = 1.0
    required: bool = False
    districts: tuple[str, ...] = ()     # empty: the whole deal


@dataclass(frozen=True)
class PortfolioRules:
    """What a pack (or a user file) says about choosing the portfolio."""

    file: str | None = None
    scenario: str | None = None
    target_probability: float | None = None
    source: str = ""
    synthetic: bool = True
    candidates: Mapping[str, CandidateRule] = field(default_factory=dict)
    dependencies: tuple[tuple[str, str], ...] = ()
    exclusions: tuple[tuple[str, str], ...] = ()
    floors: tuple[tuple[str, str, float], ...] = ()      # (kind: partner|district, id, min_share)
    cash_limits: Mapping[FinancialYear, int] | None = None  # pence
    extra_schemes: tuple[Scheme, ...] = ()

    def combined(self, other: PortfolioRules) -> PortfolioRules:
        """These rules with ``other``'s (a user file) on top: its candidates and schemes added, its
        settings replacing these where it gives them."""
        return PortfolioRules(
            other.file or self.file, other.scenario or self.scenario,
            other.target_probability if other.target_probability is not None else self.target_probability,
            "; ".join(s for s in (self.source, other.source) if s), self.synthetic or other.synthetic,
            {**self.candidates, **other.candidates}, self.dependencies + other.dependencies,
            self.exclusions + other.exclusions, self.floors + other.floors,
            other.cash_limits if other.cash_limits is not None else self.cash_limits,
            self.extra_schemes + other.extra_schemes)


def read_pack_rules(deal: Deal) -> PortfolioRules:
    """The pack's ``optimise.yaml``, or no rules when the pack has none."""
    doc = read_yaml(Path(deal.pack_path), OPTIMISE_FILE, required=False)
    return PortfolioRules() if doc is None else _rules(doc, deal, allow_schemes=False)


def read_candidates_file(path: str | Path, deal: Deal) -> PortfolioRules:
    """A user's candidates file (the same format, plus extra ``schemes``)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise PackError(Problem(file.name, "(file)", "a candidates file (YAML)", f"no such file: {file}"))
    doc = read_yaml(file.parent, file.name)
    return _rules(doc, deal, allow_schemes=True)


def _rules(doc: YamlDoc, deal: Deal, *, allow_schemes: bool) -> PortfolioRules:
    data = f.mapping(doc.data, lambda e, found: doc.fail("(document)", e, found))
    for key in data:
        if key not in TOP_KEYS or (key == "schemes" and not allow_schemes):
            allowed = [k for k in TOP_KEYS if allow_schemes or k != "schemes"]
            raise doc.fail(str(key), f"one of the keys {', '.join(allowed)}", f"an unknown key '{key}'")
    years = deal.financial_years
    partners = {p.id for p in deal.partners}
    districts = {d.code for d in deal.districts}
    extra = _schemes(doc, data.get("schemes", []), deal) if allow_schemes else ()
    known = {s.id for s in deal.schemes} | {s.id for s in extra}
    clash = [s.id for s in extra if s.id in {x.id for x in deal.schemes}]
    if clash:
        raise doc.fail("schemes", "new scheme ids (not already in the deal)", f"'{clash[0]}', a scheme of the deal")
    scheme = lambda value, at: f.choice(value, known, lambda e, found: doc.fail(at, e, found))  # noqa: E731

    candidates: dict[str, CandidateRule] = {}
    for i, item in enumerate(f.sequence(data.get("candidates", []), lambda e, x: doc.fail("candidates", e, x))):
        at = f"candidates.{i}"
        item = f.mapping(item, lambda e, x: doc.fail(at, e, x))
        for key in item:
            if key not in CANDIDATE_KEYS:
                raise doc.fail(f"{at}.{key}", f"one of the keys {', '.join(CANDIDATE_KEYS)}", f"'{key}'")
        sid = scheme(item.get("scheme"), f"{at}.scheme")
        if sid in candidates:
            raise doc.fail(f"{at}.scheme", "each scheme once", f"'{sid}' again")
        fail = lambda key: (lambda e, x: doc.fail(f"{at}.{key}", e, x))  # noqa: E731
        scalable = f.boolean(item.get("scalable", False), fail("scalable"))
        low = f.number(item.get("min_scale", 1.0 if not scalable else 0.0), fail("min_scale"), minimum=0.0)
        high = f.number(item.get("max_scale", 1.0), fail("max_scale"), minimum=0.0)
        if scalable and not (high > 0 and low <= high):
            raise doc.fail(f"{at}.min_scale", "0 ≤ min_scale ≤ max_scale, max_scale above 0",
                           f"min_scale {low:g}, max_scale {high:g}")
        if not scalable and ("min_scale" in item or "max_scale" in item):
            raise doc.fail(f"{at}.scalable", "scalable: true when min_scale or max_scale is given",
                           f.show(item.get("scalable", False)))
        chosen = tuple(f.choice(d, districts, fail(f"districts.{j}"))
                       for j, d in enumerate(f.sequence(item.get("districts", []), fail("districts"))))
        candidates[sid] = CandidateRule(sid, scalable, low, high, f.boolean(item.get("required", False),
                                                                             fail("required")), chosen)
    dependencies = []
    for i, item in enumerate(f.sequence(data.get("dependencies", []), lambda e, x: doc.fail("dependencies", e, x))):
        at = f"dependencies.{i}"
        item = f.mapping(item, lambda e, x: doc.fail(at, e, x))
        a, b = scheme(item.get("scheme"), f"{at}.scheme"), scheme(item.get("needs"), f"{at}.needs")
        if a == b:
            raise doc.fail(f"{at}.needs", "another scheme", f"'{b}', the scheme itself")
        dependencies.append((a, b))
    exclusions = []
    for i, item in enumerate(f.sequence(data.get("exclusions", []), lambda e, x: doc.fail("exclusions", e, x))):
        at = f"exclusions.{i}"
        item = f.mapping(item, lambda e, x: doc.fail(at, e, x))
        pair = f.sequence(item.get("schemes"), lambda e, x: doc.fail(f"{at}.schemes", e, x))
        if len(pair) != 2:
            raise doc.fail(f"{at}.schemes", "a list of two schemes", f"{len(pair)} items")
        a, b = scheme(pair[0], f"{at}.schemes.0"), scheme(pair[1], f"{at}.schemes.1")
        if a == b:
            raise doc.fail(f"{at}.schemes", "two different schemes", f"'{a}' twice")
        exclusions.append((a, b))
    floors = []
    for i, item in enumerate(f.sequence(data.get("fairness_floors", []),
                                        lambda e, x: doc.fail("fairness_floors", e, x))):
        at = f"fairness_floors.{i}"
        item = f.mapping(item, lambda e, x: doc.fail(at, e, x))
        kinds = [k for k in ("partner", "district") if k in item]
        if len(kinds) != 1:
            raise doc.fail(at, "exactly one of 'partner' or 'district'", f"keys {', '.join(map(str, item)) or 'none'}")
        kind = kinds[0]
        target = f.choice(item[kind], partners if kind == "partner" else districts,
                          lambda e, x: doc.fail(f"{at}.{kind}", e, x))
        share = f.number(item.get("min_share"), lambda e, x: doc.fail(f"{at}.min_share", e, x),
                         minimum=0.0, maximum=1.0)
        floors.append((kind, target, share))
    limits = None
    if "yearly_cash_limits_gbp" in data:
        raw = f.mapping(data["yearly_cash_limits_gbp"], lambda e, x: doc.fail("yearly_cash_limits_gbp", e, x))
        limits = {}
        for key, amount in raw.items():
            at = f"yearly_cash_limits_gbp.{key}"
            year = f.financial_year(key, lambda e, x: doc.fail(at, e, x))
            if year not in years:
                raise doc.fail(at, f"a year of the deal ({years[0]} to {years[-1]})", f.show(key))
            limits[year] = f.money(amount, lambda e, x: doc.fail(at, e, x))
        missing = [str(y) for y in years if y not in limits]
        if missing:
            raise doc.fail("yearly_cash_limits_gbp", "an amount for every year of the deal", f"no {missing[0]}")
    target = data.get("target_probability_of_balance")
    if target is not None:
        target = f.number(target, lambda e, x: doc.fail("target_probability_of_balance", e, x),
                          minimum=0.0, maximum=1.0)
    scenario = data.get("scenario")
    if scenario is not None:
        scenario = f.text(scenario, lambda e, x: doc.fail("scenario", e, x))
    return PortfolioRules(
        doc.file, scenario, target, f.text(data.get("source", ""), lambda e, x: doc.fail("source", e, x),
                                           allow_empty=True),
        f.boolean(data.get("synthetic", True), lambda e, x: doc.fail("synthetic", e, x)), candidates,
        tuple(dependencies), tuple(exclusions), tuple(floors), limits, extra)


def _schemes(doc: YamlDoc, items, deal: Deal) -> tuple[Scheme, ...]:
    """Extra candidate schemes, in the format of ``schemes.yaml``."""
    years = deal.financial_years
    lines = {s.id for s in deal.service_lines}
    partners = {p.id for p in deal.partners}
    out: list[Scheme] = []
    for i, item in enumerate(f.sequence(items, lambda e, x: doc.fail("schemes", e, x))):
        at = f"schemes.{i}"
        fail = lambda key: (lambda e, x: doc.fail(f"{at}.{key}", e, x))  # noqa: E731
        item = f.mapping(item, lambda e, x: doc.fail(at, e, x))
        sid = f.identifier(item.get("id"), fail("id"))
        if any(s.id == sid for s in out):
            raise doc.fail(f"{at}.id", "each scheme id once", f"'{sid}' again")
        investment = {}
        for key, amount in f.mapping(item.get("investment_gbp"), fail("investment_gbp")).items():
            year = f.financial_year(key, fail(f"investment_gbp.{key}"))
            if year not in years:
                raise doc.fail(f"{at}.investment_gbp.{key}", f"a year of the deal ({years[0]} to {years[-1]})",
                               f.show(key))
            investment[year] = f.money(amount, fail(f"investment_gbp.{key}"))
        if sum(investment.values()) <= 0:
            raise doc.fail(f"{at}.investment_gbp", "a positive investment in at least one year", "none")
        effects = []
        for j, effect in enumerate(f.sequence(item.get("effects", []), fail("effects"))):
            eat = f"effects.{j}"
            effect = f.mapping(effect, fail(eat))
            efail = lambda key: fail(f"{eat}.{key}")  # noqa: E731
            low = f.number(effect.get("low"), efail("low"), minimum=-1.0, maximum=1.0)
            high = f.number(effect.get("high"), efail("high"), minimum=-1.0, maximum=1.0)
            if low > high:
                raise doc.fail(f"{at}.{eat}.low", "low no greater than high (an 80% interval)",
                               f"low {low:g} > high {high:g}")
            substitute = effect.get("substitute")
            if substitute is not None:
                substitute = f.choice(substitute, lines, efail("substitute"))
            effects.append(SchemeEffect(
                f.choice(effect.get("service_line"), lines, efail("service_line")),
                f.integer(effect.get("min_age", 0), efail("min_age"), minimum=0, maximum=120), low, high,
                f.integer(effect.get("ramp_years", 1), efail("ramp_years"), minimum=0, maximum=10),
                f.integer(effect.get("lag_years", 0), efail("lag_years"), minimum=0, maximum=10),
                substitute, f.number(effect.get("substitute_ratio", 0.0), efail("substitute_ratio"), minimum=0)))
        partner = item.get("accountable_partner")
        if partner is not None:
            partner = f.choice(partner, partners, fail("accountable_partner"))
        out.append(Scheme(sid, f.text(item.get("name"), fail("name")),
                          f.text(item.get("category", "other"), fail("category")),
                          f.integer(item.get("priority", 1), fail("priority"), minimum=1, maximum=4),
                          investment, tuple(effects), f.text(item.get("source"), fail("source")),
                          f.boolean(item.get("synthetic", True), fail("synthetic")), partner))
    return tuple(out)
