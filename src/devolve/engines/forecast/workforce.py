"""Workforce by competency, not job title: FTE needed, FTE available, and who could cover a gap.

Parameters (``workforce.*``, national defaults in ``packs/builtin/national/parameters/workforce.yaml``):

- ``hours.<line>.<competency>`` — staff hours of a competency per unit of a service line's activity;
- ``hours_per_fte`` — productive hours of one full-time equivalent a year;
- ``roles.<role>.competencies`` — the competencies a role covers, ``;``-separated, its main one first;
- ``roles.<role>.fte_per_100k`` — the role's staff in the first year, per 100,000 residents;
- ``roles.<role>.supply_growth`` — yearly growth of the role's staff.

Demand in year *t*: ``FTE[c] = Σ_l activity[l] · hours[l, c] / hours_per_fte``. Supply: each role's
staff work first in its main competency. Where a competency is short, roles that also cover it
and have staff to spare in their main competency cover what they can, largest gap first; what is
left is the gap after cover.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from devolve.domain.errors import ParameterError
from devolve.domain.parameters import ParameterSet
from devolve.domain.periods import FinancialYear

PER_RESIDENTS = 100_000


@dataclass(frozen=True)
class WorkforcePlan:
    competencies: tuple[str, ...]
    roles: tuple[str, ...]
    hours: np.ndarray                        # [L, C] hours per unit of activity
    hours_per_fte: np.ndarray                # [T]
    role_competencies: tuple[tuple[int, ...], ...]  # per role: competency indices, main first
    fte_per_100k: np.ndarray                 # [Ro]
    supply_growth: np.ndarray                # [T, Ro]


def _number(parameters: ParameterSet, path: str, year: FinancialYear) -> float:
    value = parameters.at(path, year.start)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ParameterError(f"parameter '{path}' is {value!r} in {year}: expected a number, not negative")
    return float(value)


def read_workforce(parameters: ParameterSet, years: tuple[FinancialYear, ...],
                   lines: tuple[str, ...]) -> WorkforcePlan:
    """The workforce parameters of a deal (all lines without hours need no staff in this model)."""
    hours_paths = sorted(parameters.under("workforce.hours"))
    competencies = tuple(dict.fromkeys(p.split(".")[3] for p in hours_paths if len(p.split(".")) == 4))
    hours = np.zeros((len(lines), len(competencies)))
    for path in hours_paths:
        parts = path.split(".")
        if len(parts) != 4:
            raise ParameterError(f"parameter '{path}': expected workforce.hours.<line>.<competency>")
        if parts[2] in lines:
            hours[lines.index(parts[2]), competencies.index(parts[3])] = _number(parameters, path, years[0])
    role_paths = parameters.under("workforce.roles")
    roles = tuple(sorted({p.split(".")[2] for p in role_paths}))
    covers, per_100k, growth = [], [], []
    for role in roles:
        stem = f"workforce.roles.{role}"
        text = str(parameters.at(f"{stem}.competencies", years[0].start))
        named = [c.strip() for c in text.split(";") if c.strip()]
        unknown = [c for c in named if c not in competencies]
        if not named or unknown:
            raise ParameterError(f"parameter '{stem}.competencies' names {unknown or 'nothing'}: expected competencies "
                                 f"among {', '.join(competencies)}")
        covers.append(tuple(competencies.index(c) for c in named))
        per_100k.append(_number(parameters, f"{stem}.fte_per_100k", years[0]))
        growth.append([float(parameters.at(f"{stem}.supply_growth", y.start)) for y in years])
    return WorkforcePlan(competencies, roles, hours,
                         np.array([_number(parameters, "workforce.hours_per_fte", y) for y in years]),
                         tuple(covers), np.array(per_100k), np.array(growth).T.reshape(len(years), len(roles)))


def demand_fte(plan: WorkforcePlan, activity: np.ndarray) -> np.ndarray:
    """[R, T, C] FTE needed, from activity [R, T, L]."""
    return np.einsum("rtl,lc->rtc", activity, plan.hours) / plan.hours_per_fte[None, :, None]


def supply_fte(plan: WorkforcePlan, residents_first_year: float) -> np.ndarray:
    """[T, Ro] staff by role and year."""
    index = np.ones_like(plan.supply_growth)
    index[1:] = np.cumprod(1.0 + plan.supply_growth[1:], axis=0)
    return plan.fte_per_100k[None, :] * residents_first_year / PER_RESIDENTS * index


def cover_gaps(plan: WorkforcePlan, demand: np.ndarray, supply: np.ndarray,
               years: tuple[str, ...]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Gaps by competency and year before and after cross-cover, and the cover itself.

    ``demand`` is [T, C] (a central or median demand), ``supply`` [T, Ro].
    """
    n_c = len(plan.competencies)
    main = np.array([covers[0] for covers in plan.role_competencies], dtype=int)
    gap_rows, cover_rows = [], []
    for t, year in enumerate(years):
        own = np.bincount(main, weights=supply[t], minlength=n_c)
        short = np.maximum(demand[t] - own, 0.0)
        spare_c = np.maximum(own - demand[t], 0.0)
        share = np.divide(supply[t], own[main], out=np.zeros_like(supply[t]), where=own[main] > 0)
        spare = spare_c[main] * share                              # each role's share of its main spare
        remaining = short.copy()
        for c in np.argsort(-short, kind="stable"):
            for r, covers in enumerate(plan.role_competencies):
                if remaining[c] <= 0:
                    break
                if c in covers[1:] and spare[r] > 0:
                    moved = min(spare[r], remaining[c])
                    spare[r] -= moved
                    remaining[c] -= moved
                    cover_rows.append({"year": year, "competency": plan.competencies[c], "role": plan.roles[r],
                                       "fte": float(moved)})
        for c, name in enumerate(plan.competencies):
            gap_rows.append({"year": year, "competency": name, "demand_fte": float(demand[t, c]),
                             "supply_fte": float(own[c]), "gap_fte": float(demand[t, c] - own[c]),
                             "gap_after_cover_fte": float(remaining[c])})
    covers = pl.DataFrame(cover_rows, schema={"year": pl.Utf8, "competency": pl.Utf8, "role": pl.Utf8,
                                              "fte": pl.Float64})
    return pl.DataFrame(gap_rows), covers
