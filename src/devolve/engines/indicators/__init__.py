"""Outcomes and inequalities: indicators as data, age-standardised rates, the slope and relative
indices of inequality across deprivation, SPC charts in the "Making Data Count" style, and which
target applies to a deal (national, local or exempt). Pure functions over a :class:`Deal`.
See docs/method/indicators.md."""

from devolve.engines.indicators.definitions import (AgeRange, Catalogue, Indicator, IndicatorError, Measure, Rule,
                                                    StandardPopulation)
from devolve.engines.indicators.engine import (Assessment, IndicatorReport, IndicatorsOutcome, compute_indicators,
                                               deal_units, district_units, neighbourhood_units)
from devolve.engines.indicators.inequality import SlopeIndex, assign_deciles, slope_index
from devolve.engines.indicators.readiness import Readiness, readiness
from devolve.engines.indicators.rules import Decision, decide, rate
from devolve.engines.indicators.spc import SpcChart, xmr_chart
from devolve.engines.indicators.standardise import crude_rate, directly_standardised_rate, proportion

__all__ = ["AgeRange", "Assessment", "Catalogue", "Decision", "Indicator", "IndicatorError", "IndicatorReport",
           "IndicatorsOutcome", "Measure", "Readiness", "Rule", "SlopeIndex", "SpcChart", "StandardPopulation",
           "assign_deciles", "compute_indicators", "crude_rate", "deal_units", "decide", "directly_standardised_rate",
           "district_units", "neighbourhood_units", "proportion", "rate", "readiness", "slope_index", "xmr_chart"]
