"""Helpers of the flow tests: queueing models with known answers, and a loaded deal (a fixture).

Imported by the flow tests as `flow_helpers` (a unique name: no conftest clash across folders).
"""

from __future__ import annotations

from datetime import date

import pytest

from devolve.engines.flow.model import AgeGroup, DischargeModel, Pathway
from devolve.packs.loader import load_deal


def single_queue_model(*, arrivals_per_day: float, mean_service_days: float, servers: int, days: int = 1000,
                       warm_up_days: int = 100, service_cv: float = 1.0) -> DischargeModel:
    """Every patient goes to pathway 1 (home_support) after a short acute stay; beds never run out.

    Admissions are Poisson with a constant rate and acute stays independent, so referrals to the
    pathway are Poisson too: with service_cv = 1 (exponential stays) the pathway is M/M/c.
    """
    group = AgeGroup("everyone", 1.0, 0.2, 1.0, (0.0, 1.0, 0.0, 0.0))
    pathways = (Pathway("home_support", servers, mean_service_days, service_cv, 10.0),
                Pathway("bedded_reablement", 1, 1.0, 1.0, 10.0),
                Pathway("care_home", 1, 1.0, 1.0, 10.0))
    return DischargeModel(admissions_per_year=arrivals_per_day * 365.0, age_groups=(group,), pathways=pathways,
                          acute_beds=1_000_000, full_bed_base="escalate", bed_day_cost=313.0,
                          start=date(2016, 4, 1), days=days, warm_up_days=warm_up_days, label="M/M/c test")


@pytest.fixture(scope="session")
def gm_deal(tmp_path_factory):
    """Greater Manchester with synthetic small areas (no official data files)."""
    return load_deal("greater-manchester-2016", data_dir=tmp_path_factory.mktemp("no-data"))
