"""The fiscal levers read from a deal's dated parameters, and their behaviour over runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devolve.domain.errors import ParameterError
from devolve.engines.fiscal import health_tax_revenue, rates_discount, read_levers
from devolve.packs.loader import load_deal


@pytest.fixture(scope="module")
def deal(tmp_path_factory):
    return load_deal("greater-manchester-2016", data_dir=tmp_path_factory.mktemp("no-data"))


def _with(parameters, path, *values):
    return parameters.replaced(path, replace(parameters[path], values=tuple(values)))


def test_the_levers_are_off_by_default(deal):
    levers = read_levers(deal.parameters, deal.financial_years, tuple(s.id for s in deal.service_lines))
    assert not levers.tax_on and not levers.discount_on
    residents = np.full((3, 5), 2.8e6)
    assert not health_tax_revenue(levers, residents, residents * 0.6, np.zeros(3)).any()
    outcome = rates_discount(levers, 2.8e6, residents * 0.6, np.zeros(3), np.zeros(3), np.zeros(3))
    assert not outcome.cost.any() and not outcome.demand_change.any()


def test_a_precept_from_a_later_year_raises_money_from_that_year(deal):
    lines = tuple(s.id for s in deal.service_lines)
    params = _with(deal.parameters, "fiscal.health_precept.gbp_per_band_d", (date(2016, 4, 1), 0), (date(2017, 4, 1), 50))
    levers = read_levers(params, deal.financial_years, lines)
    assert levers.tax_on
    revenue = health_tax_revenue(levers, np.full((1, 5), 1e6), np.full((1, 5), 6e5), np.zeros(1))[0]
    assert revenue[0] == 0
    assert revenue[1] == pytest.approx(50 * 0.3 * 1e6 * 0.97)


def test_the_cited_business_rates_multiplier_is_read_year_by_year(deal):
    levers = read_levers(deal.parameters, deal.financial_years, tuple(s.id for s in deal.service_lines))
    assert levers.multiplier.tolist() == [0.497, 0.479, 0.493, 0.504, 0.512]


def test_demand_lines_must_be_service_lines_of_the_deal(deal):
    params = _with(deal.parameters, "fiscal.rates_discount.demand_lines", (date(2016, 4, 1), "gp_consultation;yoga"))
    with pytest.raises(ParameterError, match="yoga"):
        read_levers(params, deal.financial_years, tuple(s.id for s in deal.service_lines))


def test_a_share_above_one_is_refused(deal):
    params = _with(deal.parameters, "fiscal.rates_discount.discount", (date(2016, 4, 1), 1.5))
    with pytest.raises(ParameterError, match="between 0 and 1"):
        read_levers(params, deal.financial_years, tuple(s.id for s in deal.service_lines))


@settings(max_examples=40, deadline=None)
@given(discount=st.floats(0.01, 1.0), uptake=st.floats(0.0, 1.0), z=st.floats(-5, 5))
def test_a_bigger_discount_costs_more_and_a_central_or_better_effect_cuts_demand(deal, discount, uptake, z):
    lines = tuple(s.id for s in deal.service_lines)
    params = _with(deal.parameters, "fiscal.rates_discount.discount", (date(2016, 4, 1), discount))
    params = _with(params, "fiscal.rates_discount.uptake", (date(2016, 4, 1), uptake))
    levers = read_levers(params, deal.financial_years, lines)
    working = np.full((1, 5), 1.7e6)
    draws = np.array([z])
    small = rates_discount(levers, 2.8e6, working, draws, draws, draws)
    double = rates_discount(replace(levers, discount=np.minimum(levers.discount * 2, 1.0)), 2.8e6, working, draws,
                            draws, draws)
    assert (double.cost >= small.cost - 1e-6).all()
    assert (small.cost >= 0).all() and (small.absence_days_avoided >= 0).all()
    if z <= 0:  # the default effect's interval is centred below zero
        assert (small.demand_change <= 0).all()
    assert (np.abs(small.demand_change) <= 1.0).all()
