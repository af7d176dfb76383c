"""Workforce by competency: demand from activity, supply by role, and cover across job titles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devolve.engines.forecast.workforce import WorkforcePlan, cover_gaps, demand_fte, read_workforce, supply_fte
from devolve.packs.loader import load_deal

YEARS = ("2016/17", "2017/18")


def _plan(covers=((0,), (1, 0)), per_100k=(100.0, 100.0)) -> WorkforcePlan:
    return WorkforcePlan(("nursing", "personal_care"), ("nurse", "care_worker"),
                         hours=np.array([[2.0, 0.0], [0.0, 1.0]]), hours_per_fte=np.array([1000.0, 1000.0]),
                         role_competencies=covers, fte_per_100k=np.array(per_100k),
                         supply_growth=np.zeros((2, 2)))


def test_demand_is_activity_times_hours_over_hours_per_fte():
    activity = np.array([[[1000.0, 5000.0], [2000.0, 5000.0]]])   # [R, T, L]
    np.testing.assert_allclose(demand_fte(_plan(), activity)[0], [[2.0, 5.0], [4.0, 5.0]])


def test_supply_grows_from_the_first_years_staff_per_100k_residents():
    plan = _plan()
    plan = WorkforcePlan(**{**plan.__dict__, "supply_growth": np.array([[0.0, 0.0], [0.1, 0.0]])})
    np.testing.assert_allclose(supply_fte(plan, 200_000), [[200.0, 200.0], [220.0, 200.0]])


def test_a_role_with_staff_to_spare_covers_another_competency_it_is_trained_for():
    # nurses short by 30 FTE; care workers (main: personal care, also nursing) have 50 to spare
    gaps, cover = cover_gaps(_plan(), np.array([[130.0, 50.0]] * 2), np.array([[100.0, 100.0]] * 2), YEARS)
    first = gaps.filter(gaps["year"] == YEARS[0])
    assert first["gap_fte"].to_list() == [30.0, -50.0]
    assert first["gap_after_cover_fte"].to_list() == [0.0, 0.0]
    assert cover.row(0, named=True) == {"year": YEARS[0], "competency": "nursing", "role": "care_worker", "fte": 30.0}


def test_a_role_that_is_not_trained_for_a_competency_cannot_cover_it():
    gaps, cover = cover_gaps(_plan(covers=((0,), (1,))), np.array([[130.0, 50.0]] * 2),
                             np.array([[100.0, 100.0]] * 2), YEARS)
    assert cover.height == 0 and gaps["gap_after_cover_fte"].to_list()[0] == 30.0


@settings(max_examples=100, deadline=None)
@given(demand=st.lists(st.floats(0, 1e4), min_size=2, max_size=2),
       supply=st.lists(st.floats(0, 1e4), min_size=2, max_size=2))
def test_cover_never_exceeds_spare_staff_nor_the_gap(demand, supply):
    d, s = np.array([demand, demand]), np.array([supply, supply])
    gaps, cover = cover_gaps(_plan(), d, s, YEARS)
    first = gaps.filter(gaps["year"] == YEARS[0])
    short = np.maximum(d[0] - s[0], 0)
    moved = cover.filter(cover["year"] == YEARS[0])["fte"].sum() if cover.height else 0.0
    assert moved <= max(s[0][1] - d[0][1], 0) + 1e-9
    np.testing.assert_allclose(first["gap_after_cover_fte"].to_numpy(), short - np.array([moved, 0.0]), atol=1e-6)


def test_the_national_workforce_parameters_are_read(tmp_path):
    deal = load_deal("greater-manchester-2016", data_dir=tmp_path)
    lines = tuple(s.id for s in deal.service_lines)
    plan = read_workforce(deal.parameters, deal.financial_years, lines)
    assert {"nursing", "personal_care", "therapy", "prescribing", "diagnostics", "social_work"} <= set(plan.competencies)
    assert "care_worker" in plan.roles and plan.hours.shape == (len(lines), len(plan.competencies))
    assert plan.hours[lines.index("home_care_hour"), plan.competencies.index("personal_care")] == pytest.approx(1.0)
