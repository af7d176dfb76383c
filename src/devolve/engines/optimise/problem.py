"""The portfolio problem: candidate schemes, their costs, their uncertain effects, and the rules.

Sample average approximation: the uncertain five-year effect of each scheme is represented by its
value in each of the forecast's Monte Carlo runs, all schemes read from the *same* runs (common
random numbers), so the optimiser compares portfolios on identical futures.

Per run *r* and candidate *s* at scale 1 (the investment profile as planned):

- ``net_benefit[r, s]`` — the five-year reduction in service spend it brings, less its investment;
- ``saving[r, s] = net_benefit[r, s] + Σ_t investment[s, t]`` — what it takes off the pool's
  cumulative gap, because its investment is paid from the transformation fund, not the pool;
- ``gap_without[r]`` — the pool's cumulative five-year gap (spend − income) with no scheme at all.

**Linear scaling** (an assumption, stated in docs/method/optimise.md): a scheme at scale *x*
costs *x* times its investment profile and brings *x* times its effects, for *x* in
``[min_scale, max_scale]`` (scalable schemes) or *x* ∈ {0, 1} (all-or-nothing). The forecast itself
scales a scheme's investment and effects by the same factor (``schemes.<id>.scale``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

from devolve.domain.errors import InputError
from devolve.engines.forecast.budget import BALANCE_TOLERANCE_GBP


@dataclass(frozen=True)
class Candidate:
    """One scheme the optimiser may choose. ``groups`` attributes its investment to fairness groups
    (``"partner:<id>"``, ``"district:<code>"``) as shares that, for each kind, sum to at most 1."""

    id: str
    name: str = ""
    scalable: bool = False
    min_scale: float = 1.0
    max_scale: float = 1.0
    required: bool = False
    groups: Mapping[str, float] = field(default_factory=dict)
    synthetic: bool = True
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", MappingProxyType(dict(self.groups)))
        if not self.scalable:
            object.__setattr__(self, "min_scale", 1.0)
            object.__setattr__(self, "max_scale", 1.0)
        if not (np.isfinite(self.min_scale) and np.isfinite(self.max_scale)) or self.min_scale < 0 \
                or self.max_scale <= 0 or self.min_scale > self.max_scale:
            raise InputError(f"scheme '{self.id}': scales need 0 ≤ min_scale ≤ max_scale and max_scale > 0; "
                             f"found min_scale {self.min_scale:g}, max_scale {self.max_scale:g}")


@dataclass(frozen=True)
class Floor:
    """A fairness floor: schemes attributed to ``group`` get at least ``min_share`` of the chosen
    portfolio's investment."""

    group: str
    min_share: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_share <= 1.0:
            raise InputError(f"fairness floor for {self.group}: the share must be between 0 and 1, "
                             f"not {self.min_share:g}")


@dataclass(frozen=True)
class PortfolioProblem:
    """Everything the optimiser needs, validated. Build with :meth:`from_arrays` or
    :meth:`from_forecast`; solve with :func:`devolve.engines.optimise.solve`."""

    candidates: tuple[Candidate, ...]
    years: tuple[str, ...]
    investment: np.ndarray          # [S, T] pounds at scale 1
    net_benefit: np.ndarray         # [R, S] pounds at scale 1, five years
    gap_without: np.ndarray         # [R] cumulative five-year gap with no scheme, pounds
    fund_gbp: float | None          # total fund (None: no total limit)
    cash_limits: np.ndarray | None  # [T] fund available each year (unspent money carries forward)
    dependencies: tuple[tuple[str, str], ...] = ()   # (a, b): a needs b
    exclusions: tuple[tuple[str, str], ...] = ()     # (a, b): not both
    floors: tuple[Floor, ...] = ()
    target_probability: float = 0.8                  # for the min-fund objective
    tolerance_gbp: float = BALANCE_TOLERANCE_GBP     # balance: cumulative gap ≤ tolerance
    baseline_scales: np.ndarray | None = None        # [S] the deal's own portfolio
    synthetic: bool = True

    # --- construction -------------------------------------------------------------------------------

    @classmethod
    def from_arrays(cls, net_benefit, investment, gap_without_schemes, *, candidates: Sequence[Candidate | str],
                    years: Sequence[str] | None = None, fund_gbp: float | None = None, cash_limits=None,
                    dependencies: Sequence[tuple[str, str]] = (), exclusions: Sequence[tuple[str, str]] = (),
                    floors: Sequence[Floor] = (), target_probability: float = 0.8,
                    tolerance_gbp: float = BALANCE_TOLERANCE_GBP, baseline_scales=None,
                    synthetic: bool = True) -> PortfolioProblem:
        """The problem from plain arrays: ``net_benefit[run, scheme]``, ``investment[scheme, year]``
        (pounds, at scale 1) and ``gap_without_schemes[run]``. Raises :class:`InputError` on bad input."""
        cands = tuple(c if isinstance(c, Candidate) else Candidate(str(c)) for c in candidates)
        nb = np.atleast_2d(np.asarray(net_benefit, dtype=float))
        inv = np.atleast_2d(np.asarray(investment, dtype=float))
        gap = np.asarray(gap_without_schemes, dtype=float).reshape(-1)
        S = len(cands)
        if S == 0:
            raise InputError("there are no candidate schemes to choose from")
        ids = [c.id for c in cands]
        if len(set(ids)) != S:
            twice = next(i for i in ids if ids.count(i) > 1)
            raise InputError(f"scheme '{twice}' is listed twice among the candidates")
        if nb.shape[1] != S or inv.shape[0] != S or nb.shape[0] != gap.size:
            raise InputError(f"shapes disagree: net_benefit {nb.shape} should be [runs, {S}], investment "
                             f"{inv.shape} [{S}, years], gap_without_schemes {gap.shape} [{nb.shape[0]}]")
        for name, array in (("net_benefit", nb), ("investment", inv), ("gap_without_schemes", gap)):
            if not np.isfinite(array).all():
                raise InputError(f"{name} has values that are not finite numbers (NaN or infinite)")
        year_labels = tuple(years) if years is not None else tuple(f"year {t + 1}" for t in range(inv.shape[1]))
        if len(year_labels) != inv.shape[1]:
            raise InputError(f"{len(year_labels)} years named for {inv.shape[1]} years of investment")
        negative = np.argwhere(inv < 0)
        if negative.size:
            s, t = negative[0]
            raise InputError(f"scheme '{ids[s]}': investment in {year_labels[t]} is negative (£{inv[s, t]:,.0f}); "
                             "a cost cannot be negative")
        if fund_gbp is not None and not (np.isfinite(fund_gbp) and fund_gbp >= 0):
            raise InputError(f"the fund must be a non-negative amount of pounds, not {fund_gbp}")
        limits = None
        if cash_limits is not None:
            limits = np.asarray(cash_limits, dtype=float).reshape(-1)
            if limits.size != inv.shape[1] or not np.isfinite(limits).all() or (limits < 0).any():
                raise InputError(f"yearly cash limits need one non-negative amount for each of the "
                                 f"{inv.shape[1]} years; found {limits.tolist()}")
        if not 0.0 <= target_probability <= 1.0:
            raise InputError(f"the target probability of balance must be between 0 and 1, not {target_probability}")
        known = set(ids)
        for kind, pairs in (("dependency", dependencies), ("exclusion", exclusions)):
            for a, b in pairs:
                for name in (a, b):
                    if name not in known:
                        raise InputError(f"{kind} {a} → {b}: unknown scheme '{name}' (candidates: "
                                         f"{', '.join(ids)})")
                if a == b:
                    raise InputError(f"{kind} of scheme '{a}' on itself")
        check_dependencies(ids, dependencies)
        for c in cands:
            kinds: dict[str, float] = {}
            for group, share in c.groups.items():
                kinds[group.partition(":")[0]] = kinds.get(group.partition(":")[0], 0.0) + share
            if any(v < 0 for v in c.groups.values()) or any(v > 1.0 + 1e-9 for v in kinds.values()):
                raise InputError(f"scheme '{c.id}': group shares must be non-negative and, for each kind of "
                                 "group (partner, district), sum to at most 1")
        groups = {g for c in cands for g in c.groups}
        for floor in floors:
            if floor.group not in groups:
                raise InputError(f"fairness floor for unknown group '{floor.group}' (no candidate is attributed "
                                 f"to it; groups: {', '.join(sorted(groups)) or 'none'})")
        base = None
        if baseline_scales is not None:
            base = np.asarray(baseline_scales, dtype=float).reshape(-1)
            if base.size != S or (base < 0).any():
                raise InputError("the deal's portfolio needs one non-negative scale per candidate")
        return cls(cands, year_labels, inv, nb, gap, None if fund_gbp is None else float(fund_gbp), limits,
                   tuple((str(a), str(b)) for a, b in dependencies), tuple((str(a), str(b)) for a, b in exclusions),
                   tuple(floors), float(target_probability), float(tolerance_gbp), base, bool(synthetic))

    @classmethod
    def from_forecast(cls, model, arrays, candidates: Sequence[Candidate], **rules) -> PortfolioProblem:
        """The problem from a forecast's model and Monte Carlo runs (``RunArrays``), run with every
        candidate scheme in the deal. The forecast's gap is taken apart exactly:

        ``gap = (do-nothing + levers + Σ_s scheme effects)·E + rates discount + Σ_s investment
        − budget − Σ_s fund drawn − tax``, where E is the plan-efficiency index
        (``E = service_spend / (service_spend − efficiency)``). A scheme's saving in run r is
        ``−Σ_t (scheme_cost + scheme_substitution)[r, s, t] · E[r, t]``; the gap without schemes
        removes every scheme's effect, investment and fund drawn. ``rules`` go to :meth:`from_arrays`.
        """
        ids = list(model.schemes)
        by_id = {c.id: c for c in candidates}
        unknown = [c for c in by_id if c not in ids]
        if unknown:
            raise InputError(f"candidate '{unknown[0]}' is not a scheme of the forecast (schemes: {', '.join(ids)})")
        chosen = [ids.index(c.id) for c in candidates]
        programme = arrays.service_spend - arrays.efficiency
        E = np.divide(arrays.service_spend, programme, out=np.ones_like(programme), where=programme != 0)
        effect = (arrays.scheme_cost + arrays.scheme_substitution) * E[:, None, :]      # [R, S, T]
        investment = np.array([s.investment for s in model.assumptions.schemes]).reshape(len(ids), -1)
        for k, c in zip(chosen, candidates):
            if investment[k].sum() <= 0:
                raise InputError(f"scheme '{c.id}' has no investment in this scenario (dropped, or schemes "
                                 "switched off); choose a scenario that keeps the candidate schemes")
        gap_without = (arrays.gap - effect.sum(axis=1) - investment.sum(axis=0)[None, :]
                       + model.fund_drawn.sum(axis=0)[None, :]).sum(axis=1)
        saving = -effect.sum(axis=2)[:, chosen]
        inv = investment[chosen]
        rules.setdefault("years", model.years)
        return cls.from_arrays(saving - inv.sum(axis=1)[None, :], inv, gap_without, candidates=candidates, **rules)

    # --- derived ------------------------------------------------------------------------------------

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.candidates)

    @property
    def runs(self) -> int:
        return self.gap_without.size

    @property
    def total_investment(self) -> np.ndarray:
        """[S] five-year investment at scale 1."""
        return self.investment.sum(axis=1)

    @property
    def saving(self) -> np.ndarray:
        """[R, S] what each scheme at scale 1 takes off the cumulative gap (investment is met by the fund)."""
        return self.net_benefit + self.total_investment[None, :]

    @property
    def max_scales(self) -> np.ndarray:
        return np.array([c.max_scale for c in self.candidates])

    def gaps(self, scales) -> np.ndarray:
        """[R] the pool's cumulative five-year gap in each run with the portfolio ``scales`` [S]."""
        return self.gap_without - self.saving @ np.asarray(scales, dtype=float)

    def balanced(self, scales) -> np.ndarray:
        """[R] whether each run balances with the portfolio ``scales`` [S]: its cumulative five-year gap
        is at most ``tolerance_gbp``. This is the one definition of a balanced run: the evaluation,
        the yardsticks and the optimiser's check of every answer it gives all use it."""
        return self.gaps(scales) <= self.tolerance_gbp

    def index(self, scheme: str) -> int:
        try:
            return self.ids.index(scheme)
        except ValueError:
            raise InputError(f"unknown scheme '{scheme}' (candidates: {', '.join(self.ids)})") from None

    def of_runs(self, runs) -> PortfolioProblem:
        """The same problem on some of its runs only (indices ``runs``)."""
        index = np.asarray(runs, dtype=int)
        return replace(self, net_benefit=self.net_benefit[index], gap_without=self.gap_without[index])

    def with_fund(self, fund_gbp: float | None) -> PortfolioProblem:
        """The same problem with another total fund; yearly cash limits scale in proportion."""
        limits = self.cash_limits
        if limits is not None and fund_gbp is not None:
            total = limits.sum()
            limits = limits * (fund_gbp / total) if total > 0 else np.full_like(limits, fund_gbp / limits.size)
        return replace(self, fund_gbp=fund_gbp, cash_limits=None if fund_gbp is None else limits)


def check_dependencies(ids: Sequence[str], dependencies: Sequence[tuple[str, str]]) -> None:
    needs: dict[str, list[str]] = {i: [] for i in ids}
    for a, b in dependencies:
        needs[a].append(b)
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in needs[node]:
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt]
                raise InputError(f"the dependencies form a cycle: {' needs '.join(cycle)}; a scheme cannot "
                                 "(indirectly) need itself")
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for i in ids:
        if i not in state:
            visit(i, [i])
