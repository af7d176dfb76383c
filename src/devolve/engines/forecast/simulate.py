"""The Monte Carlo kernel: any set of runs, vectorised over runs, years, lines and age bands.

A run's random numbers depend only on the seed and the run's index: run *i* draws from
``numpy.random.SeedSequence(seed, spawn_key=(i,))`` — the *i*-th child of
``SeedSequence(seed).spawn(n)`` — so any split of the runs into chunks, on one worker or many,
gives the same numbers. Run 0 is the central run: every draw is zero (each uncertain quantity at
the centre of its interval).

For run *r*, year *t*, line *l*, age band *b* (docs/method/forecast.md has the full statement):

    pop[r,t,b,s]   = Σ_a P[t,a,b,s] · q[r,a]^t,   q = 1 + σ_district·z_d + σ_area·z_a
    act0[r,t,l,b]  = Σ_s rate[l,b,s] · (pop + η[r,l] · pop_weighted_by_deprivation)
    act[r,t,l,b]   = act0 · G[r,t,l] · (1 + Σ_p δ_p[r,t,l,b]) + substitution
    cost[r,t]      = k[r] · Σ_{l,b} act · unit_cost[t,l] · I[r,t] · E[r,t]

with G the non-demographic growth index, I the pay-and-prices index, E the plan-efficiency
index, δ_p the effects of schemes and levers, and k the calibration that makes the first year's
do-nothing cost equal the pooled budget.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numba as nb
import numpy as np

from devolve.engines.fiscal.levers import health_tax_revenue, rates_discount
from devolve.engines.forecast.model import WEEKS_PER_YEAR, ForecastModel

Z80 = 1.2815515655446004
#: Small areas per block when contracting over areas: a block of the population (1,024 areas × 5
#: years × 16 groups × 8 bytes = 0.6 MiB) stays in a core's cache while every run of a chunk reads it.
AREA_BLOCK = 1024


@nb.njit(cache=True, nogil=True)
def contract_areas(z_district, z_area, area_district, population_by_area, deprivation, district_scale,
                   area_scale):  # pragma: no cover
    """Σ over areas of each run's population, and of its need-weighted population, year by year:
    ``out[r, t, g] = Σ_a m[r, t, a] · population_by_area[a, t, g]`` and ``out[r, t, G + g] = Σ_a
    m[r, t, a] · deprivation[a] · population_by_area[a, t, g]``, where ``m[r, 0, a] = 1`` and ``m[r, t+1, a] = m[r, t, a] ·
    q[r, a]``, ``q`` the area's growth factor ``max(0.5, 1 + district_scale·z_district[r, d(a)] +
    area_scale·z_area[r, a])``.

    One fused pass, blocked over areas so the population stays in cache across runs. Each sum runs
    over the areas in order, whatever the number of runs in the chunk or of workers: the same numbers."""
    R, A = z_area.shape
    _, T, G = population_by_area.shape
    out = np.zeros((R, T, 2 * G))
    for start in range(0, A, AREA_BLOCK):
        stop = min(start + AREA_BLOCK, A)
        for r in range(R):
            for a in range(start, stop):
                q = 1.0 + district_scale * z_district[r, area_district[a]] + area_scale * z_area[r, a]
                if q < 0.5:
                    q = 0.5
                m = 1.0
                need = deprivation[a]
                for t in range(T):
                    row = out[r, t]
                    weights = population_by_area[a, t]
                    m_need = m * need
                    for g in range(G):
                        row[g] += m * weights[g]
                    for g in range(G):
                        row[G + g] += m_need * weights[g]
                    m *= q
    return out


@dataclass(frozen=True)
class RunArrays:
    """Everything a set of runs produces; the first axis of every array is the run."""

    run: np.ndarray               # [R]
    budget: np.ndarray            # [R, T] pooled budget (with any growth)
    income: np.ndarray            # [R, T] budget + fund drawn + health tax
    spend: np.ndarray             # [R, T] service spend + investment + rates discount
    service_spend: np.ndarray     # [R, T]
    do_nothing_spend: np.ndarray  # [R, T] service spend with no schemes, levers or efficiencies
    investment: np.ndarray        # [R, T]
    fund_drawn: np.ndarray        # [R, T]
    tax_revenue: np.ndarray       # [R, T]
    rates_cost: np.ndarray        # [R, T]
    absence_days: np.ndarray      # [R, T] working days not lost to sickness
    absence_value: np.ndarray     # [R, T] pounds, outside the pool
    efficiency: np.ndarray        # [R, T] change in spend from plan efficiencies (negative)
    gap: np.ndarray               # [R, T] spend − income (positive: overspend)
    calibration: np.ndarray       # [R]
    residents: np.ndarray         # [R, T]
    working_age: np.ndarray       # [R, T]
    scheme_cost: np.ndarray       # [R, S, T] direct change in service cost (negative: saving)
    scheme_substitution: np.ndarray  # [R, S, T] cost of care moved to substitute lines
    lever_demand_cost: np.ndarray  # [R, T] change in service cost from the discount's demand effect
    activity: np.ndarray          # [R, T, L] units of activity after schemes and levers
    activity_do_nothing: np.ndarray  # [R, T, L]
    admissions_avoided: np.ndarray  # [R, T]
    bed_days_saved: np.ndarray    # [R, T]
    people_at_home: np.ndarray    # [R, T] care-home places avoided (people supported at home)
    drivers: np.ndarray           # [R, K] change in the final year's gap by driver (see driver_names)

    @staticmethod
    def concat(parts: list[RunArrays]) -> RunArrays:
        return RunArrays(**{f.name: np.concatenate([getattr(p, f.name) for p in parts], axis=0)
                            for f in fields(RunArrays)})


def driver_names(model: ForecastModel) -> tuple[str, ...]:
    """The decomposition's drivers, in the order they are attributed (the first is the start)."""
    return ("first-year gap", "demography", "need", "non-demographic growth", "inflation",
            *[f"scheme: {s}" for s in model.schemes], "plan efficiencies", "lever: health tax",
            "lever: rates discount", "budget change")


def draws(model: ForecastModel, runs: np.ndarray, seed: int) -> np.ndarray:
    """[R, K] standard normals: run 0 all zeros; run i from SeedSequence(seed, spawn_key=(i,))."""
    out = np.zeros((runs.size, model.runs_draws))
    for row, run in enumerate(runs):  # one generator per run: its numbers depend on (seed, run) only
        if run != 0:
            generator = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(run),)))
            generator.standard_normal(out=out[row])
    return out


def _index(values: np.ndarray) -> np.ndarray:
    """Year-on-year rates [..., T] → index [..., T] with the first year at 1 (rates apply from year 2)."""
    out = np.ones_like(values)
    out[..., 1:] = np.cumprod(1.0 + values[..., 1:], axis=-1)
    return out


@dataclass(frozen=True)
class CentralCells:
    """The central run by year × line × age band: activity before growth and schemes, and the
    service spend it leads to (with the cost of care moved elsewhere counted at its source)."""

    activity0: np.ndarray         # [T, L, B]
    spend: np.ndarray             # [T, L, B]
    need_elasticity: np.ndarray   # [L]


def simulate(model: ForecastModel, runs, seed: int) -> RunArrays:
    """The runs ``runs`` (indices) of the forecast from ``seed``. Pure; vectorised over runs."""
    return _kernel(model, runs, seed, cells=False)[0]


def central_cells(model: ForecastModel) -> CentralCells:
    """The central run's cells (run 0 draws nothing, so no seed is needed)."""
    return _kernel(model, [0], 0, cells=True)[1]


def _kernel(model: ForecastModel, runs, seed: int, *, cells: bool) -> tuple[RunArrays, CentralCells | None]:
    runs = np.asarray(runs, dtype=np.int64)
    a = model.assumptions
    z = draws(model, runs, seed)
    n_set, n_eff = len(model.settings), model.effect_line.size
    cut = np.cumsum([n_set, 1, 1, 1, 1, n_eff, 4, len(model.districts)])
    z_growth, z_pay, z_prices, z_need, z_eff, z_effects, z_levers, z_district, z_area = np.split(z, cut, axis=1)
    R, T, L, B = runs.size, len(model.years), len(model.lines), len(model.bands)

    # population: the small areas' own and their district's growth, contracted over areas per year
    contracted = contract_areas(z_district, z_area, model.area_district, model.population_by_area, model.deprivation,
                                a.half_district_migration / Z80, a.half_area_migration / Z80)   # views: no copies
    groups = contracted.shape[2] // 2
    pop = contracted[:, :, :groups].reshape(R, T, B, 2)
    need_pop = contracted[:, :, groups:].reshape(R, T, B, 2)

    eta = np.maximum(a.need_elasticity[None, :] * (1.0 + a.half_need / Z80 * z_need), 0.0)      # [R, L]
    plain = np.einsum("lbs,rtbs->rtlb", model.rate, pop)
    act0 = plain + eta[:, None, :, None] * np.einsum("lbs,rtbs->rtlb", model.rate, need_pop)
    growth = a.growth.T[None, :, :] + a.half_growth / Z80 * z_growth[:, model.setting_of_line][:, :, None]
    G = _index(growth).transpose(0, 2, 1)                                                         # [R, T, L]
    act_dn = act0 * G[..., None]
    pay = a.pay[None, :] + a.half_pay / Z80 * z_pay
    prices = a.prices[None, :] + a.half_prices / Z80 * z_prices
    I = _index(a.pay_share * pay + (1.0 - a.pay_share) * prices)                                  # [R, T]
    unit = a.unit_cost[None, :, :, None]                                                           # [1, T, L, 1]
    first_cost = (act0[:, 0] * a.unit_cost[0][None, :, None]).sum(axis=(1, 2))
    k = model.pool[0] / first_cost if a.reconcile else np.ones(R)
    price = unit * (k[:, None] * I)[:, :, None, None]                                              # [R, T, 1|L, 1]

    # schemes' effects and the rates discount's demand effect: additive changes in activity
    value = np.clip(model.effect_mid[None] + model.effect_sd[None] * z_effects[:, :, None], -1.0, 1.0)
    delta_e = (model.effect_profile[None] * value)[..., None] * model.effect_band[None, :, None, :]   # [R,E,T,B]
    residents = pop.sum(axis=(2, 3))
    working = (pop.sum(axis=3) * model.working_share).sum(axis=2)
    tax = health_tax_revenue(model.levers, residents, working, z_levers[:, 0])
    discount = rates_discount(model.levers, float(residents[0, 0]), working, z_levers[:, 1], z_levers[:, 2],
                              z_levers[:, 3])
    delta_v = discount.demand_change[:, :, None] * model.working_share[None, None, :]               # [R, T, B]
    total = np.zeros((R, T, L, B))
    np.add.at(total, (slice(None), slice(None), model.effect_line), delta_e.transpose(0, 2, 1, 3))
    total[:, :, model.demand_lines] += delta_v[:, :, None, :]
    clipped = np.maximum(total, -1.0)
    share = np.divide(clipped, total, out=np.ones_like(total), where=total != 0)                   # attribution

    source = act_dn[:, :, model.effect_line].transpose(0, 2, 1, 3)                                  # [R,E,T,B]
    change_e = source * delta_e * share[:, :, model.effect_line].transpose(0, 2, 1, 3)            # units
    cost_e = (change_e * price[:, :, model.effect_line].transpose(0, 2, 1, 3)).sum(axis=3)        # [R,E,T]
    has_sub = model.effect_substitute >= 0
    moved = -np.minimum(change_e, 0.0) * model.effect_ratio[None, :, None, None] * has_sub[None, :, None, None]
    sub_line = np.where(has_sub, model.effect_substitute, 0)
    sub_cost_e = (moved * price[:, :, sub_line].transpose(0, 2, 1, 3)).sum(axis=3)                # [R,E,T]
    change_v = act_dn[:, :, model.demand_lines] * (delta_v[:, :, None, :] * share[:, :, model.demand_lines])
    lever_cost = (change_v * price[:, :, model.demand_lines]).sum(axis=(2, 3))                      # [R, T]

    n_s = len(model.schemes)
    scheme_cost = np.zeros((R, n_s, T))
    scheme_sub = np.zeros((R, n_s, T))
    np.add.at(scheme_cost, (slice(None), model.effect_scheme), cost_e)
    np.add.at(scheme_sub, (slice(None), model.effect_scheme), sub_cost_e)

    dn_cost = (act_dn * price).sum(axis=(2, 3))                                                     # [R, T]
    programme = dn_cost + scheme_cost.sum(axis=1) + scheme_sub.sum(axis=1) + lever_cost
    eff = np.clip(a.efficiencies[None, :] * (1.0 + a.half_efficiencies / Z80 * z_eff), 0.0, 0.5)
    E = np.cumprod(1.0 - eff, axis=1)
    service = programme * E
    efficiency = service - programme
    investment = np.broadcast_to(np.array([s.investment for s in a.schemes]).reshape(n_s, T).sum(axis=0), (R, T))
    fund_drawn = np.broadcast_to(model.fund_drawn.sum(axis=0), (R, T))
    budget = np.broadcast_to(model.budget, (R, T))
    income = budget + fund_drawn + tax
    spend = service + investment + discount.cost
    gap = spend - income

    # activity after programmes, by line
    act_lines = act_dn.sum(axis=3)
    change_lines = np.zeros((R, T, L))
    np.add.at(change_lines, (slice(None), slice(None), model.effect_line), change_e.sum(axis=3).transpose(0, 2, 1))
    np.add.at(change_lines, (slice(None), slice(None), sub_line[has_sub]),
              moved[:, has_sub].sum(axis=3).transpose(0, 2, 1))
    change_lines[:, :, model.demand_lines] += change_v.sum(axis=3)
    avoided = -change_lines[:, :, model.admission_lines].sum(axis=2)
    emergency = -change_lines[:, :, model.emergency_line] if model.emergency_line >= 0 else np.zeros((R, T))
    bed_days = (-change_lines[:, :, model.bed_day_line] if model.bed_day_line >= 0 else 0.0) \
        + emergency * a.bed_days_per_emergency_admission
    at_home = -change_lines[:, :, model.care_home_lines].sum(axis=2) / WEEKS_PER_YEAR

    drivers = _drivers(model, k, plain, act0, act_dn, dn_cost, scheme_cost + scheme_sub, lever_cost,
                       discount.cost, tax, efficiency, gap)
    detail = None
    if cells:
        cell_spend = act_dn * (1.0 + clipped) * price
        moved_cost = moved * price[:, :, sub_line].transpose(0, 2, 1, 3)                            # [R,E,T,B]
        np.add.at(cell_spend, (slice(None), slice(None), model.effect_line), moved_cost.transpose(0, 2, 1, 3))
        detail = CentralCells(act0[0], (cell_spend * E[:, :, None, None])[0], eta[0])
    arrays = RunArrays(
        run=runs, budget=np.array(budget), income=income, spend=spend, service_spend=service,
        do_nothing_spend=dn_cost, investment=np.array(investment), fund_drawn=np.array(fund_drawn),
        tax_revenue=tax, rates_cost=discount.cost, absence_days=discount.absence_days_avoided,
        absence_value=discount.absence_value, efficiency=efficiency, gap=gap, calibration=k,
        residents=residents, working_age=working, scheme_cost=scheme_cost, scheme_substitution=scheme_sub,
        lever_demand_cost=lever_cost, activity=act_lines + change_lines, activity_do_nothing=act_lines,
        admissions_avoided=avoided, bed_days_saved=bed_days, people_at_home=at_home, drivers=drivers,
    )
    return arrays, detail


def _drivers(model, k, plain, act0, act_dn, dn_cost, scheme_total, lever_cost, rates_cost, tax, efficiency,
             gap) -> np.ndarray:
    """[R, K] the final year's gap as the first year's gap plus one term per driver (telescoping)."""
    uc0 = model.assumptions.unit_cost[0][None, :, None]
    last = -1
    unweighted = (plain * uc0).sum(axis=(2, 3))                                                      # [R, T]
    step1 = dn_cost[:, 0] * unweighted[:, last] / unweighted[:, 0]            # population only
    step2 = k * (act0[:, last] * uc0).sum(axis=(1, 2))                        # and need
    step3 = k * (act_dn[:, last] * uc0).sum(axis=(1, 2))                      # and non-demographic growth
    step4 = dn_cost[:, last]                                                  # and prices (inflation)
    inv = np.array([s.investment for s in model.assumptions.schemes]).reshape(len(model.schemes), len(model.years))
    scheme_net = scheme_total + (inv - model.fund_drawn)[None]                # [R, S, T]
    columns = [gap[:, 0], step1 - dn_cost[:, 0], step2 - step1, step3 - step2, step4 - step3,
               *(scheme_net[:, s, last] - scheme_net[:, s, 0] for s in range(scheme_net.shape[1])),
               efficiency[:, last] - efficiency[:, 0], -(tax[:, last] - tax[:, 0]),
               (lever_cost[:, last] + rates_cost[:, last]) - (lever_cost[:, 0] + rates_cost[:, 0]),
               -(model.budget[last] - model.budget[0]) * np.ones_like(k)]
    return np.stack(columns, axis=1)
