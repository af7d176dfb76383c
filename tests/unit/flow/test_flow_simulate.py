"""Replications: reproducible from a seed, independent of threads, paired across scenarios."""

from __future__ import annotations

import numpy as np
import pytest

from devolve.domain.errors import InputError
from devolve.engines.flow import example_model, paired_difference, simulate
from devolve.engines.flow.simulate import run_replications


def test_the_same_seed_gives_the_same_result():
    model = example_model()
    first = simulate(model, replications=6, seed=42)
    again = simulate(model, replications=6, seed=42)
    assert first.per_replication.equals(again.per_replication)
    assert first.daily.equals(again.daily)
    assert first.summary == again.summary


def test_another_seed_gives_another_result():
    model = example_model()
    a = simulate(model, replications=4, seed=1).per_replication["bed_days"].to_numpy()
    b = simulate(model, replications=4, seed=2).per_replication["bed_days"].to_numpy()
    assert not np.array_equal(a, b)


def test_the_result_does_not_depend_on_the_number_of_threads():
    model = example_model()
    one, _ = run_replications(model, 30, 9, threads=1)
    many, _ = run_replications(model, 30, 9, threads=3)
    assert np.array_equal(one, many)


def test_a_replication_is_the_same_alone_or_in_a_larger_batch():
    model = example_model()
    few, _ = run_replications(model, 3, 4)
    more, _ = run_replications(model, 8, 4)
    assert np.array_equal(few, more[:3])


def test_capacity_does_not_change_what_is_drawn():
    """Common random numbers: the same patients arrive whatever the capacity."""
    model = example_model(full_bed_base="escalate")
    base = simulate(model, replications=5, seed=8).per_replication
    more = simulate(model.with_capacity(home_support=200, care_home=40), replications=5, seed=8).per_replication
    assert base["arrivals"].equals(more["arrivals"])
    assert base["acute_los_days"].equals(more["acute_los_days"])
    assert base["referrals_home_support"].equals(more["referrals_home_support"])


@pytest.mark.parametrize("pathway,extra", [("home_support", 12), ("bedded_reablement", 4), ("care_home", 6)])
def test_more_capacity_never_increases_mean_delay_beyond_noise(pathway, extra):
    model = example_model(days=200).with_capacity(home_support=126, bedded_reablement=8, care_home=8)
    base = simulate(model, replications=20, seed=21).per_replication["delayed_days"].to_numpy()
    capacity = model.pathway(pathway).capacity
    more = simulate(model.with_capacity(**{pathway: capacity + extra}), replications=20,
                    seed=21).per_replication["delayed_days"].to_numpy()
    change = paired_difference(more, base)   # paired by replication: common random numbers
    assert change.mean <= change.half_width
    assert change.low <= 0.0


def test_one_replication_has_no_interval():
    summary = simulate(example_model(days=10, warm_up_days=0), replications=1, seed=0).summary
    assert summary.delayed_days.ci is None
    assert summary.occupancy.n == 1


@pytest.mark.parametrize("replications", [0, -3, 1.5, True, 100_001])
def test_bad_replications_are_refused(replications):
    with pytest.raises(InputError, match="replications"):
        simulate(example_model(), replications=replications)


@pytest.mark.parametrize("seed", [-1, 2.5, "7"])
def test_bad_seeds_are_refused(seed):
    with pytest.raises(InputError, match="seed"):
        simulate(example_model(), replications=2, seed=seed)


def test_zero_places_keeps_everyone_for_that_pathway_in_hospital():
    model = example_model(days=60, warm_up_days=0).with_capacity(care_home=0)
    run = simulate(model, replications=3, seed=2)
    table = run.per_replication
    assert table["started_care_home"].sum() == 0
    assert table["discharged_care_home"].sum() == 0
    assert (table["queue_days_care_home"] > 0).all()
    assert run.summary.pathways[2].utilisation.n == 0   # no places: utilisation undefined
