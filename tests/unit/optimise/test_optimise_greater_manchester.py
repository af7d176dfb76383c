"""On the Greater Manchester pack: the forecast's runs taken apart exactly, and the optimiser beating
the deal's own portfolio and one-at-a-time ranking on the same runs."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from devolve.engines.optimise import evaluate
from devolve.services.forecast import run_forecast
from devolve.services.optimise import optimise_portfolio

DEAL = "greater-manchester-2016"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("no-data")


@pytest.fixture(scope="module")
def balance(data_dir):
    return optimise_portfolio(DEAL, objective="balance", runs=200, seed=3, data_dir=data_dir)


def test_the_deal_portfolio_reproduces_the_forecast(balance, data_dir):
    forecast = run_forecast(DEAL, scenario="plan", runs=200, seed=3, data_dir=data_dir)
    mine = evaluate(balance.problem, balance.problem.baseline_scales)
    assert mine.probability_of_balance == pytest.approx(forecast.forecast.probability_of_balance, abs=1e-12)
    runs = forecast.forecast.run_table
    cumulative = runs.group_by("run").agg(pl.col("gap_gbp").sum()).sort("run")["gap_gbp"].to_numpy()
    assert np.allclose(mine.gap_by_run, cumulative, rtol=1e-9, atol=1.0)


def test_optimiser_beats_the_deal_and_one_at_a_time(balance):
    rows = {r["portfolio"]: r for r in balance.comparison.iter_rows(named=True)}
    best = rows["optimiser"]["probability_of_balance"]
    assert rows["optimiser"]["meets_constraints"]
    assert best > rows["deal's own portfolio"]["probability_of_balance"]
    assert best > rows["one at a time"]["probability_of_balance"]
    j = balance.to_json()
    assert j["status"] == "optimal" and j["optimality_gap"] <= 0.001
    assert j["probability_of_balance"] == best
    assert j["baseline_probability_of_balance"] == rows["deal's own portfolio"]["probability_of_balance"]
    assert sum(c["investment_gbp"] for c in j["chosen"]) <= j["fund_gbp"] + 1


def test_the_rules_of_the_pack_hold(balance):
    chosen = {c["scheme"]: c["scale"] for c in balance.to_json()["chosen"]}
    if "neighbourhood-teams" in chosen:
        assert "digital" in chosen
    assert "estate" not in chosen        # no effect on the forecast: never worth its £30m
    assert evaluate(balance.problem, balance.result.scales).feasible


def test_frontier_rises_with_the_fund(balance):
    frontier = balance.frontier
    p = frontier["probability_of_balance"].to_numpy()
    assert frontier.height >= 9 and (frontier["status"] == "optimal").all()
    assert np.all(np.diff(p) >= -1e-12)
    at_fund = frontier.filter(frontier["fund_gbp"] == balance.problem.fund_gbp)["probability_of_balance"][0]
    assert at_fund == pytest.approx(balance.result.portfolio.probability_of_balance)


def test_benefit_objective_beats_the_deal(data_dir):
    result = optimise_portfolio(DEAL, objective="benefit", runs=100, seed=1, with_frontier=False, data_dir=data_dir)
    rows = {r["portfolio"]: r for r in result.comparison.iter_rows(named=True)}
    assert rows["optimiser"]["expected_net_benefit_gbp"] > rows["deal's own portfolio"]["expected_net_benefit_gbp"]
    assert rows["optimiser"]["expected_net_benefit_gbp"] >= rows["one at a time"]["expected_net_benefit_gbp"] - 1e-3


def test_min_fund_reaches_the_target_for_less(data_dir):
    result = optimise_portfolio(DEAL, objective="min-fund", target=0.55, runs=100, seed=1, with_frontier=False,
                                data_dir=data_dir)
    j = result.to_json()
    assert j["probability_of_balance"] >= 0.55
    assert j["fund_gbp"] == pytest.approx(j["investment_gbp"])
    assert j["fund_gbp"] < 450e6
