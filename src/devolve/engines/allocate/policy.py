"""The allocation policy as it stood on a date: components, cost curves, need elasticities, the
health inequalities adjustment, cost adjustment and pace of change — all read from the deal's
dated parameters (``allocation.*``, national defaults in
``packs/builtin/national/parameters/allocation.yaml``), validated, and never invented in code.

Parameter paths:

- ``allocation.components.<c>.weight | name | cost_adjusted`` — one component per ``<c>``; the
  weights are national spending shares and must add up to one.
- ``allocation.cost_curve.<c>.<f|m>_<band>`` — relative cost per head by sex and age band; a band
  label such as ``85+`` is written ``85_plus`` and ``16-44`` is ``16_44``.
- ``allocation.need.<c>.<indicator>`` — elasticity of component ``<c>`` to one standard deviation
  of an indicator (see :data:`devolve.engines.allocate.need.INDICATORS`); not negative.
- ``allocation.indicator_reference.<indicator>.mean | sd`` — England's reference values that
  standardise each indicator.
- ``allocation.health_inequalities.weight | gradient | indicator``.
- ``allocation.cost_adjustment.<district code> | default`` — market forces factor by district.
- ``allocation.pace_of_change.min_growth | max_under_target | convergence | over_target_growth_cap``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date

import numpy as np

from devolve.domain.errors import ParameterError
from devolve.domain.parameters import ParameterSet

PREFIX = "allocation"
SEXES = ("F", "M")
WEIGHT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Component:
    """One component of the weighted capitation formula."""

    id: str
    name: str
    weight: float                 # national spending share
    cost_adjusted: bool           # multiplied by the market forces factor
    cost_curve: np.ndarray        # relative cost per head, band-major then sex (F, M)
    need: dict[str, float]        # indicator -> elasticity per standard deviation


@dataclass(frozen=True)
class PaceOfChange:
    min_growth: float             # every unit's cash changes by at least this (may be negative)
    max_under_target: float       # no unit further under target than this, as far as the pool allows
    over_target_growth_cap: float  # growth of a unit over target is capped at this (until at target)
    convergence: float = 1.0      # most of a unit's remaining gap to target closed in a year


@dataclass(frozen=True)
class AllocationPolicy:
    when: date
    components: tuple[Component, ...]
    references: dict[str, tuple[float, float]]   # indicator -> (mean, sd)
    inequalities_weight: float
    inequalities_gradient: float
    inequalities_indicator: str
    cost_adjustment: dict[str, float]             # district code -> factor
    default_cost_adjustment: float
    pace: PaceOfChange

    @property
    def weights(self) -> np.ndarray:
        return np.array([c.weight for c in self.components])


def band_key(label: str) -> str:
    """The parameter leaf for an age band label: '85+' -> '85_plus', '16-44' -> '16_44'."""
    return label.replace("+", "_plus").replace("-", "_").replace(" ", "_")


def _number(parameters: ParameterSet, path: str, when: date, *, minimum: float | None = None,
            maximum: float | None = None, above: float | None = None) -> float:
    if path not in parameters:
        raise ParameterError(f"the allocation needs the parameter '{path}', which this deal does not have")
    value = parameters.at(path, when)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"parameter '{path}' must be a number on {when.isoformat()}; found {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ParameterError(f"parameter '{path}' must be a finite number; found {value!r}")
    if minimum is not None and value < minimum:
        raise ParameterError(f"parameter '{path}' must be at least {minimum:g}; found {value:g}")
    if maximum is not None and value > maximum:
        raise ParameterError(f"parameter '{path}' must be at most {maximum:g}; found {value:g}")
    if above is not None and value <= above:
        raise ParameterError(f"parameter '{path}' must be more than {above:g}; found {value:g}")
    return value


def _children(paths: list[str], prefix: str) -> list[str]:
    """The distinct next path segments under ``prefix`` (sorted), among ``paths``."""
    stem = prefix + "."
    return sorted({path[len(stem):].split(".")[0] for path in paths if path.startswith(stem)})


def _component(parameters: ParameterSet, paths: list[str], cid: str, when: date, age_bands: tuple[str, ...],
               indicators: tuple[str, ...]) -> Component:
    base = f"{PREFIX}.components.{cid}"
    name_path = f"{base}.name"
    name = str(parameters.at(name_path, when)) if name_path in parameters else cid.replace("_", " ")
    adjusted_path = f"{base}.cost_adjusted"
    cost_adjusted = bool(parameters.at(adjusted_path, when)) if adjusted_path in parameters else False
    weight = _number(parameters, f"{base}.weight", when, minimum=0.0, maximum=1.0)
    curve = []
    for band in age_bands:
        for sex in SEXES:
            curve.append(_number(parameters, f"{PREFIX}.cost_curve.{cid}.{sex.lower()}_{band_key(band)}", when,
                                 minimum=0.0))
    if weight > 0 and not any(curve):
        raise ParameterError(f"component '{cid}' has a weight of {weight:g} but its cost curve "
                             f"({PREFIX}.cost_curve.{cid}.*) is zero for every age band and sex")
    need = {}
    for indicator in _children(paths, f"{PREFIX}.need.{cid}"):
        if indicator not in indicators:
            raise ParameterError(f"parameter '{PREFIX}.need.{cid}.{indicator}' names an unknown need indicator; "
                                 f"known: {', '.join(indicators)}")
        value = _number(parameters, f"{PREFIX}.need.{cid}.{indicator}", when, minimum=0.0)
        if value:
            need[indicator] = value
    return Component(cid, name, weight, cost_adjusted, np.array(curve), need)


def change_dates(parameters: ParameterSet) -> list[date]:
    """Every date on which some allocation parameter takes a new value, in order: the policy is the
    same on any two days with the same latest change date."""
    return sorted({when for path, parameter in parameters.parameters.items() if path.startswith(PREFIX + ".")
                   for when, _ in parameter.values})


def signature(dates: list[date], when: date) -> date | None:
    """The latest change date on or before ``when`` (None before the first)."""
    position = bisect.bisect_right(dates, when)
    return dates[position - 1] if position else None


def policy_from_parameters(parameters: ParameterSet, when: date, age_bands: tuple[str, ...],
                           indicators: tuple[str, ...]) -> AllocationPolicy:
    """The allocation policy in force on ``when``. Raises :class:`ParameterError` with the path at
    fault when a value is missing or out of range, or the component weights do not add up to one."""
    paths = [path for path in parameters.parameters if path.startswith(PREFIX + ".")]
    ids = _children(paths, f"{PREFIX}.components")
    if not ids:
        raise ParameterError(f"this deal has no allocation components ({PREFIX}.components.*)")
    components = tuple(_component(parameters, paths, cid, when, age_bands, indicators) for cid in ids)
    total = sum(c.weight for c in components)
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        shown = ", ".join(f"{c.id} {c.weight:g}" for c in components)
        raise ParameterError(f"the allocation component weights must add up to 1; they add up to {total:.6f} "
                             f"on {when.isoformat()} ({shown})")
    hi = f"{PREFIX}.health_inequalities"
    hi_indicator = str(parameters.at(f"{hi}.indicator", when)) if f"{hi}.indicator" in parameters else ""
    if hi_indicator not in indicators:
        raise ParameterError(f"parameter '{hi}.indicator' must name a need indicator ({', '.join(indicators)}); "
                             f"found {hi_indicator!r}")
    used = {k for c in components for k in c.need} | {hi_indicator}
    references = {}
    for indicator in sorted(used):
        ref = f"{PREFIX}.indicator_reference.{indicator}"
        references[indicator] = (_number(parameters, f"{ref}.mean", when),
                                 _number(parameters, f"{ref}.sd", when, above=0.0))
    adjustments = {}
    for code in _children(paths, f"{PREFIX}.cost_adjustment"):
        if code != "default":
            adjustments[code] = _number(parameters, f"{PREFIX}.cost_adjustment.{code}", when, above=0.0)
    pace = f"{PREFIX}.pace_of_change"
    min_growth = _number(parameters, f"{pace}.min_growth", when, above=-1.0)
    cap = _number(parameters, f"{pace}.over_target_growth_cap", when)
    if cap < min_growth:
        raise ParameterError(f"parameter '{pace}.over_target_growth_cap' ({cap:g}) must not be below "
                             f"'{pace}.min_growth' ({min_growth:g}): a unit over target could not get its minimum")
    return AllocationPolicy(
        when=when, components=components, references=references,
        inequalities_weight=_number(parameters, f"{hi}.weight", when, minimum=0.0, maximum=1.0),
        inequalities_gradient=_number(parameters, f"{hi}.gradient", when, minimum=0.0),
        inequalities_indicator=hi_indicator,
        cost_adjustment=adjustments,
        default_cost_adjustment=_number(parameters, f"{PREFIX}.cost_adjustment.default", when, above=0.0),
        pace=PaceOfChange(min_growth,
                          _number(parameters, f"{pace}.max_under_target", when, minimum=0.0, maximum=1.0), cap,
                          _number(parameters, f"{pace}.convergence", when, minimum=0.0, maximum=1.0)),
    )
