"""The five-year forecast: population, activity, cost, workforce and balance, with Monte Carlo runs.

Pipeline (each step a pure function over plain inputs):

1. :func:`read_assumptions` — the deal's dated parameters (with a scenario's changes) by year;
2. :func:`build_model` — the arrays every run shares (projected small-area population, need,
   rates, unit costs, schemes' effects, money);
3. :func:`simulate` — any set of runs by index, vectorised; a run's numbers depend only on the
   seed and its index, so chunks may run anywhere (the service spreads them over Dask workers);
4. :func:`summarise` — percentiles by year, the decomposition, schemes, levers, activity,
   workforce, population and places.

The method, with formulas and sources, is in ``docs/method/forecast.md``.
"""

from devolve.engines.forecast.assumptions import ForecastAssumptions, read_assumptions, scheme_parameters
from devolve.engines.forecast.budget import BudgetPosition, apply_budget_rules
from devolve.engines.forecast.model import ForecastModel, build_model
from devolve.engines.forecast.population import cohort_rates_from_estimates, parse_bands
from devolve.engines.forecast.simulate import CentralCells, RunArrays, central_cells, driver_names, simulate
from devolve.engines.forecast.summary import Forecast, summarise

__all__ = ["BudgetPosition", "CentralCells", "Forecast", "ForecastAssumptions", "ForecastModel", "RunArrays",
           "apply_budget_rules", "build_model", "central_cells", "cohort_rates_from_estimates", "driver_names",
           "parse_bands", "read_assumptions", "scheme_parameters", "simulate", "summarise"]
