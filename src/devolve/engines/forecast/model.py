"""Build the forecast model: the deterministic arrays every Monte Carlo run shares.

:func:`build_model` turns a deal (with a scenario's parameters in force) into a
:class:`ForecastModel` of plain NumPy arrays — small-area population projected year by year, the
need-weighted population, activity rates, unit costs, the schemes' effects and money — that the
run kernel (:mod:`devolve.engines.forecast.simulate`) reads and never changes. It is picklable, so
a Dask worker receives it once.

Need: an area's deprivation score is ``d = 1 − 2·(rank − ½)/N`` from its IMD rank among England's
N = 32,844 small areas (+1 most deprived, −1 least, 0 on average over England); with the IMD decile
only, the decile's midpoint. Activity per person is ``rate × (1 + η_setting · d)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from devolve.domain.errors import InputError
from devolve.domain.parameters import ParameterSet
from devolve.domain.records import Deal
from devolve.engines.fiscal.levers import WORKING_AGES, FiscalLevers, read_levers
from devolve.engines.forecast.assumptions import ForecastAssumptions, read_assumptions
from devolve.engines.forecast.population import SEXES, district_adjustments, project

IMD_AREAS = 32_844  # small areas ranked by the English IoD2019
#: The mid-year of the packs' small-area populations (IoD2019 denominators: ONS mid-2015).
POPULATION_BASE_YEAR = 2015
#: The service lines the activity outputs count, by their national ids (absent lines count nothing).
ADMISSION_LINES = ("emergency_admission", "elective_admission", "day_case")
EMERGENCY_LINE = "emergency_admission"
BED_DAY_LINE = "excess_bed_day"
CARE_HOME_LINES = ("residential_care_week", "nursing_care_week")
WEEKS_PER_YEAR = 52.0


@dataclass(frozen=True)
class ForecastModel:
    years: tuple[str, ...]
    lines: tuple[str, ...]
    bands: tuple[str, ...]
    districts: tuple[str, ...]
    area_district: np.ndarray        # [A] district index of each small area
    deprivation: np.ndarray          # [A] deprivation score, −1..+1
    population_by_area: np.ndarray   # [A, T, G] central projection (G = band × 2 + sex), areas first
    rate: np.ndarray                 # [L, B, S] activity per person a year
    setting_of_line: np.ndarray      # [L] index into SETTINGS
    settings: tuple[str, ...]
    assumptions: ForecastAssumptions
    levers: FiscalLevers
    pool: np.ndarray                 # [T] the deal's pooled budget, pounds
    budget: np.ndarray               # [T] pool with any budget growth
    fund: np.ndarray                 # [T] transformation fund, pounds
    fund_drawn: np.ndarray           # [S, T] fund drawn to pay each scheme's investment
    working_share: np.ndarray        # [B] share of each band aged 16-64
    carry_forward_limit: float
    # effects stacked: E effects of schemes
    effect_scheme: np.ndarray        # [E]
    effect_line: np.ndarray          # [E]
    effect_band: np.ndarray          # [E, B]
    effect_mid: np.ndarray           # [E, T]
    effect_sd: np.ndarray            # [E, T]
    effect_profile: np.ndarray       # [E, T]
    effect_substitute: np.ndarray    # [E] (−1: none)
    effect_ratio: np.ndarray         # [E]
    demand_lines: np.ndarray         # [V] lines the rates discount's demand effect touches
    admission_lines: np.ndarray      # indices present in this deal
    emergency_line: int
    bed_day_line: int
    care_home_lines: np.ndarray

    @property
    def runs_draws(self) -> int:
        """How many standard normals one run draws (scalars, then districts, then areas)."""
        return len(self.settings) + 4 + len(self.effect_line) + 4 + len(self.districts) + self.area_district.size

    @property
    def schemes(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.assumptions.schemes)

    @property
    def population(self) -> np.ndarray:
        """[T, A, G] the central projection by year (a view of ``population_by_area``)."""
        return self.population_by_area.transpose(1, 0, 2)


def deprivation_scores(small_areas: pl.DataFrame) -> np.ndarray:
    """Deprivation score of each small area from its IMD rank (or decile): +1 most, −1 least deprived."""
    rank = small_areas["imd_rank"].cast(pl.Float64).to_numpy() if "imd_rank" in small_areas.columns else None
    decile = small_areas["imd_decile"].cast(pl.Float64).to_numpy()
    from_decile = 1.0 - 2.0 * (decile - 0.5) / 10.0
    if rank is None:
        score = from_decile
    else:
        score = np.where(np.isnan(rank), from_decile, 1.0 - 2.0 * (rank - 0.5) / IMD_AREAS)
    if np.isnan(score).any():
        raise InputError("every small area needs an IMD rank or decile for the need adjustment")
    return np.clip(score, -1.0, 1.0)


def base_population(deal: Deal) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """[A, G] base population (the pack's mid-2015 estimates), area district index, district codes."""
    areas = deal.small_areas["code"]
    codes = tuple(d.code for d in deal.districts)
    area_index = pl.DataFrame({"area": areas, "a": np.arange(areas.len())})
    group_index = pl.DataFrame({
        "age_band": [b for b in deal.age_bands for _ in SEXES], "sex": [s for _ in deal.age_bands for s in SEXES],
        "g": np.arange(len(deal.age_bands) * len(SEXES))})
    rows = (deal.population.join(area_index, on="area").join(group_index, on=["age_band", "sex"])
            .select("a", "g", "population"))
    base = np.zeros((areas.len(), group_index.height))
    base[rows["a"].to_numpy(), rows["g"].to_numpy()] = rows["population"].to_numpy()
    district_of = {c: i for i, c in enumerate(codes)}
    area_district = np.array([district_of[c] for c in deal.small_areas["district"].to_list()])
    return base, area_district, codes


def activity_rates(deal: Deal, lines: tuple[str, ...]) -> np.ndarray:
    """[L, B, S] activity per person a year (the pack's rates per 1,000, divided by 1,000)."""
    rates = np.zeros((len(lines), len(deal.age_bands), len(SEXES)))
    index = {(line, band, sex): (i, j, k) for i, line in enumerate(lines)
             for j, band in enumerate(deal.age_bands) for k, sex in enumerate(SEXES)}
    for line, band, sex, rate in deal.activity_rates.select("service_line", "age_band", "sex",
                                                            "rate_per_1000").iter_rows():
        if (line, band, sex) in index:
            rates[index[(line, band, sex)]] = rate / 1000.0
    return rates


def _fund_drawn(investment: np.ndarray, fund: np.ndarray) -> np.ndarray:
    """[S, T] fund drawn for each scheme: the year's investment, as far as the fund (with any
    unspent balance of earlier years) covers it, shared pro rata."""
    total = investment.sum(axis=0)
    drawn = np.zeros_like(total)
    balance = 0.0
    for t in range(total.size):  # five years: the fund's balance carries from year to year
        balance += fund[t]
        drawn[t] = min(total[t], balance)
        balance -= drawn[t]
    share = np.divide(investment, total[None, :], out=np.zeros_like(investment), where=total[None, :] > 0)
    return share * drawn[None, :]


def build_model(deal: Deal, parameters: ParameterSet | None = None, *,
                cohort_rates: pl.DataFrame | None = None) -> ForecastModel:
    """The deterministic arrays of the forecast for ``deal`` under ``parameters``.

    ``cohort_rates`` (optional, from :func:`population.cohort_rates_from_estimates`) gives each
    district's own cohort change and births relative to England's.
    """
    assumptions = read_assumptions(deal, parameters)
    params = parameters if parameters is not None else deal.parameters
    lines = assumptions.lines
    levers = read_levers(params, assumptions.years, lines)
    base, area_district, districts = base_population(deal)
    change_adj, births_adj = district_adjustments(cohort_rates, districts, assumptions.bands)
    lead = max(0, assumptions.years[0].start_year - POPULATION_BASE_YEAR)   # to the first year's mid-point
    population = project(base, area_district, assumptions.cohort_rates, assumptions.bands, change_adj, births_adj,
                         lead_steps=lead)
    deprivation = deprivation_scores(deal.small_areas)
    settings = tuple(dict.fromkeys(("hospital", "primary_care", "community", "mental_health", "prescribing",
                                    "social_care") + assumptions.settings))
    years = assumptions.years
    pool = np.array([deal.pooled_budget[y] / 100 for y in years])
    growth_index = np.concatenate([[1.0], np.cumprod(1.0 + assumptions.budget_growth[1:])])
    fund = np.array([deal.transformation_fund.get(y, 0) / 100 for y in years])
    investment = np.array([s.investment for s in assumptions.schemes]).reshape(len(assumptions.schemes), len(years))
    effects = assumptions.effects
    n_bands = len(assumptions.bands)
    index = {line: i for i, line in enumerate(lines)}
    present = lambda names: np.array([index[n] for n in names if n in index], dtype=int)  # noqa: E731
    return ForecastModel(
        years=tuple(y.label for y in years), lines=lines, bands=tuple(b.label for b in assumptions.bands),
        districts=districts, area_district=area_district, deprivation=deprivation,
        population_by_area=np.ascontiguousarray(population.transpose(1, 0, 2)),
        rate=activity_rates(deal, lines),
        setting_of_line=np.array([settings.index(s) for s in assumptions.settings]), settings=settings,
        assumptions=assumptions, levers=levers, pool=pool, budget=pool * growth_index, fund=fund,
        fund_drawn=_fund_drawn(investment, fund),
        working_share=np.array([b.share_of_ages(*WORKING_AGES) for b in assumptions.bands]),
        carry_forward_limit=float(deal.governance.carry_forward_limit),
        effect_scheme=np.array([e.scheme for e in effects], dtype=int),
        effect_line=np.array([e.line for e in effects], dtype=int),
        effect_band=np.array([e.band_share for e in effects]).reshape(len(effects), n_bands),
        effect_mid=np.array([(e.low + e.high) / 2 for e in effects]).reshape(len(effects), len(years)),
        effect_sd=np.array([(e.high - e.low) / 2 / 1.2815515655446004 for e in effects]).reshape(
            len(effects), len(years)),
        effect_profile=np.array([e.profile for e in effects]).reshape(len(effects), len(years)),
        effect_substitute=np.array([e.substitute for e in effects], dtype=int),
        effect_ratio=np.array([e.substitute_ratio for e in effects]),
        demand_lines=present(levers.demand_lines),
        admission_lines=present(ADMISSION_LINES),
        emergency_line=index.get(EMERGENCY_LINE, -1), bed_day_line=index.get(BED_DAY_LINE, -1),
        care_home_lines=present(CARE_HOME_LINES),
    )
