"""Which target or directive applies to a deal, on a date, and why; and how a value rates against it.

The national rulebook holds dated rules. A deal's own rules (its targets.yaml, or a board decision)
either replace a national rule (same id: a local target, or ``exempt`` — the national rule does not
apply) or add a local target for an indicator that has none. For each measure the decision names the
rule that applies, whether it is national, local or an exemption, and says why in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from devolve.engines.indicators.definitions import IndicatorError, Rule, convert

RAG = ("green", "amber", "red")


@dataclass(frozen=True)
class Decision:
    measure: str
    source: str                 # national | local | exempt
    rule: Rule | None           # the rule that applies (None: no target in force, or exempt)
    national: Rule | None       # the national rule in force that date (applied, replaced or exempted)
    reason: str

    def to_json(self) -> dict:
        rule = self.rule
        return {"measure": self.measure, "target_source": self.source,
                "rule": rule.id if rule else None, "value": rule.value if rule else None,
                "unit": rule.unit if rule else None, "direction": rule.direction if rule else None,
                "national_rule": self.national.id if self.national else None,
                "national_value": self.national.value if self.national else None,
                "reason": self.reason}


def _latest(rules: Sequence[Rule]) -> Rule | None:
    if not rules:
        return None
    return max(rules, key=lambda r: (r.start or date.min))


def _cite(rule: Rule, sources: dict[str, str] | None) -> str:
    return (sources or {}).get(rule.source, rule.source)


def decide(measure: str, when: date, national_rules: Sequence[Rule], local_rules: Sequence[Rule],
           sources: dict[str, str] | None = None) -> Decision:
    """The rule for ``measure`` on ``when``: a local exemption, else a local target, else the national rule."""
    national = _latest([r for r in national_rules if r.measure == measure and r.in_force(when)])
    local = [r for r in local_rules if r.measure == measure and r.in_force(when)]
    exemption = _latest([r for r in local if r.exempt])
    if exemption is not None:
        what = (f"the national rule '{national.id}' ({national.text}, {national.value:g} {national.unit})"
                if national else "national rules on this measure")
        return Decision(measure, "exempt", None, national,
                        f"exempt from {what} by the deal's rule '{exemption.id}' ({exemption.origin or 'local'}; "
                        f"source: {_cite(exemption, sources)})")
    target = _latest([r for r in local if not r.exempt])
    if target is not None:
        if national is not None:
            reason = (f"local target '{target.id}' ({target.value:g} {target.unit}, {target.origin or 'local'}) "
                      f"replaces the national '{national.id}' ({national.value:g} {national.unit}); "
                      f"source: {_cite(target, sources)}")
        else:
            reason = (f"local target '{target.id}' ({target.value:g} {target.unit}, {target.origin or 'local'}); "
                      f"no national target on {when.isoformat()}; source: {_cite(target, sources)}")
        return Decision(measure, "local", target, national, reason)
    if national is not None:
        return Decision(measure, "national", national, national,
                        f"national rule '{national.id}': {national.text} ({national.period()}; "
                        f"source: {_cite(national, sources)})")
    others = [r for r in national_rules if r.measure == measure]
    if others:
        periods = "; ".join(f"'{r.id}' {r.period()}" for r in sorted(others, key=lambda r: r.start or date.min))
        reason = f"no national rule in force on {when.isoformat()} (the rulebook has {periods})"
    else:
        reason = "the national rulebook sets no target for this indicator"
    return Decision(measure, "national", None, None, reason)


def rate(value: float, unit: str, rule: Rule, direction: str, tolerance: float) -> tuple[str, str]:
    """(status, words): green when the value meets the target, amber when it misses by no more than
    ``tolerance`` of the target, red otherwise."""
    if rule.direction != direction:
        raise IndicatorError(f"rule '{rule.id}' says {rule.direction.replace('_', ' ')} but its indicator says "
                             f"{direction.replace('_', ' ')}")
    if not 0 <= tolerance < 1:
        raise IndicatorError(f"the amber tolerance must be a share between 0 and 1, not {tolerance:g}")
    target = convert(rule.value, rule.unit, unit)
    if direction == "higher_is_better":
        if value >= target:
            return "green", "meets the target"
        if value >= target - abs(target) * tolerance:
            return "amber", f"misses the target by no more than {tolerance:.0%}"
        return "red", "misses the target"
    if value <= target:
        return "green", "meets the target"
    if value <= target + abs(target) * tolerance:
        return "amber", f"misses the target by no more than {tolerance:.0%}"
    return "red", "misses the target"


@dataclass(frozen=True)
class DirectiveCheck:
    year: str
    decision: Decision
    required_gbp: float | None
    actual_gbp: float
    status: str                 # met | not met | exempt | no rule in force

    def to_json(self) -> dict:
        return {"year": self.year, **self.decision.to_json(), "required_gbp": self.required_gbp,
                "actual_gbp": self.actual_gbp, "status": self.status}


def check_directive(decision: Decision, year: str, actual_gbp: float, population: float,
                    england_population: float) -> DirectiveCheck:
    """A money directive (e.g. the Better Care Fund minimum) against what the deal pools in a year.

    A rule with ``scale: per_head_of_england`` holds an England total; the deal's share is that total
    × its residents / England's residents (an estimate: real allocations followed CCG formulae).
    """
    if decision.source == "exempt":
        return DirectiveCheck(year, decision, None, actual_gbp, "exempt")
    rule = decision.rule
    if rule is None:
        return DirectiveCheck(year, decision, None, actual_gbp, "no rule in force")
    if rule.unit != "GBP":
        raise IndicatorError(f"directive '{rule.id}' must be in GBP to compare with the pooled budget, not {rule.unit}")
    required = rule.value
    if rule.scale == "per_head_of_england":
        if england_population <= 0:
            raise IndicatorError("England's population must be positive to share a national total per head")
        required = rule.value * population / england_population
    elif rule.scale is not None:
        raise IndicatorError(f"directive '{rule.id}': unknown scale '{rule.scale}'")
    met = actual_gbp >= required if rule.direction == "higher_is_better" else actual_gbp <= required
    return DirectiveCheck(year, decision, required, actual_gbp, "met" if met else "not met")
